"""Bad input, over Socket.IO and HTTP, against the live server: every bad input gets a clear,
specific error, nothing is stored wrongly, and the server goes on serving everyone else."""
import queue
import uuid

import pytest
import requests
import socketio

from tenants import provisioning, registry
from tests.clients import TIMEOUT, csrf_token, login, new_client_id
from tests.conftest import PASSWORD

SERVER_SIDE_CODES = {"unavailable", "server_error"}  # "our fault, retry": never the answer to bad input


# --- helpers -------------------------------------------------------------------------------

def refused(url: str, namespace: str, auth, headers: dict | None = None) -> list:
    """Connect expecting a refusal (ConnectionError); return the connect_error payloads received."""
    sio = socketio.Client(reconnection=False)
    said = []
    sio.on("connect_error", lambda *data: said.append(data[0] if len(data) == 1 else data), namespace=namespace)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError) as raised:
            sio.connect(url, namespaces=[namespace], auth=auth, headers=headers or {},
                        transports=["websocket"], wait_timeout=TIMEOUT)
    finally:
        if sio.connected:
            sio.disconnect()
    assert namespace in str(raised.value)  # python-socketio's text only names the namespace...
    assert said, "refused without a connect_error payload"
    return said  # ...the server's reason arrives in connect_error


def assert_error(reply, codes: set, label: str = "") -> None:
    """ok False, one of ``codes``, and a message meant for a person."""
    assert isinstance(reply, dict) and reply.get("ok") is False, (label, reply)
    error = reply.get("error") or {}
    assert error.get("code") in codes, (label, reply)
    message = error.get("message")
    assert isinstance(message, str) and len(message) >= 10 and "Traceback" not in message, (label, reply)


def collect_errors(checks) -> None:
    """Run (label, reply, codes) checks; report every mismatch at once instead of the first."""
    failures = []
    for label, reply, codes in checks:
        try:
            assert_error(reply, codes, label)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


# --- visitor message:send ------------------------------------------------------------------

BAD_VISITOR_SENDS = [
    # label, payload builder, acceptable error codes
    ("empty body", lambda: {"client_id": new_client_id(), "body": ""}, {"empty_message"}),
    ("whitespace body", lambda: {"client_id": new_client_id(), "body": "   \n\t "}, {"empty_message"}),
    ("5001 characters", lambda: {"client_id": new_client_id(), "body": "x" * 5001}, {"message_too_long"}),
    ("200000 characters", lambda: {"client_id": new_client_id(), "body": "x" * 200_000},
     {"message_too_long", "invalid_payload"}),
    ("body is a number", lambda: {"client_id": new_client_id(), "body": 123}, {"invalid_payload", "invalid_body"}),
    ("body is null", lambda: {"client_id": new_client_id(), "body": None}, {"invalid_payload", "invalid_body"}),
    ("body is a list", lambda: {"client_id": new_client_id(), "body": ["x"]}, {"invalid_payload", "invalid_body"}),
    ("body with a lone surrogate", lambda: {"client_id": new_client_id(), "body": "hi \ud800"},
     {"invalid_payload", "invalid_body"}),
    ("body missing", lambda: {"client_id": new_client_id()}, {"invalid_payload"}),
    ("client_id missing", lambda: {"body": "hello"}, {"invalid_payload", "invalid_client_id"}),
    ("client_id too short", lambda: {"client_id": "abc", "body": "hello"}, {"invalid_client_id", "invalid_payload"}),
    ("client_id with spaces", lambda: {"client_id": "has spaces 123", "body": "hello"},
     {"invalid_client_id", "invalid_payload"}),
    ("client_id with slashes", lambda: {"client_id": "../../etc/passwd", "body": "hello"},
     {"invalid_client_id", "invalid_payload"}),
    ("client_id non-ascii", lambda: {"client_id": "ünïcödé-123", "body": "hello"},
     {"invalid_client_id", "invalid_payload"}),
    ("client_id 65 characters", lambda: {"client_id": "x" * 65, "body": "hello"},
     {"invalid_client_id", "invalid_payload"}),
    ("client_id is a number", lambda: {"client_id": 12345678, "body": "hello"},
     {"invalid_client_id", "invalid_payload"}),
    ("unknown field", lambda: {"client_id": new_client_id(), "body": "hello", "sender": "agent"},
     {"invalid_payload"}),
    ("visitor picks a conversation", lambda: {"client_id": new_client_id(), "body": "hi", "conversation_id": 1},
     {"invalid_payload"}),
    ("payload is a string", lambda: "hello", {"invalid_payload"}),
    ("payload is a list", lambda: ["hello"], {"invalid_payload"}),
    ("payload is a number", lambda: 42, {"invalid_payload"}),
    ("payload is true", lambda: True, {"invalid_payload"}),
    ("no payload", lambda: None, {"invalid_payload"}),
]


