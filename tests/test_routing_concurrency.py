"""200 visitors arrive at once on two server processes; 10 agents with 5 slots each."""
import queue
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from saas.models import Conversation, ConversationEvent
from tenants import tenant_context, tenant_session
from tests.routing_helpers import configure

VISITORS, AGENTS, CAPACITY = 200, 10, 5
BURST_ACK_TIMEOUT = 60
# The burst runs on the pool a production server has (the tests' servers keep fewer idle connections).
PRODUCTION_POOL = {"SWITCHBOARD_DB_POOL_SIZE": "10"}


def _snapshot(app, tenant):
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        conversations = session.scalars(select(Conversation).order_by(Conversation.id)).all()
        assigned_events = Counter(session.scalars(
            select(ConversationEvent.conversation_id).where(ConversationEvent.kind == "assigned")))
        return conversations, assigned_events


def _latest_states(visitors, until, timeout: float = 30.0) -> dict:
    """Each visitor's newest conversation:state, once ``until(latest)`` holds."""
    latest = {}
    deadline = time.monotonic() + timeout
    while True:
        for visitor in visitors:
            while True:
                try:
                    state = visitor.states.get_nowait()
                except queue.Empty:
                    break
                latest[visitor] = state
        if until(latest) or time.monotonic() > deadline:
            return latest
        time.sleep(0.1)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # several processes: the production mode
def test_a_burst_of_visitors_fills_every_slot_exactly_once_and_the_queue_drains_in_order(
        start_server, app, make_tenant, clients):
    servers = [start_server(PRODUCTION_POOL, name="web1"), start_server(PRODUCTION_POOL, name="web2")]
    tenant = make_tenant(agents=AGENTS)
    configure(app, tenant, default_max_concurrent=CAPACITY)
    consoles = {person.id: clients.agent(servers[n % 2], tenant, person) for n, person in enumerate(tenant.agents)}
    visitors = [clients.visitor(servers[n % 2], tenant) for n in range(VISITORS)]

    # All at once, spread over both processes. 200 routings queue up behind each other's locks; on a
    # loaded 2-core machine the last ack can take well over the usual 10 s.
    with ThreadPoolExecutor(max_workers=64) as pool:
        acks = list(pool.map(lambda v: v.send("hello, anyone?", timeout=BURST_ACK_TIMEOUT), visitors))
    assert all(ack["ok"] for ack in acks), [a for a in acks if not a["ok"]][:3]
    by_conversation = {ack["message"]["conversation_id"]: v for ack, v in zip(acks, visitors)}
    assert len(by_conversation) == VISITORS  # one conversation each

    conversations, assigned_events = _snapshot(app, tenant)
    assigned = [c for c in conversations if c.handler == "agent"]
    waiting = sorted((c for c in conversations if c.waiting_since is not None), key=lambda c: (c.waiting_since, c.id))
    assert len(assigned) == AGENTS * CAPACITY and len(waiting) == VISITORS - AGENTS * CAPACITY
    assert Counter(c.assigned_agent_id for c in assigned) == {person.id: CAPACITY for person in tenant.agents}
    assert all(assigned_events[c.id] == 1 for c in assigned)  # nobody assigned twice
    assert not any(assigned_events[c.id] for c in waiting)

    # Every waiting visitor is told its place: exactly 1..150 in arrival (waiting_since) order.
    expected = {by_conversation[c.id]: place for place, c in enumerate(waiting, start=1)}
    latest = _latest_states(visitors, lambda got: all(got.get(v, {}).get("position") == p for v, p in expected.items()))
    assert [latest[by_conversation[c.id]]["position"] for c in waiting] == list(range(1, len(waiting) + 1))

    # Agents close conversations one by one: each freed slot takes the head of the queue.
    for n in range(20):
        closing = assigned[n]
        console = consoles[closing.assigned_agent_id]
        assert console.call("conversation:close", {"conversation_id": closing.id})["ok"]
        head = waiting[n]
        now = {c.id: c for c in _snapshot(app, tenant)[0]}
        assert now[head.id].handler == "agent" and now[head.id].assigned_agent_id == closing.assigned_agent_id, n
        if n + 1 < len(waiting):
            assert now[waiting[n + 1].id].waiting_since is not None, n
    loads = Counter(c.assigned_agent_id for c in _snapshot(app, tenant)[0]
                    if c.handler == "agent" and c.status == "open")
    assert max(loads.values()) == CAPACITY  # never over capacity
    remaining = {by_conversation[c.id]: place for place, c in enumerate(waiting[20:], start=1)}
    latest = _latest_states(visitors, lambda got: all(got.get(v, {}).get("position") == p for v, p in remaining.items()))
    assert all(latest[v]["position"] == p for v, p in remaining.items())


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_one_visitor_writing_from_many_tabs_at_once_gets_one_conversation(start_server, app, make_tenant, clients):
    servers = [start_server(name="web1"), start_server(name="web2")]
    tenant = make_tenant(agents=1)
    first = clients.visitor(servers[0], tenant)
    tabs = [first] + [clients.visitor(servers[n % 2], tenant, token=first.token) for n in range(1, 12)]

    with ThreadPoolExecutor(max_workers=len(tabs)) as pool:  # every tab's first message at the same moment
        acks = list(pool.map(lambda tab: tab.send("hello from a tab"), tabs))
    assert all(ack["ok"] for ack in acks), [a for a in acks if not a["ok"]][:3]
    assert len({ack["message"]["conversation_id"] for ack in acks}) == 1

    conversations, _ = _snapshot(app, tenant)
    assert len(conversations) == 1
    assert len({ack["message"]["seq"] for ack in acks}) == len(tabs)  # every message stored once, own seq
