"""Delivery guarantees under faults: error acknowledgements while storage is down, recovery
without a restart, and resends that are never stored twice."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.clients import new_client_id
from tests.resilient import database_allows_connections


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_while_the_database_is_unreachable_sends_get_error_acks_and_resends_succeed_after(
        backend, start_server, app, make_tenant, clients):
    server = start_server()
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    assert visitor.send("before the outage")["ok"]
    conversation_id = agent.next_event()["conversation"]["id"]

    pending = [(new_client_id(), f"during the outage {n}") for n in range(3)]
    try:
        database_allows_connections(backend, False)
        for client_id, body in pending:
            refused = visitor.send(body, client_id=client_id)
            assert refused == {"ok": False, "error": {"code": "unavailable",
                                                      "message": "Storage is unavailable right now; retry shortly."}}
        assert agent.send(conversation_id, "agent during the outage")["error"]["code"] == "unavailable"
        assert requests.get(server.url + "/healthz", timeout=5).ok  # the process keeps serving
    finally:
        database_allows_connections(backend, True)

    # The client resends what was not acknowledged, with the same ids: stored once each, in order.
    deadline = time.monotonic() + 15
    while True:
        first = visitor.send(pending[0][1], client_id=pending[0][0])
        if first["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert first["ok"], first
    for client_id, body in pending[1:] + pending[:1]:
        assert visitor.send(body, client_id=client_id)["ok"]
    bodies = [m["body"] for m in agent.open(conversation_id)["messages"]]
    assert bodies == ["before the outage"] + [body for _, body in pending]
    assert [m["seq"] for m in agent.open(conversation_id)["messages"]] == [1, 2, 3, 4]


def test_a_stored_message_never_writes_its_seq_back_over_later_senders(backend, app, make_tenant):
    """A sender's session that commits again after storing a message (routing, read marks) must
    not write back the last_seq it saw: another process may have handed out later ones meanwhile,
    and a seq going backwards wedges the conversation on the unique (conversation, seq)."""
    from saas.models import Conversation
    from saas.services import conversations, routing, visitors
    from tenants import tenant_context, tenant_session

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = visitors.identify(session, tenant.ref, None)
        conversation, _ = routing.conversation_for_message(session, visitor)
        conversations.post_visitor_message(session, visitor, conversation, client_id=new_client_id(), body="one")
        with tenant_context(tenant.ref):  # another process's session
            other = tenant_session()
            elsewhere = other.get(Conversation, conversation.id)
            conversations.post_visitor_message(other, other.get(type(visitor), visitor.id), elsewhere,
                                               client_id=new_client_id(), body="two")
        session.commit()  # the first sender's session commits something else
        posted = conversations.post_visitor_message(session, visitor, conversation, client_id=new_client_id(),
                                                    body="three")
        assert posted.message.seq == 3
        assert [m.body for m in conversations.messages_after(session, conversation)] == ["one", "two", "three"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_burst_of_connects_does_not_starve_a_small_connection_pool(start_server, make_tenant, clients):
    """A connect looks the tenant up in the registry, then opens the tenant's session from the same
    pool. A handler keeping the first connection while waiting for the second deadlocks a burst
    (every pooled connection held by a handler waiting for another) until the pool times out."""
    server = start_server({"SWITCHBOARD_DB_POOL_SIZE": "2", "SWITCHBOARD_DB_MAX_OVERFLOW": "0"})
    tenant = make_tenant()
    with ThreadPoolExecutor(12) as pool:
        visitors = list(pool.map(lambda _: clients.visitor(server, tenant), range(12)))
    assert len({visitor.token for visitor in visitors}) == 12
    assert all(visitor.send("hello")["ok"] for visitor in visitors)