def test_bad_visitor_messages_are_refused_and_history_holds_only_valid_ones(server, make_tenant, clients):
    """Each bad message:send gets its own error code; nothing is stored or broadcast for it; the
    valid messages around them get contiguous seq 1..n, and 5000 characters exactly is accepted."""
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)

    def send_all_bad():
        collect_errors((label, visitor.call("message:send", build()), codes)
                       for label, build, codes in BAD_VISITOR_SENDS)

    send_all_bad()
    assert visitor.history() == {"ok": True, "conversation": None, "messages": [], "state": None}  # not even a conversation
    agent.assert_no_event()

    # A refused message does not use up its client id: the corrected resend is new, not a duplicate.
    client_id = new_client_id()
    assert_error(visitor.send("", client_id=client_id), {"empty_message"})
    first = visitor.send("first", client_id=client_id)
    assert first["ok"] and first["duplicate"] is False and first["message"]["seq"] == 1

    send_all_bad()
    longest = visitor.send("y" * 5000)
    assert longest["ok"] and longest["message"]["seq"] == 2
    send_all_bad()
    assert visitor.send("  last one  \n")["message"]["seq"] == 3

    history = visitor.history()
    assert [m["seq"] for m in history["messages"]] == [1, 2, 3]
    assert [m["body"] for m in history["messages"]] == ["first", "y" * 5000, "last one"]
    assert history["conversation"]["last_seq"] == 3
    assert [agent.next_event()["message"]["seq"] for _ in range(3)] == [1, 2, 3]
    agent.assert_no_event()


def test_bad_history_requests_are_refused(server, make_tenant, clients):
    """history with a negative, textual or boolean after_seq, or unknown fields, is invalid_payload."""
    visitor = clients.visitor(server, make_tenant())
    assert visitor.send("hello")["ok"]
    collect_errors(
        (repr(payload), visitor.call("history", payload), {"invalid_payload"})
        for payload in ({"after_seq": -1}, {"after_seq": "0"}, {"after_seq": True}, {"after_seq": 0.5},
                        {"after_seq": 0, "conversation_id": 1}, "history", [0], 7)
    )
    assert [m["body"] for m in visitor.history()["messages"]] == ["hello"]


def test_nul_character_is_refused_or_stored_as_sent_never_a_storage_outage(
        server, make_tenant, clients):
    """A body containing U+0000 is either refused as bad input or stored exactly, on every backend."""
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    assert visitor.send("before")["ok"]
    conversation_id = agent.next_event()["conversation"]["id"]

    replies = {"visitor": visitor.send("nul \x00 inside"), "agent": agent.send(conversation_id, "\x00agent")}
    for who, reply in replies.items():
        if not reply["ok"]:
            assert reply["error"]["code"] not in SERVER_SIDE_CODES, (who, reply)
            assert_error(reply, {reply["error"]["code"]}, who)
    stored = [m["body"] for m in visitor.history()["messages"]]
    expected = ["before"] + [body for body, reply in (("nul \x00 inside", replies["visitor"]),
                                                       ("\x00agent", replies["agent"])) if reply["ok"]]
    assert stored == expected
    assert [m["seq"] for m in visitor.history()["messages"]] == list(range(1, len(expected) + 1))


# --- agent events ---------------------------------------------------------------------------

BAD_IDS = ["1", "", 0, -1, True, False, 1.0, 1.5, None, [1], {"id": 1}]
ID_CODES = {"invalid_payload", "invalid_conversation_id", "conversation_not_found"}


def _agent_payloads(conversation_id) -> dict:
    return {
        "conversation:open": {"conversation_id": conversation_id},
        "message:send": {"conversation_id": conversation_id, "client_id": new_client_id(), "body": "hello"},
        "conversation:read": {"conversation_id": conversation_id, "seq": 1},
    }


