"""The Procfile's lines run in tests: its RQ worker as a long-running process, or in burst mode to
drain the queue once; and the queue emptied of what earlier tests left, so a test's worker runs
only its own jobs."""
import os
import subprocess
import sys
from pathlib import Path

from redis import Redis
from rq import Queue

from workers import QUEUES

ROOT = Path(__file__).parent.parent


def procfile_commands() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def procfile_environment(env: dict) -> dict:
    """This machine's environment with ``env`` over it, and the virtualenv's commands first."""
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, **env, "PATH": venv_bin + os.pathsep + os.environ["PATH"]}


class ProcfileProcess:
    """One Procfile line (``web``, ``worker``) running as the platform runs it, configured by ``env``."""

    def __init__(self, name: str, env: dict, log: Path):
        self.log = log
        self.process = subprocess.Popen(["bash", "-c", f"exec {procfile_commands()[name]}"], cwd=ROOT,
                                        stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                        env=procfile_environment(env))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RqWorker(ProcfileProcess):
    """The Procfile's worker line (`rq worker --with-scheduler …`), against the test Redis."""

    def __init__(self, env: dict, log: Path):
        assert "--with-scheduler" in procfile_commands()["worker"]  # timers are scheduled jobs
        super().__init__("worker", env, log)


def drain_queue(env: dict) -> None:
    """The Procfile's worker in burst mode: runs what is queued now, then exits."""
    command = procfile_commands()["worker"].replace("rq worker", "rq worker --burst", 1)
    subprocess.run(["bash", "-c", f"exec {command}"], cwd=ROOT, env=procfile_environment(env), check=True,
                   timeout=60, capture_output=True)


def forget_earlier_jobs(redis_url: str) -> None:
    """Every conversation of every earlier test in this worker scheduled timer jobs in the shared
    test Redis; a worker started now would first run hundreds of them, overdue and moot."""
    queue = Queue(QUEUES[0], connection=Redis.from_url(redis_url))
    queue.empty()
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)
