"""Issue 9's fault test: two server processes share PostgreSQL and Redis; visitors and agents are
spread over both; about 1,000 messages are in flight in both directions when one process is killed
with SIGKILL. Its clients fail over to the other process the way a real client would (see
``tests/resilient.py``), and the outcome must be: 0 messages lost, 0 duplicated, every
conversation's order kept, and every client's view of its conversations equal to what was stored.
"""
import os
import signal
import statistics
import time

import pytest

from tests.resilient import ChatStream

VISITORS_PER_SERVER = 5
AGENTS_PER_SERVER = 2
MESSAGES_EACH = 50  # per visitor, and per conversation from its agent: 10 x (1 + 50) + 10 x 50 = 1,010
KILL_AFTER = 0.3  # share of all messages acknowledged when server "a" gets SIGKILL
MEAN_PAUSE = 0.25  # seconds between two messages of one writer (jittered 0-2x)
STREAM_DEADLINE = 60.0


# Scale-out is the production mode: PostgreSQL + Redis.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_kill_9_of_one_server_mid_stream_loses_and_duplicates_nothing(start_server, app, make_tenant):
    began = time.monotonic()
    server_a, server_b = start_server(name="a"), start_server(name="b")
    tenant = make_tenant(agents=2 * AGENTS_PER_SERVER)
    stream = ChatStream(app, tenant, [server_a, server_b], VISITORS_PER_SERVER, AGENTS_PER_SERVER,
                        MESSAGES_EACH, MEAN_PAUSE)
    try:
        stream.start()
        assert stream.total >= 1000
        stream.wait_until_acked(KILL_AFTER)
        written_at_kill = sum(len(w) for c in stream.clients for w in c.written.values())
        unacked_at_kill = sum(c.unacknowledged() for c in stream.clients)
        acked_at_kill = stream.acked()
        os.kill(server_a.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        server_a.process.wait(timeout=10)

        stream.finish(STREAM_DEADLINE)
        stream_ended = time.monotonic()

        # The crash really happened mid-stream, and every client of "a" moved to "b".
        assert acked_at_kill < stream.total and written_at_kill < stream.total, \
            (acked_at_kill, written_at_kill, stream.total)
        on_a = [c for c in stream.clients if c.home == server_a.url]
        for client in on_a:
            assert client.failovers, f"{client.name} never failed over"
            assert all(f["to"] == server_b.url and "caught_up" in f for f in client.failovers), client.failovers
        assert sum(c.stats["acked after failover"] for c in on_a) > 0

        problems = stream.verify()
        failovers = [f for c in on_a for f in c.failovers]
        print(f"\n{stream.summary()}\nkill -9 of server a after {acked_at_kill} acked ({written_at_kill} "
              f"written, {unacked_at_kill} unacknowledged) {killed_at - stream.began:.2f} s into the stream")
        print(f"failovers: {len(failovers)} by {len(on_a)} clients of a; disconnect seen "
              f"{max(f['down'] for f in failovers) - killed_at:.3f} s after the kill at the latest; reconnected "
              f"after {statistics.median(f['connected'] - killed_at for f in failovers):.3f} s median, "
              f"{max(f['connected'] - killed_at for f in failovers):.3f} s max; outbox resent and caught up "
              f"after {max(f['caught_up'] - killed_at for f in failovers):.3f} s max; outboxes at failover "
              f"{[f['outbox'] for f in failovers]}")
        print(f"stream {stream_ended - stream.began:.1f} s; test {time.monotonic() - began:.1f} s")
        assert not problems, "\n".join(problems)
    finally:
        stream.close()
        if server_a.process.poll() is None:
            server_a.process.kill()
            server_a.process.wait(timeout=10)
