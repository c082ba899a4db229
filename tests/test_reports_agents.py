"""Agent work report: exact figures on a hand-made history (both databases), the presence history the
service writes, the live board over a real Socket.IO client, and who may see it."""
import queue
import time

import pytest
import requests
from sqlalchemy import select

from saas.models import AgentPresenceInterval, User
from saas.services import presence
from saas.services.reports import agent_work, live_board
from saas.services.reports.period import ReportError
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT, AgentClient, _Client, login
from tests.conftest import browser_log_in
from tests.agent_report_helpers import NOW, PERIOD, agent_work_history, records_history


@pytest.fixture
def history(app, make_tenant):
    tenant = make_tenant(agents=2)
    a, b = (agent.id for agent in tenant.agents)
    with app.app_context(), tenant_context(tenant.ref):
        facts = agent_work_history(tenant_session(), a, b)
    return tenant, a, b, facts


def _report(app, tenant, channel=None):
    with app.app_context(), tenant_context(tenant.ref):
        return agent_work.report(tenant_session(), PERIOD, now=NOW, channel=channel)


def test_agent_work_figures_by_hand(app, history):
    tenant, a, b, facts = history
    report = _report(app, tenant)
    agents = {row["id"]: row for row in report.agents}
    # First responses: c1 30 s (A), c2 60 s (B), c4 120 s (A), c5 10 s (B).
    assert (agents[a]["first_response_mean"], agents[a]["first_response_median"], agents[a]["first_response_p90"]) \
        == (75.0, 75.0, 120.0)
    assert (agents[b]["first_response_mean"], agents[b]["first_response_median"], agents[b]["first_response_p90"]) \
        == (35.0, 35.0, 60.0)
    total = report.total
    assert (total["first_response_mean"], total["first_response_median"], total["first_response_p90"]) \
        == (55.0, 45.0, 120.0)
    # A received c1, c2 (transferred from B) and c4, and never wrote in c2 before it closed.
    assert (agents[a]["received"], agents[a]["missed"], agents[b]["received"], agents[b]["missed"]) == (3, 1, 2, 0)
    # Responses: A 29, 20, 118 s; B 59 s. Handling: A 95 (c1) + 100 (c2), c4 still open; B 190 + 19.
    assert (agents[a]["response_mean"], agents[b]["response_mean"]) == (55.7, 59.0)
    assert (agents[a]["handling_mean"], agents[a]["handling_total"], agents[b]["handling_mean"]) == (97.5, 195.0, 104.5)
    assert (agents[a]["messages_sent"], agents[b]["messages_sent"], total["messages_sent"]) == (3, 2, 5)
    # Ratings: A 5 stars (100) and "unsatisfied" of 3 levels... no, 2 = neutral (50); B 3 stars (50).
    assert (agents[a]["satisfaction_mean"], agents[a]["ratings"], agents[b]["satisfaction_mean"]) == (75.0, 2, 50.0)
    assert agents[a]["tags"] == {"Helpful": 1, "Quick": 1, "Slow": 1}
    assert total["tags"] == {"Helpful": 2, "Quick": 1, "Slow": 1} and total["satisfaction_mean"] == 66.7
    # Presence: A online 09:00-10:10 and 10:15-now (10:20), away 10:10-10:15; B online from the
    # evening before, counted from midnight to 10:00.
    assert (agents[a]["online_seconds"], agents[a]["away_seconds"], agents[b]["online_seconds"]) == (4500, 300, 36000)
    # Waits: 5 in the period (not yesterday's); c3 closed without an answer. Sales: c1, c3, c4.
    departments = {row["id"]: row for row in report.departments}
    assert (total["received"], total["missed"]) == (5, 1)
    assert (departments[facts["sales"]]["received"], departments[facts["sales"]]["missed"],
            departments[facts["sales"]]["first_response_mean"]) == (3, 1, 75.0)
    assert (departments[None]["label"], departments[None]["received"], departments[None]["missed"]) == \
        ("No department", 2, 0)
    # The owner has a row too, with nothing in it: zero is an answer.
    assert agents[tenant.owner.id]["received"] == 0 and agents[tenant.owner.id]["first_response_mean"] is None


def _channel_figures(row) -> tuple:
    return row["id"], row["received"], row["missed"], row["first_response_median"], row["satisfaction_mean"], \
        row["ratings"]


def test_agent_work_by_channel(app, history):
    tenant, a, b, facts = history
    # Web: waits c1-c4 (c3 missed), first responses 30, 60, 120 s, ratings 100 and 50%. SMS: c5 alone.
    assert [_channel_figures(row) for row in _report(app, tenant).channels] == [
        ("web", 4, 1, 60.0, 75.0, 2), ("sms", 1, 0, 10.0, 50.0, 1)]

    sms = _report(app, tenant, channel="sms")
    agents = {row["id"]: row for row in sms.agents}
    assert [_channel_figures(row) for row in sms.channels] == [("sms", 1, 0, 10.0, 50.0, 1)]
    assert (sms.total["received"], sms.total["first_response_mean"], sms.total["messages_sent"],
            sms.total["satisfaction_mean"], sms.total["tags"]) == (1, 10.0, 1, 50.0, {"Helpful": 1})
    assert (agents[b]["received"], agents[b]["messages_sent"], agents[b]["handling_mean"]) == (1, 1, 19.0)
    assert (agents[a]["received"], agents[a]["messages_sent"], agents[a]["ratings"]) == (0, 0, 0)
    assert [(row["id"], row["received"]) for row in sms.departments] == [(None, 1)]
    # Presence belongs to no conversation: the same whatever the channel.
    assert agents[a]["online_seconds"] == 4500

    assert _report(app, tenant, channel="phone").total["received"] == 0


