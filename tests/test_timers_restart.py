"""Persisted timers survive a server restart and fire exactly once, whatever drives them: the
embedded server's own loop (SQLite), or RQ jobs kept in Redis plus the startup sweep (PostgreSQL)."""
import time
from datetime import timedelta

import pytest
import redis
from rq import Queue

import workers
from workers.timers import FIRE_JOB
from tests.auto_reply_helpers import configure, stored_bodies, stored_timers, timer_rows, wait_for
from tests.rq_helpers import RqWorker
from tests.test_auto_replies import LATE

SILENCE = "Thanks for waiting, an agent will answer shortly."


def _rq_queue(backend) -> Queue:
    return Queue(workers.QUEUES[0], connection=redis.Redis.from_url(backend.env["REDIS_URL"]))


@pytest.mark.parametrize("job_lost", [False, True], ids=["job-kept", "job-lost"])
def test_a_timer_scheduled_before_a_restart_fires_once_after_it(app, backend, start_server, make_tenant, clients,
                                                                tmp_path, job_lost):
    if job_lost and backend.name != "postgresql":
        pytest.skip("only RQ keeps timers outside the database")
    tenant = make_tenant()
    configure(app, tenant, "agent_silent", SILENCE, seconds=4)
    before = start_server(name="before-restart")
    clients.agent(before, tenant)
    visitor = clients.visitor(before, tenant)
    assert visitor.send("Hello, anyone?")["ok"]
    before.stop()
    (timer,) = timer_rows(app, tenant)
    assert timer.kind == "agent_silent" and timer.fired_at is None and timer.cancelled_at is None

    worker = None
    if backend.name == "postgresql":
        queue = _rq_queue(backend)
        assert f"timer-{tenant.slug}-{timer.id}" in queue.scheduled_job_registry.get_job_ids()
        if job_lost:  # Redis lost its data: only the startup sweep can bring the reply back
            queue.connection.flushdb()
    after = start_server(name="after-restart")
    if backend.name == "postgresql":
        worker = RqWorker(backend.env, tmp_path / "rq-worker.log")  # no worker ran in between
    try:
        wait_for(lambda: stored_bodies(app, tenant) == [SILENCE], timeout=LATE + 4, what="the reply after restart")
        history = clients.visitor(after, tenant, token=visitor.token).history()
        assert [m["body"] for m in history["messages"] if m["sender"]["type"] == "system"] == [SILENCE]
        assert timer_rows(app, tenant)[0].fired_at is not None
        time.sleep(3)  # a second firer would have acted by now
        assert stored_bodies(app, tenant) == [SILENCE]
    finally:
        if worker is not None:
            worker.stop()


def test_two_drivers_on_the_same_due_timers_send_each_reply_once(app, backend, start_server, make_tenant, tmp_path):
    tenant = make_tenant()
    timer_ids = stored_timers(app, tenant, "visitor_idle", "Are you still there?", due_in=2, count=15)
    workers_started = []
    if backend.name == "postgresql":
        queue = _rq_queue(backend)
        for timer_id in timer_ids:  # a second job per timer, as a retry or a second sweep could make
            queue.enqueue_in(timedelta(seconds=2), workers.run_tenant_job, FIRE_JOB, tenant.ref.id, timer_id)
        workers_started = [RqWorker(backend.env, tmp_path / f"rq-worker-{n}.log") for n in range(2)]
    else:
        for n in range(2):
            start_server({"SWITCHBOARD_TIMER_POLL_SECONDS": "0.2"}, name=f"poller-{n}")
    try:
        wait_for(lambda: all(t.fired_at for t in timer_rows(app, tenant)), timeout=LATE + 10, what="all fired")
        time.sleep(1)
        assert stored_bodies(app, tenant) == ["Are you still there?"] * len(timer_ids)
    finally:
        for worker in workers_started:
            worker.stop()