def test_bad_conversation_ids_and_seqs_are_refused_and_change_nothing(server, make_tenant, clients):
    """conversation_id "1", 0, -1, True, 1.5, null, [1]..., a missing id, and a negative or textual
    seq/after_seq are refused for open/send/read; the real conversation is untouched."""
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    assert visitor.send("hello")["ok"] and visitor.next_event()["body"] == "hello"
    conversation_id = agent.next_event()["conversation"]["id"]
    assert conversation_id == 1  # so "1", True and 1.0 would name it if they were coerced
    assigned_before = agent.open(conversation_id)["conversation"]["assigned_agent_id"]

    checks = []
    for bad in BAD_IDS:
        for event, payload in _agent_payloads(bad).items():
            checks.append((f"{event} conversation_id={bad!r}", agent.call(event, payload), ID_CODES))
    for event, payload in _agent_payloads(conversation_id).items():
        del payload["conversation_id"]
        checks.append((f"{event} without conversation_id", agent.call(event, payload), {"invalid_payload"}))
    for bad in (-1, "1", True, None, 1.5):
        checks.append((f"read seq={bad!r}", agent.call("conversation:read", {"conversation_id": 1, "seq": bad}),
                       {"invalid_payload", "invalid_seq"}))
        checks.append((f"open after_seq={bad!r}",
                       agent.call("conversation:open", {"conversation_id": 1, "after_seq": bad}), {"invalid_payload"}))
    checks.append(("open with unknown field", agent.call("conversation:open", {"conversation_id": 1, "x": 1}),
                   {"invalid_payload"}))
    checks.append(("open with a string payload", agent.call("conversation:open", "1"), {"invalid_payload"}))
    collect_errors(checks)

    opened = agent.open(conversation_id)
    assert [(m["seq"], m["body"]) for m in opened["messages"]] == [(1, "hello")]
    assert opened["conversation"]["assigned_agent_id"] == assigned_before  # no refused call moved it
    assert agent.conversations()[0]["unread"] == 1  # no refused read moved the marker
    agent.assert_no_event()
    visitor.assert_no_event()  # no refused send reached the visitor either


@pytest.mark.parametrize("number", [10**12, 2**63, 10**30], ids=["1e12", "2^63", "1e30"])
def test_out_of_range_numbers_are_a_client_error_not_a_storage_outage(
        number, server, make_tenant, clients):
    """A huge conversation_id is conversation_not_found (or invalid_payload); a huge seq/after_seq is
    either accepted (nothing newer) or invalid_payload - never 'unavailable' or 'server_error'."""
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    assert visitor.send("hello")["ok"]
    conversation_id = agent.next_event()["conversation"]["id"]

    problems = []
    for event, payload in _agent_payloads(number).items():
        reply = agent.call(event, payload)
        if reply.get("ok") or reply["error"]["code"] not in ID_CODES:
            problems.append((event, "conversation_id", reply))
    replies = {
        "open after_seq": agent.call("conversation:open", {"conversation_id": conversation_id, "after_seq": number}),
        "read seq": agent.call("conversation:read", {"conversation_id": conversation_id, "seq": number}),
        "history after_seq": visitor.history(after_seq=number),
    }
    for label, reply in replies.items():
        fine = (reply.get("ok") and reply.get("messages", []) == []) or (
            not reply.get("ok") and reply["error"]["code"] == "invalid_payload")
        if not fine:
            problems.append((label, reply))
    assert not problems, problems
    assert [m["body"] for m in agent.open(conversation_id)["messages"]] == ["hello"]


# --- connecting -----------------------------------------------------------------------------

