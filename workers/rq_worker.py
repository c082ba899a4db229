"""The RQ worker class the Procfile runs (``rq worker --worker-class workers.rq_worker.AppWorker``).

RQ forks a work horse per job. Built in the horse, the app (and every import behind it) would be
built again for each job: seconds of delay on every timer. Built once in the worker before it
forks, every horse inherits it. No database connection is opened by building it, so no pooled
connection is shared across the fork (redis-py resets its pool in a forked child by itself).
It also listens for RQ's commands in short reads (``subscribe``), so it stops at once.
"""
from rq import Worker

from . import worker_app


class AppWorker(Worker):
    def work(self, *args, **kwargs):
        worker_app()
        return super().work(*args, **kwargs)

    def subscribe(self):
        """RQ's own, with the listener reading for 1 s at a time instead of 60: redis-py 8's
        ``PubSubWorkerThread.stop()`` waits for the listener's read to return, and the reply to
        RQ's UNSUBSCRIBE can end one read before the stop flag is down, so the next read ran its
        full 60 s. A stopping worker (the end of a burst, SIGTERM) waited them out."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)
