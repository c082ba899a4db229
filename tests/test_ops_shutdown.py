"""Operations: SIGTERM to a web process mid-stream. It stops accepting, finishes what it is doing,
moves its clients away and exits within 10 s; its clients carry on on the other process with
0 messages lost and 0 duplicated, and its console connections are no longer on record."""
import os
import signal
import time

import pytest
import requests
from sqlalchemy import func, select

from tests.resilient import ChatStream

VISITORS_PER_SERVER = 4
AGENTS_PER_SERVER = 2
MESSAGES_EACH = 30
TERMINATE_AFTER = 0.3  # share of all messages acknowledged when server "a" gets SIGTERM
MEAN_PAUSE = 0.2
STREAM_DEADLINE = 60.0


def _agent_connections(app, tenant) -> int:
    from saas.models import AgentConnection
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(func.count()).select_from(AgentConnection))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sigterm_mid_stream_exits_within_10_s_and_loses_and_duplicates_nothing(start_server, app, make_tenant):
    # a load stream, not abuse: the per-visitor message limit is not what is tested here
    unlimited = {"SWITCHBOARD_VISITOR_MAX_MESSAGES": "100000"}
    server_a, server_b = start_server(unlimited, name="a"), start_server(unlimited, name="b")
    tenant = make_tenant(agents=2 * AGENTS_PER_SERVER)
    stream = ChatStream(app, tenant, [server_a, server_b], VISITORS_PER_SERVER, AGENTS_PER_SERVER,
                        MESSAGES_EACH, MEAN_PAUSE)
    try:
        stream.start()
        assert _agent_connections(app, tenant) == 2 * AGENTS_PER_SERVER
        stream.wait_until_acked(TERMINATE_AFTER)
        acked_at_term = stream.acked()
        os.kill(server_a.process.pid, signal.SIGTERM)
        terminated_at = time.monotonic()
        assert server_a.process.wait(timeout=10) == 0, server_a.log()
        exited_after = time.monotonic() - terminated_at
        with pytest.raises(requests.ConnectionError):
            requests.get(server_a.url + "/healthz", timeout=2)

        stream.finish(STREAM_DEADLINE)
        assert acked_at_term < stream.total
        on_a = [c for c in stream.clients if c.home == server_a.url]
        for client in on_a:
            assert client.failovers and all(f["to"] == server_b.url for f in client.failovers), client.name
        problems = stream.verify()
        print(f"\n{stream.summary()}\nSIGTERM after {acked_at_term} acked; exited after {exited_after:.2f} s")
        assert not problems, "\n".join(problems)
        # a's consoles were forgotten when it shut down; each agent is now on record once, on b
        assert _agent_connections(app, tenant) == 2 * AGENTS_PER_SERVER
        assert "shut down in" in server_a.log_path.read_text(errors="replace")
    finally:
        stream.close()