def _tampered(token: str) -> list[str]:
    payload, _, signature = token.rpartition(".")
    assert payload and signature, token

    def flip(text: str, i: int) -> str:
        return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:]

    # Middle characters only: the last base64 character may carry only padding bits.
    return [flip(payload, len(payload) // 2) + "." + signature,
            payload + "." + flip(signature, len(signature) // 2),
            token[:-5], "not-a-token", "a.b.c"]


def test_visitor_connect_is_refused_for_unknown_keys_bad_auth_and_tampered_tokens(server, make_tenant, clients):
    """Unknown/missing/odd widget keys and non-object auth are unknown_widget_key; a tampered, foreign or
    non-string token is bad_token. The server keeps accepting good visitors afterwards."""
    tenant = make_tenant()
    good = clients.visitor(server, tenant)
    key = tenant.widget_key

    cases = [
        ("unknown key", {"key": "k" * 32}, "unknown_widget_key"),
        ("key of another length", {"key": "short"}, "unknown_widget_key"),
        ("key almost right", {"key": key[:-1] + ("A" if key[-1] != "A" else "B")}, "unknown_widget_key"),
        ("missing key", {}, "unknown_widget_key"),
        ("null key", {"key": None}, "unknown_widget_key"),
        ("numeric key", {"key": 12345678901}, "unknown_widget_key"),
        ("no auth", None, "unknown_widget_key"),
        ("auth is a string", key, "unknown_widget_key"),
        ("auth is a list", [key], "unknown_widget_key"),
        ("token is a number", {"key": key, "token": 123}, "bad_token"),
        ("token is an object", {"key": key, "token": {"v": "x"}}, "bad_token"),
    ] + [(f"tampered token {i}", {"key": key, "token": bad}, "bad_token")
         for i, bad in enumerate(_tampered(good.token))]

    failures = []
    for label, auth, code in cases:
        said = refused(server.url, "/visitor", auth)
        if code not in repr(said):
            failures.append((label, said))
    assert not failures, failures

    again = clients.visitor(server, tenant, token=good.token)  # the untampered token still works
    assert again.nickname == good.nickname and again.send("still here")["ok"]


def test_connect_refusals_carry_a_machine_readable_code(server, make_tenant):
    """The refusal's connect_error payload has data.code/data.message, which widget.js and console.js
    read (err.data.*): a one-argument ConnectionRefusedError would send only a stringified dict."""
    tenant = make_tenant()
    [said] = refused(server.url, "/visitor", {"key": tenant.widget_key, "token": "not-a-token"})
    assert isinstance(said, dict) and isinstance(said.get("data"), dict), said
    assert said["data"]["code"] == "bad_token" and said["data"]["message"]
    [said] = refused(server.url, "/agent", {"tenant": tenant.slug})
    assert isinstance(said, dict) and said.get("data", {}).get("code") == "unauthorized", said


def test_agent_connect_is_refused_without_a_login(server, make_tenant):
    """/agent without a cookie, with a forged cookie, or with odd auth is refused as unauthorized."""
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.agents[0].email, PASSWORD)
    real_cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items())}
    cases = [
        ("no cookie", {"tenant": tenant.slug}, None),
        ("forged cookie", {"tenant": tenant.slug}, {"Cookie": "session=eyJfdXNlcl9pZCI6IjEifQ.forged.sig"}),
        ("unknown tenant", {"tenant": "no-such-tenant"}, real_cookie),
        ("bad slug", {"tenant": "UPPER_bad!"}, real_cookie),
        ("no auth", None, real_cookie),
        ("auth is a string", tenant.slug, real_cookie),
        ("tenant is a number", {"tenant": 1}, real_cookie),
    ]
    failures = [(label, said) for label, auth, headers in cases
                if "unauthorized" not in repr(said := refused(server.url, "/agent", auth, headers))]
    assert not failures, failures


def test_agent_only_event_on_visitor_namespace_has_no_handler_and_server_keeps_working(
        server, make_tenant, clients):
    """A visitor emitting agent event names on /visitor gets no answer (no handler, no data) and stays
    connected; its own chat and other clients keep working."""
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    with pytest.raises(socketio.exceptions.TimeoutError):
        visitor.sio.call("conversations:list", {}, namespace="/visitor", timeout=1)
    for event in ("conversation:open", "conversation:read", "connect", "disconnect", "no-such-event"):
        visitor.sio.emit(event, {"conversation_id": 1, "seq": 1}, namespace="/visitor")

    assert visitor.sio.connected
    assert visitor.send("after the odd events")["ok"]
    assert agent.next_event()["message"]["body"] == "after the odd events"


def test_flood_of_malformed_events_does_not_stop_the_server(server, make_tenant, clients):
    """50 malformed events fired at once by one visitor are all answered with errors; then another
    visitor/agent pair chats normally, and the flooding visitor itself can still send."""
    tenant = make_tenant()
    flooder = clients.visitor(server, tenant)
    acks: "queue.Queue" = queue.Queue()
    for n in range(50):
        label, build, _codes = BAD_VISITOR_SENDS[n % len(BAD_VISITOR_SENDS)]
        flooder.sio.emit("message:send", build(), namespace="/visitor",
                         callback=lambda *args, label=label: acks.put((label, args)))
    answers = [acks.get(timeout=TIMEOUT) for _ in range(50)]
    assert all(args and args[0].get("ok") is False for _label, args in answers), answers

    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    assert visitor.send("is the server alive?")["ok"]
    pushed = agent.next_event()
    assert pushed["message"]["body"] == "is the server alive?"
    assert agent.send(pushed["conversation"]["id"], "yes")["ok"]
    assert [visitor.next_event()["body"] for _ in range(2)] == ["is the server alive?", "yes"]

    assert flooder.send("me too")["ok"] and flooder.history()["messages"][0]["seq"] == 1


# --- HTTP -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/t/no-such-tenant/login", "/t/UPPER_bad!/login", "/t/no-such-tenant/console/",
                                  "/t/no-such-tenant/admin/", "/t/a/login", "/demo/no-such-tenant"])
