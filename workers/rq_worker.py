"""The RQ worker class the Procfile runs (``rq worker --worker-class workers.rq_worker.AppWorker``).

RQ forks a work horse per job. Built in the horse, the app (and every import behind it) would be
built again for each job: seconds of delay on every timer. Built once in the worker before it
forks, every horse inherits it. No database connection is opened by building it, so no pooled
connection is shared across the fork (redis-py resets its pool in a forked child by itself).
"""
from rq import Worker

from . import worker_app


class AppWorker(Worker):
    def work(self, *args, **kwargs):
        worker_app()
        return super().work(*args, **kwargs)
