"""Visitor event rate limits: messages, page views and typing reports are counted per visitor;
past the configured number in the window each is refused with a clear error acknowledgement (and
not handled), other visitors are unaffected, and the visitor may go on once the window ends."""
import time

import pytest
import redis

WINDOW_SECONDS = 3  # long enough to trip on a loaded machine, short enough to wait out
LIMITS = {
    "SWITCHBOARD_VISITOR_RATE_WINDOW_SECONDS": str(WINDOW_SECONDS),
    "SWITCHBOARD_VISITOR_MAX_MESSAGES": "3",
    "SWITCHBOARD_VISITOR_MAX_PAGE_VIEWS": "2",
    "SWITCHBOARD_VISITOR_MAX_TYPING": "4",
}
REFUSED = {"ok": False, "error": {"code": "rate_limited",
                                  "message": "You are sending too fast: wait a moment and try again."}}


@pytest.fixture(autouse=True)
def fresh_counters(backend):
    """In production mode the counts sit in the shared Redis; no test may inherit another's."""
    if backend.env.get("REDIS_URL"):
        connection = redis.Redis.from_url(backend.env["REDIS_URL"])
        for key in connection.scan_iter("switchboard:limits:visitor:*"):
            connection.delete(key)


def _page_view(visitor, n: int) -> dict:
    return visitor.call("page:view", {"url": f"https://shop.example/page-{n}", "title": f"Page {n}"})


def test_messages_past_the_limit_are_refused_not_stored_and_allowed_after_the_window(
        start_server, make_tenant, clients):
    server = start_server(LIMITS)
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    started = time.monotonic()
    for n in range(3):
        assert visitor.send(f"message {n}")["ok"]
    assert visitor.send("one too many") == REFUSED
    assert visitor.start() == REFUSED  # starting a conversation counts as a message too
    assert [m["body"] for m in visitor.history()["messages"]] == ["message 0", "message 1", "message 2"]
    assert clients.visitor(server, tenant).send("another visitor is not held back")["ok"]

    time.sleep(max(0.0, WINDOW_SECONDS + 0.2 - (time.monotonic() - started)))
    assert visitor.send("after the window")["ok"]
    assert [m["body"] for m in visitor.history()["messages"]][-1] == "after the window"


def test_page_views_and_typing_have_their_own_limits(start_server, make_tenant, clients):
    server = start_server(LIMITS)
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    for n in range(2):
        assert _page_view(visitor, n)["ok"]
    assert _page_view(visitor, 2) == REFUSED
    assert visitor.send("page views spent, messages are not")["ok"]
    for n in range(4):
        assert visitor.call("typing", {"draft": "h" * (n + 1)})["ok"]
    assert visitor.call("typing", {"draft": "hello"}) == REFUSED
    # Invalid payloads are refused by validation and do not count: the next good one goes through.
    other = clients.visitor(server, tenant)
    for _ in range(3):
        assert other.call("page:view", {"url": 12})["error"]["code"] == "invalid_payload"
    assert _page_view(other, 0)["ok"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_visitor_is_counted_across_server_processes(start_server, make_tenant, clients):
    first, second = start_server(LIMITS, name="first"), start_server(LIMITS, name="second")
    tenant = make_tenant()
    on_first = clients.visitor(first, tenant)
    assert on_first.send("one")["ok"] and on_first.send("two")["ok"]
    on_second = clients.visitor(second, tenant, token=on_first.token)
    assert on_second.send("three")["ok"]
    assert on_second.send("four") == REFUSED
