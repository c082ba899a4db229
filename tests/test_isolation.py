"""Tenant isolation: a login, a socket, a widget token or a pooled database connection of tenant A
never reaches tenant B's pages, conversations, events or rows (and the other way round)."""
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests
import socketio
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from saas.models import Conversation, Invite, Message, ReadMarker, Visitor
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT, AgentClient, csrf_token, login, new_client_id
from tests.conftest import PASSWORD, app_overrides


# --- helpers -------------------------------------------------------------------------------

def cookie_header(http: requests.Session) -> dict:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items())}


def refusal(url: str, namespace: str, auth, headers: dict | None = None) -> str:
    """Connect expecting the server to refuse; return what it said in ``connect_error`` as text."""
    sio = socketio.Client(reconnection=False)
    said = []
    sio.on("connect_error", lambda *data: said.append(data), namespace=namespace)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(url, namespaces=[namespace], auth=auth, headers=headers or {},
                        transports=["websocket"], wait_timeout=TIMEOUT)
    finally:
        if sio.connected:
            sio.disconnect()
    assert said, "refused without a connect_error payload"
    return repr(said)


def count_rows(app, tenant, model, *where) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(func.count()).select_from(model).where(*where))


def redirect_path(response: requests.Response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


# --- HTTP --------------------------------------------------------------------------------

def test_login_to_a_does_not_open_b_console_admin_or_invites(server, app, make_tenant):
    """A's owner cookie gets B's login page for B's console/admin, and cannot create an invite in B."""
    a, b = make_tenant(), make_tenant()
    http = login(server.url, a.slug, a.owner.email, PASSWORD)

    # Control: the very same cookie opens A's pages, so a redirect below is about the tenant.
    assert http.get(f"{server.url}/t/{a.slug}/console/", allow_redirects=False, timeout=TIMEOUT).status_code == 200
    admin_a = http.get(f"{server.url}/t/{a.slug}/admin/", allow_redirects=False, timeout=TIMEOUT)
    assert admin_a.status_code == 200
    token = csrf_token(admin_a.text)  # a valid CSRF token for this browser session

    for page in ("console/", "admin/"):
        response = http.get(f"{server.url}/t/{b.slug}/{page}", allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302, (page, response.status_code)
        assert redirect_path(response) == f"/t/{b.slug}/login", response.headers.get("Location")

    with_token = http.post(f"{server.url}/t/{b.slug}/invites", data={"csrf_token": token, "role": "agent"},
                           allow_redirects=False, timeout=TIMEOUT)
    assert with_token.status_code == 302 and redirect_path(with_token) == f"/t/{b.slug}/login"
    without_token = http.post(f"{server.url}/t/{b.slug}/invites", data={"role": "agent"},
                              allow_redirects=False, timeout=TIMEOUT)
    assert without_token.status_code == 400
    assert count_rows(app, b, Invite) == 0

    # Control: the same form posted to A does create an invite there (the count above could move).
    made = http.post(f"{server.url}/t/{a.slug}/invites", data={"csrf_token": token, "role": "agent"},
                     allow_redirects=False, timeout=TIMEOUT)
    assert made.status_code == 303
    assert count_rows(app, a, Invite) == 1 and count_rows(app, b, Invite) == 0


# --- Socket.IO: agents ---------------------------------------------------------------------

def test_agent_cookie_of_a_is_refused_on_b_and_from_a_foreign_origin(server, make_tenant):
    """/agent with A's cookie but auth {"tenant": B} is refused; so is A's own tenant from another site."""
    a, b = make_tenant(), make_tenant()
    http = login(server.url, a.slug, a.agents[0].email, PASSWORD)

    assert "unauthorized" in refusal(server.url, "/agent", {"tenant": b.slug}, cookie_header(http))
    foreign = {**cookie_header(http), "Origin": "https://evil.example"}
    assert "unauthorized" in refusal(server.url, "/agent", {"tenant": a.slug}, foreign)

    AgentClient(server.url, a.slug, http).close()  # control: the cookie itself is good for A


def test_agent_of_a_cannot_open_post_to_or_read_conversations_that_exist_only_in_b(
        server, app, make_tenant, clients):
    """Ids that exist only in B are conversation_not_found for A's agent, and B's rows do not change."""
    a, b = make_tenant(), make_tenant()
    assert clients.visitor(server, a).send("hello from A")["ok"]
    for n in range(4):
        assert clients.visitor(server, b).send(f"hello from B {n}")["ok"]
    agent_a, agent_b = clients.agent(server, a), clients.agent(server, b)

    ids_a = {c["id"] for c in agent_a.conversations()}
    b_bodies = {c["id"]: c["last_message"]["body"] for c in agent_b.conversations()}
    only_b = sorted(set(b_bodies) - ids_a)
    assert len(only_b) >= 3, (ids_a, b_bodies)

    for conversation_id in only_b:
        replies = {
            "open": agent_a.open(conversation_id),
            "send": agent_a.send(conversation_id, "A's agent writing into B"),
            "read": agent_a.call("conversation:read", {"conversation_id": conversation_id, "seq": 1}),
        }
        for event, reply in replies.items():
            assert reply["ok"] is False, (event, conversation_id, reply)
            assert reply["error"]["code"] == "conversation_not_found", (event, conversation_id, reply)

    agent_b.assert_no_event()
    for conversation_id in only_b:
        assert [m["body"] for m in agent_b.open(conversation_id)["messages"]] == [b_bodies[conversation_id]]
    assert count_rows(app, b, Message) == 4
    assert count_rows(app, b, Message, Message.sender_type != "visitor") == 0
    assert count_rows(app, b, ReadMarker) == 0
    assert [c["unread"] for c in agent_b.conversations()] == [1, 1, 1, 1]


# --- Socket.IO: visitors and broadcasts ----------------------------------------------------

def test_events_of_b_never_reach_a_visitor_or_agent(server, make_tenant, clients):
    """B's visitor and agent chat; A's visitor and agent (same conversation/visitor ids) hear nothing."""
    a, b = make_tenant(), make_tenant()
    visitor_a, agent_a = clients.visitor(server, a), clients.agent(server, a)
    visitor_b, agent_b = clients.visitor(server, b), clients.agent(server, b)

    # A has its own conversation 1 with visitor 1, exactly the ids B is about to use.
    assert visitor_a.send("A's own question")["ok"]
    assert agent_a.next_event()["message"]["body"] == "A's own question"
    assert visitor_a.next_event()["body"] == "A's own question"

    for body in ("B one", "B two"):
        assert visitor_b.send(body)["ok"]
    heard = [agent_b.next_event() for _ in range(2)]
    assert [e["message"]["body"] for e in heard] == ["B one", "B two"]
    conversation_id = heard[0]["conversation"]["id"]
    assert agent_b.send(conversation_id, "B's agent replies")["ok"]
    assert [visitor_b.next_event()["body"] for _ in range(3)] == ["B one", "B two", "B's agent replies"]

    visitor_a.assert_no_event()
    agent_a.assert_no_event()


def test_visitor_token_from_b_is_refused_by_a_widget(server, make_tenant, clients):
    """A token B's widget issued is bad_token at A's widget key (and still fine at B's)."""
    a, b = make_tenant(), make_tenant()
    visitor_b = clients.visitor(server, b)

    assert "bad_token" in refusal(server.url, "/visitor", {"key": a.widget_key, "token": visitor_b.token})

    again = clients.visitor(server, b, token=visitor_b.token)  # control
    assert again.nickname == visitor_b.nickname


# --- one pooled connection, A then B -------------------------------------------------------

@dataclass
class Expected:
    visitors: set = field(default_factory=set)
    client_ids: set = field(default_factory=set)
    conversations: int = 0


@pytest.fixture
def single_connection_app(app, backend, make_tenant):
    """A second app whose registry pool holds exactly one connection (tenant schemas share it)."""
    from saas import create_app
    from saas.extensions import db
    from saas.extensions import socketio as flask_socketio

    # create_app re-initialises the module-level SocketIO; put the session app's server back after.
    saved = {name: getattr(flask_socketio, name) for name in ("server", "server_options", "async_mode", "sockio_mw")
             if hasattr(flask_socketio, name)}
    saved["server_options"] = dict(saved.get("server_options") or {})
    # pool_timeout: a connection that was never given back fails fast instead of hanging.
    second = create_app(app_overrides(
        backend, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 3}))
    try:
        yield second
    finally:
        with second.app_context():
            second.extensions["switchboard_tenants"].dispose()
            db.engine.dispose()
        for name, value in saved.items():
            setattr(flask_socketio, name, value)


def test_one_pooled_connection_used_by_a_then_b_never_shows_a_rows(backend, make_tenant, single_connection_app):
    """Alternating A/B on one pooled connection (also after a failed transaction and savepoint
    rollbacks in A): each tenant's queries return exactly its own rows, never the other's."""
    from saas.extensions import db
    from saas.services import routing, visitors

    app2 = single_connection_app
    a, b = make_tenant(agents=0), make_tenant(agents=0)
    expected = {a.slug: Expected(), b.slug: Expected()}
    backend_pids, search_paths, checkouts = set(), set(), []

    @contextmanager
    def inside(tenant):
        with app2.app_context(), tenant_context(tenant.ref):
            session = tenant_session()
            if backend.name == "postgresql":
                backend_pids.add(session.execute(text("select pg_backend_pid()")).scalar_one())
                search_paths.add(session.execute(text("show search_path")).scalar_one())
            else:  # one file per tenant: the session must be bound to this tenant's own file
                assert session.connection().engine.url.database.endswith(f"{tenant.slug}.sqlite3")
            checkouts.append(tenant.slug)
            yield session

    def rows(session) -> Expected:
        return Expected(set(session.scalars(select(Visitor.public_id))),
                        set(session.scalars(select(Message.client_id))),
                        session.scalar(select(func.count()).select_from(Conversation)))

    def check_both():
        for tenant in (b, a):
            with inside(tenant) as session:
                assert rows(session) == expected[tenant.slug], f"rows seen inside {tenant.slug}"

    def chat(tenant, body):
        with inside(tenant) as session:
            visitor = visitors.identify(session, tenant.ref, None)
            posted, _ = routing.visitor_says(session, visitor, client_id=new_client_id(), body=body, max_length=5000)
            mine = expected[tenant.slug]
            mine.visitors.add(visitor.public_id)
            mine.client_ids.add(posted.message.client_id)
            mine.conversations += 1

    for round_ in range(3):
        chat(a, f"A round {round_}")
        check_both()
        chat(b, f"B round {round_}")
        check_both()

    # A failed transaction in A (duplicate public id), rolled back, then B on the same connection.
    existing = next(iter(expected[a.slug].visitors))
    with inside(a) as session:
        session.add(Visitor(public_id=existing, nickname="Duplicate"))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
        assert rows(session) == expected[a.slug]  # the session works again, still A's rows only
    check_both()

    # The same failure left without an explicit rollback: ending the tenant context must clean up.
    with inside(a) as session:
        session.add(Visitor(public_id=existing, nickname="Duplicate"))
        with pytest.raises(IntegrityError):
            session.flush()
    check_both()

    # A savepoint rolled back explicitly, and one rolled back by a failing flush; the outer row stays.
    with inside(a) as session:
        kept = Visitor(public_id=uuid.uuid4().hex, nickname="Kept")
        session.add(kept)
        session.flush()
        savepoint = session.begin_nested()
        session.add(Visitor(public_id=uuid.uuid4().hex, nickname="Dropped"))
        session.flush()
        savepoint.rollback()
        with pytest.raises(IntegrityError):
            with session.begin_nested():
                session.add(Visitor(public_id=existing, nickname="Duplicate"))
                session.flush()
        session.commit()
        expected[a.slug].visitors.add(kept.public_id)
    check_both()
    chat(b, "B after A's savepoints")
    check_both()

    assert len(checkouts) >= 20  # every step above really went through the pool
    with app2.app_context():
        assert db.engine.pool.checkedout() == 0
    if backend.name == "postgresql":
        assert len(backend_pids) == 1, f"expected one reused connection, saw backends {backend_pids}"
        assert len(search_paths) == 1, f"search_path changed between tenants: {search_paths}"
