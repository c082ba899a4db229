"""Delivery guarantees under faults: error acknowledgements while storage is down, recovery
without a restart, and resends that are never stored twice."""
import time

import psycopg
import pytest
import requests

from tests.clients import new_client_id
from tests.conftest import POSTGRES_ADMIN_URL


def _database_allows_connections(backend, allowed: bool) -> None:
    name = backend.env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


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
        _database_allows_connections(backend, False)
        for client_id, body in pending:
            refused = visitor.send(body, client_id=client_id)
            assert refused == {"ok": False, "error": {"code": "unavailable",
                                                      "message": "Storage is unavailable right now; retry shortly."}}
        assert agent.send(conversation_id, "agent during the outage")["error"]["code"] == "unavailable"
        assert requests.get(server.url + "/healthz", timeout=5).ok  # the process keeps serving
    finally:
        _database_allows_connections(backend, True)

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