def test_agent_work_export_keeps_the_channel(app, history):
    tenant, _a, b, _facts = history
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        parameters = agent_work.export_parameters(session, {"from": "2026-03-10", "to": "2026-03-10",
                                                            "channel": "sms"})
        assert parameters == {"from": "2026-03-10", "to": "2026-03-10", "granularity": "day", "channel": "sms"}
        rows = agent_work.export_rows(session, parameters).rows
        with pytest.raises(ReportError):
            agent_work.export_parameters(session, {"channel": "fax"})
    assert [(row["row"], row["label"], row["received"]) for row in rows if row["row"] != "agent"] == [
        ("department", "No department", 1), ("channel", "sms", 1), ("total", "All agents", 1)]


def test_percentile_is_nearest_rank():
    assert agent_work.percentile([], 0.9) is None
    assert agent_work.percentile([5], 0.9) == 5
    assert agent_work.percentile(list(range(1, 11)), 0.9) == 9
    assert agent_work.percentile(list(range(1, 12)), 0.9) == 10


def test_presence_changes_are_logged_as_intervals(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        agent = session.get(User, tenant.agents[0].id)
        for state in ("online", "online", "away", "offline"):
            presence.set_presence(session, agent, state)
        rows = session.scalars(select(AgentPresenceInterval).where(AgentPresenceInterval.user_id == agent.id)
                               .order_by(AgentPresenceInterval.id)).all()
        # The migration started each account's history with its state then; a repeated state adds nothing.
        assert [r.state for r in rows][-3:] == ["online", "away", "offline"]
        assert all(r.ended_at is not None for r in rows[:-1]) and rows[-1].ended_at is None
        assert all(earlier.ended_at == later.started_at for earlier, later in zip(rows, rows[1:]))


class BoardWatcher(AgentClient):
    """The board page's connection: auth ``watch: board``, which leaves its viewer's presence alone."""

    def __init__(self, server, tenant, person):
        _Client.__init__(self)
        self.boards: "queue.Queue[dict]" = queue.Queue()
        self.sio.on("board:updated", self.boards.put, namespace=self.namespace)
        http = login(server.url, tenant.slug, person.email, person.password)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        self._connect(server.url, {"tenant": tenant.slug, "watch": "board"}, headers={"Cookie": cookie})

    def next_board(self, predicate) -> dict:
        while True:
            board = self.boards.get(timeout=TIMEOUT)
            if predicate(board):
                return board


def _row(board, person) -> dict:
    return next(a for a in board["agents"] if a["id"] == person.id)


def test_live_board_updates_when_an_agent_comes_online_and_a_visitor_queues(server, app, make_tenant, clients):
    tenant = make_tenant(agents=1)
    watcher = BoardWatcher(server, tenant, tenant.owner)
    try:
        watched = watcher.call("board:watch", {})
        assert watched["ok"], watched
        board = watched["board"]
        # Watching the board did not put the owner on duty.
        assert _row(board, tenant.owner)["presence"] == "offline" and board["totals"]["online"] == 0

        visitor = clients.visitor(server, tenant)
        assert visitor.send("anyone there?")["ok"]
        board = watcher.next_board(lambda b: b["totals"]["waiting"] == 1)
        assert board["queues"][0]["name"] == "No department" and board["queues"][0]["longest_wait_seconds"] >= 0

        clients.agent(server, tenant, tenant.agents[0])  # opening the console: online, and assigned the visitor
        board = watcher.next_board(lambda b: b["totals"]["waiting"] == 0)
        assert (_row(board, tenant.agents[0])["presence"], _row(board, tenant.agents[0])["load"],
                _row(board, tenant.agents[0])["capacity"]) == ("online", 1, 5)
        assert (board["totals"]["online"], board["totals"]["load"], board["totals"]["capacity"]) == (1, 1, 5)
        assert _row(board, tenant.owner)["presence"] == "offline"
    finally:
        watcher.close()


def test_board_and_report_pages_are_for_admins_of_this_tenant_only(server, app, make_tenant, clients):
    tenant, other = make_tenant(agents=1), make_tenant()
    agent = clients.agent(server, tenant, tenant.agents[0])
    assert agent.call("board:watch", {})["error"]["code"] == "forbidden"
    assert clients.agent(server, tenant, tenant.owner).call("board:watch", {"x": 1})["error"]["code"] \
        == "invalid_payload"

    base = f"{server.url}/t/{tenant.slug}/reports"
    agent_http = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    owner_http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    other_base = f"{server.url}/t/{other.slug}/reports"
    for path in ("/agents", "/board", f"/agents/{tenant.agents[0].id}"):
        assert agent_http.get(base + path, timeout=TIMEOUT).status_code == 403, path
        assert owner_http.get(base + path, timeout=TIMEOUT).status_code == 200, path
        # This workspace's owner is nobody in another one: sent to its login page.
        assert owner_http.get(other_base + path, allow_redirects=False, timeout=TIMEOUT).status_code == 302, path
    for query in ("?from=2026-13-01", "?from=2026-03-10&to=2026-03-01", "?granularity=year", "?channel=fax"):
        response = owner_http.get(base + "/agents" + query, timeout=TIMEOUT)
        assert response.status_code == 400, query
    with app.app_context(), tenant_context(tenant.ref):
        records_history(tenant_session(), tenant.agents[0].id)
    for path in ("/agents", f"/agents/{tenant.agents[0].id}", "/bot"):
        refused = owner_http.get(base + path + "?channel=carrier%20pigeon", timeout=TIMEOUT)
        assert refused.status_code == 400 and "A channel is one of: web" in refused.text, path
        page = owner_http.get(base + path + "?from=2026-03-10&to=2026-03-10&channel=app", timeout=TIMEOUT)
        assert page.status_code == 200 and '<option value="app" selected>' in page.text, path
        if path != "/bot":  # links between the agent pages keep the channel
            assert "granularity=day&amp;channel=app" in page.text, path
    bot_page = owner_http.get(base + "/bot?from=2026-03-10&to=2026-03-10", timeout=TIMEOUT).text
    assert '<tr><th scope="row">Website</th><td class="num">2</td>' in bot_page  # channels by their names
    assert '<tr><th scope="row">App</th><td class="num">1</td>' in bot_page
    assert owner_http.get(base + "/agents/999999", timeout=TIMEOUT).status_code == 404
    assert owner_http.get(base + f"/agents/{other.owner.id + 10_000}", timeout=TIMEOUT).status_code == 404
    assert requests.get(base + "/agents", allow_redirects=False, timeout=TIMEOUT).status_code == 302


def test_board_snapshot_counts_queues_per_department(app, history):
    tenant, a, _b, facts = history
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        board = live_board.snapshot(session, now=NOW)
    # The hand-made history leaves nobody waiting (c3 closed) and c4 open with A.
    assert board["totals"]["waiting"] == 0 and board["queues"] == []
    assert [row["load"] for row in board["agents"] if row["id"] == a] == [1]


def test_board_page_updates_live_in_a_browser(backend, server, app, make_tenant, clients, page_for):
    if backend.name != "postgresql":
        pytest.skip("one browser run is enough: the page is the same, and pushes through Redis are the harder path")
    tenant = make_tenant(agents=1)
    page = page_for()
    browser_log_in(page, server, tenant, tenant.owner)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        owner = session.get(User, tenant.owner.id)
        deadline = time.monotonic() + TIMEOUT
        while owner.presence != "online" and time.monotonic() < deadline:  # the console has connected
            time.sleep(0.1)
            session.refresh(owner)
        presence.set_presence(session, owner, "away")  # chosen: survives leaving the console
    page.goto(f"{server.url}/t/{tenant.slug}/reports/board")
    page.wait_for_selector("#board-status:has-text('Live')")
    assert page.text_content("#board-online") == "0" and page.is_visible("#board-queues-empty")

    assert clients.visitor(server, tenant).send("hello?")["ok"]
    page.wait_for_selector("#board-waiting:has-text('1')")
    assert "No department" in page.text_content("#board-queues")

    clients.agent(server, tenant, tenant.agents[0])
    page.wait_for_selector("#board-waiting:has-text('0')")
    row = f"#board-agents tr[data-agent='{tenant.agents[0].id}']"
    assert page.text_content(row + " .presence") == "online" and page.text_content(row + " td.num") == "1 / 5"
    assert page.text_content(f"#board-agents tr[data-agent='{tenant.owner.id}'] .presence") == "away"
    assert page.text_content("#board-online") == "1" and page.is_visible("#board-chart .main-svg")


def test_migration_starts_each_history_with_the_current_state(app, make_tenant):
    from sqlalchemy import update

    from tenants import provisioning

    tenant = make_tenant()
    with app.app_context():
        provisioning.downgrade_tenant(tenant.ref, "0012")
        with tenant_context(tenant.ref):
            session = tenant_session()
            session.execute(update(User).where(User.id == tenant.agents[0].id).values(presence="online"))
            session.commit()
            since = session.scalar(select(User.presence_changed_at).where(User.id == tenant.agents[0].id))
        provisioning.migrate_tenant(tenant.ref)
        with tenant_context(tenant.ref):
            rows = tenant_session().execute(select(AgentPresenceInterval.user_id, AgentPresenceInterval.state,
                                                   AgentPresenceInterval.started_at, AgentPresenceInterval.ended_at)
                                            .order_by(AgentPresenceInterval.user_id)).all()
    assert [tuple(r) for r in rows] == [(tenant.owner.id, "offline", rows[0].started_at, None),
                                        (tenant.agents[0].id, "online", since, None)]
