"""Operations: SIGTERM to the Procfile's RQ worker in the middle of a job: RQ's warm shutdown lets
the job finish, then the worker exits; the job's JSON log line names its tenant."""
import json
import signal

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus

from tests.resilient import wait_for
from tests.rq_helpers import ProcfileProcess

JOB_SECONDS = 3


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sigterm_lets_the_running_job_finish_then_the_worker_exits(backend, app, make_tenant, tmp_path):
    import workers

    tenant = make_tenant()
    log = tmp_path / "worker.log"
    worker = ProcfileProcess("worker", backend.env, log).process
    try:
        queue = Queue(workers.QUEUES[0], connection=Redis.from_url(backend.env["REDIS_URL"]))
        job = queue.enqueue(workers.run_tenant_job, "time.sleep", tenant.ref.id, JOB_SECONDS)
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 30, "the job to start")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=JOB_SECONDS + 10) == 0, log.read_text()
        assert job.get_status(refresh=True) == JobStatus.FINISHED, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    done = [line for line in lines if line.get("kind") == "job"]
    assert len(done) == 1, log.read_text()
    assert done[0]["tenant"] == tenant.slug and done[0]["request_id"] == job.id and done[0]["outcome"] == "ok"
    assert done[0]["duration_ms"] >= JOB_SECONDS * 1000
