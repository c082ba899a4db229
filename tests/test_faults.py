"""Issue 9's storage and message-queue faults, mid-stream: visitors and agents on two server
processes write to each other (``tests/resilient.py``: outbox, resend with the same client id,
hole filling, as the widget and the console do) while PostgreSQL or Redis goes away and comes
back. Afterwards: 0 messages lost, 0 duplicated, every conversation's order kept, every client's
view equal to what was stored, and both server processes still alive and serving.

PostgreSQL is not restarted: other test runs share this machine's cluster. The outage is scoped
to the test's own database: it stops accepting connections and every session on it is ended
(``pg_terminate_backend``), which is what a restart looks like to the servers' connection pools.
Redis is this test's own ``redis-server`` on a free port, shut down and started again on that port.
"""
import shutil
import subprocess
import time
from collections import Counter

import pytest
import redis
import requests

from tests.conftest import free_port, need
from tests.resilient import ChatStream, database_allows_connections, wait_for

VISITORS_PER_SERVER = 3
AGENTS_PER_SERVER = 1
MESSAGES_EACH = 40  # 6 x (1 + 40) + 6 x 40 = 486 messages
MEAN_PAUSE = 0.15  # a writer's 40 messages take about 6 s, so the outage falls mid-stream
OUTAGE_AFTER = 0.25  # share of the messages acknowledged when the outage begins
OUTAGE_SECONDS = 2.0
STREAM_DEADLINE = 45.0


def _assert_serving(servers) -> None:
    for server in servers:
        assert server.process.poll() is None, f"server {server.url} died:\n{server.log()}"
        assert requests.get(server.url + "/healthz", timeout=5).ok


def _arrivals(stream: ChatStream) -> Counter:
    return sum((client.arrivals() for client in stream.clients), Counter())


def _run_stream_with_outage(app, tenant, servers, outage, restore) -> tuple[ChatStream, Counter]:
    """Run the stream with an outage while a quarter is acknowledged; returns the stream and how
    its clients' views had been filled when the outage ended."""
    stream = ChatStream(app, tenant, servers, VISITORS_PER_SERVER, AGENTS_PER_SERVER, MESSAGES_EACH, MEAN_PAUSE)
    try:
        stream.start()
        stream.wait_until_acked(OUTAGE_AFTER)
        acked_before = stream.acked()
        outage()
        try:
            time.sleep(OUTAGE_SECONDS)
            _assert_serving(servers)
        finally:
            restore()
        arrivals_at_restore = _arrivals(stream)
        assert acked_before < stream.total
        stream.finish(STREAM_DEADLINE)
        _assert_serving(servers)
        problems = stream.verify()
        print(f"\n{stream.summary()}\noutage after {acked_before} of {stream.total} acknowledged")
        assert not problems, "\n".join(problems)
        return stream, arrivals_at_restore
    finally:
        stream.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_database_outage_mid_stream_gives_error_acks_then_everything_is_stored_once_in_order(
        backend, start_server, app, make_tenant):
    servers = [start_server(name="a"), start_server(name="b")]
    tenant = make_tenant(agents=AGENTS_PER_SERVER * len(servers))
    try:
        stream, _ = _run_stream_with_outage(app, tenant, servers,
                                         outage=lambda: database_allows_connections(backend, False),
                                         restore=lambda: database_allows_connections(backend, True))
    finally:
        database_allows_connections(backend, True)
    stats = sum((client.stats for client in stream.clients), Counter())
    # The outage was felt: sends were refused with an error ack and then resent.
    assert stats["error ack unavailable"] > 0, dict(stats)


class RedisServer:
    """This test's own redis-server on a fixed port, so it can be stopped and started again."""

    def __init__(self, log_dir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        wait_for(self._answers, 10, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(server_logs):
    need("redis-server", None if shutil.which("redis-server") else FileNotFoundError("no redis-server on PATH"))
    server = RedisServer(server_logs)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_redis_outage_mid_stream_loses_and_duplicates_nothing(start_server, app, make_tenant, own_redis):
    servers = [start_server({"REDIS_URL": own_redis.url}, name="a"),
               start_server({"REDIS_URL": own_redis.url}, name="b")]
    tenant = make_tenant(agents=AGENTS_PER_SERVER * len(servers))
    stream, at_restore = _run_stream_with_outage(app, tenant, servers, outage=own_redis.stop,
                                                 restore=own_redis.start)
    arrivals = _arrivals(stream)
    for server in servers:  # both processes lost Redis for real
        assert "Cannot receive from redis" in server.log_path.read_text(errors="replace"), server.log()
    # Pushes published while Redis was down are gone; the clients saw the holes and fetched them.
    assert arrivals["gap fill"] > 0, dict(arrivals)
    # Once Redis is back, pushes flow again (each server's listener resubscribed).
    assert arrivals["push"] > at_restore["push"], (dict(at_restore), dict(arrivals))
