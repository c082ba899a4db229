"""Background jobs: RQ on Redis in production, greenlets in the server process on the embedded
default. Jobs take ids (the tenant's too) and open their own tenant context, as redash's do."""
import importlib
import logging
from datetime import timedelta

from flask import Flask, current_app
from rq import get_current_job

from saas.observability import logs
from tenants import registry, tenant_context

log = logging.getLogger(__name__)
QUEUES = ["default"]
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    app.extensions["switchboard_jobs"] = {"redis_url": app.config["REDIS_URL"]}
    from . import timers  # here, not at the top: it imports this package's QUEUES and the services

    timers.init_app(app)


def _function(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _run(path: str, tenant_id: int, args: tuple) -> object:
    tenant = registry.find_by_id(tenant_id)
    if tenant is None:
        raise LookupError(f"tenant {tenant_id} no longer exists")
    current_job = get_current_job()  # None when run in the server process (embedded mode)
    with tenant_context(tenant), logs.job(path, tenant.slug, current_job.id if current_job else None):
        return _function(path)(*args)


def worker_app() -> Flask:
    """The app of an RQ worker process, built on first use, not at import time."""
    global _worker_app
    if _worker_app is None:
        from saas import create_app

        _worker_app = create_app()
    return _worker_app


def run_tenant_job(path: str, tenant_id: int, *args):
    """What an RQ worker executes."""
    with worker_app().app_context():
        return _run(path, tenant_id, args)


def enqueue(path: str, tenant, *args, delay_seconds: float = 0):
    """Run ``path(*args)`` (a dotted function name) in the background inside ``tenant``'s context,
    at once or ``delay_seconds`` from now (RQ's scheduler: the worker runs ``--with-scheduler``)."""
    tenant_id = tenant.id  # resolved now: a current_tenant proxy means nothing once the request ends
    redis_url = current_app.extensions["switchboard_jobs"]["redis_url"]
    if redis_url:
        from redis import Redis
        from rq import Queue

        queue = Queue(QUEUES[0], connection=Redis.from_url(redis_url))
        if delay_seconds > 0:
            return queue.enqueue_in(timedelta(seconds=delay_seconds), run_tenant_job, path, tenant_id, *args)
        return queue.enqueue(run_tenant_job, path, tenant_id, *args)
    from saas.extensions import socketio

    app = current_app._get_current_object()

    def in_process():
        socketio.sleep(delay_seconds)
        with app.app_context():
            try:
                _run(path, tenant_id, args)
            except Exception:
                log.exception("background job %s failed", path)

    return socketio.start_background_task(in_process)