def test_unknown_or_malformed_workspace_urls_are_404(server, path):
    """A workspace that does not exist, or could not exist, is a 404 - never a redirect or a guess."""
    response = requests.get(server.url + path, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 404, (path, response.status_code, response.headers.get("Location"))


def _signup_fields(**changes) -> dict:
    slug = f"s-{uuid.uuid4().hex[:10]}"
    fields = {"company": "Acme Ltd", "slug": slug, "name": "Olga Owner", "email": f"olga@{slug}.test",
              "password": PASSWORD}
    fields.update(changes)
    return fields


def _post_signup(server, fields: dict, with_token: bool = True) -> requests.Response:
    http = requests.Session()
    page = http.get(f"{server.url}/signup", timeout=TIMEOUT)
    assert page.status_code == 200
    data = {**fields, **({"csrf_token": csrf_token(page.text)} if with_token else {})}
    return http.post(f"{server.url}/signup", data=data, allow_redirects=False, timeout=TIMEOUT)


def _tenant_slugs(app) -> list[str]:
    with app.app_context():
        return [t.slug for t in registry.all_tenants()]


def _drop_if_created(app, *slugs) -> None:
    with app.app_context():
        for slug in slugs:
            tenant = registry.find_by_slug(slug)
            if tenant is not None:
                provisioning.drop_tenant(tenant)


SLUG_ERROR = "A workspace address is 3-40 characters"
BAD_SIGNUPS = [
    ("reserved slug", {"slug": "admin"}, SLUG_ERROR),
    ("slug starting with a hyphen", {"slug": "-x"}, SLUG_ERROR),
    ("one-letter slug", {"slug": "a"}, SLUG_ERROR),
    ("slug with underscore", {"slug": "has_underscore"}, SLUG_ERROR),
    ("slug of 41 characters", {"slug": "s" + "x" * 40}, SLUG_ERROR),
    ("slug with a space", {"slug": "two words"}, SLUG_ERROR),
    ("invalid email", {"email": "not-an-email"}, "Enter a valid email address."),
    ("email without domain dot", {"email": "olga@localhost"}, "Enter a valid email address."),
    ("7-character password", {"password": "1234567"}, "Choose a password of 8 to 256 characters."),
    ("257-character password", {"password": "p" * 257}, "Choose a password of 8 to 256 characters."),
    ("missing company", {"company": "   "}, "Enter your company name"),
    ("missing name", {"name": ""}, "Enter a name of 1 to 80 characters."),
]


@pytest.mark.parametrize("label, changes, error_text", BAD_SIGNUPS, ids=[c[0] for c in BAD_SIGNUPS])
def test_bad_signup_is_400_with_the_error_on_the_page_and_creates_nothing(
        server, app, label, changes, error_text):
    """Each invalid field is a 400 whose page says what is wrong; no tenant is registered."""
    fields = _signup_fields(**changes)
    before = _tenant_slugs(app)
    try:
        response = _post_signup(server, fields)
        assert response.status_code == 400, (label, response.status_code)
        assert error_text in response.text, label
        assert 'role="alert"' in response.text
        assert _tenant_slugs(app) == before
    finally:
        _drop_if_created(app, fields["slug"].strip().lower())


def test_signup_without_csrf_token_is_400_and_creates_nothing(server, app):
    """A sign-up form posted without its CSRF token is refused before anything is created."""
    fields = _signup_fields()
    before = _tenant_slugs(app)
    try:
        response = _post_signup(server, fields, with_token=False)
        assert response.status_code == 400
        assert "CSRF" in response.text
        assert _tenant_slugs(app) == before
    finally:
        _drop_if_created(app, fields["slug"])


def test_signup_with_a_taken_slug_is_409_and_creates_nothing(server, app, make_tenant):
    """A slug that is already a workspace (made by the fixture, or just signed up) is a 409."""
    existing = make_tenant()
    fields = _signup_fields()
    try:
        created = _post_signup(server, fields)  # control: a valid sign-up works and logs the owner in
        assert created.status_code == 302
        assert created.headers["Location"].endswith(f"/t/{fields['slug']}/admin/")
        before = _tenant_slugs(app)
        assert fields["slug"] in before

        for slug in (existing.slug, fields["slug"], f"  {fields['slug'].upper()} "):
            again = _post_signup(server, _signup_fields(slug=slug))
            assert again.status_code == 409, (slug, again.status_code)
            assert "is taken" in again.text
        assert _tenant_slugs(app) == before
        # The first owner's account is untouched by the refused second sign-up.
        login(server.url, fields["slug"], fields["email"], PASSWORD)
    finally:
        _drop_if_created(app, fields["slug"])
