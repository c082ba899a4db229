"""The two drivers of the persisted timers (``saas.services.timers``), reading the same rows.

- With ``REDIS_URL``: every new timer becomes an RQ job scheduled at its due time (the worker runs
  ``rq worker --with-scheduler``); jobs survive restarts in Redis, and each server process sweeps
  the stored pending timers into RQ on startup, so a job lost or never enqueued (a crash between
  commit and enqueue) still runs, at once if overdue.
- Embedded: a greenlet in the server process polls every tenant's due timers.

Either way a timer is fired by ``auto_replies.fire``, whose conditional claim lets exactly one
of any number of firers (duplicate jobs, several processes) act.
"""
import logging

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saas.models import utcnow
from saas.realtime.auto_replies import announce
from saas.services import auto_replies, timers
from tenants import TenantRef, current_tenant, registry, tenant_context, tenant_session

from . import QUEUES, run_tenant_job

log = logging.getLogger(__name__)
FIRE_JOB = "workers.timers.fire"


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _schedule_new_timers):
        event.listen(Session, "after_commit", _schedule_new_timers)
        event.listen(Session, "after_rollback", _forget_new_timers)


def _forget_new_timers(session: Session) -> None:
    session.info.pop(timers.NEW_TIMERS, None)


def _schedule_new_timers(session: Session) -> None:
    new = session.info.pop(timers.NEW_TIMERS, None)
    if new and current_app.config["REDIS_URL"]:
        for tenant, timer_id, due_at in new:
            try:
                schedule_job(tenant, timer_id, due_at)
            except Exception:  # the timer is stored: the next startup sweep schedules it
                log.exception("could not schedule timer %s of tenant %s in RQ", timer_id, tenant.slug)


def schedule_job(tenant: TenantRef, timer_id: int, due_at) -> None:
    """An RQ job firing the timer at ``due_at``. The job id is the timer's, so sweeping a timer
    that already has its job replaces that job instead of adding a second."""
    from redis import Redis
    from rq import Queue

    queue = Queue(QUEUES[0], connection=Redis.from_url(current_app.config["REDIS_URL"]))
    queue.enqueue_at(due_at, run_tenant_job, FIRE_JOB, tenant.id, timer_id,
                     job_id=f"timer-{tenant.slug}-{timer_id}")


def fire(timer_id: int) -> bool:
    """The RQ job (inside the timer's tenant): fire it if still pending and due."""
    session = tenant_session()
    # One clock reading for both checks: with two, a job woken a few ms early (RQ schedules to the
    # second) could find the timer not yet due, then due when deciding to retry, and drop it.
    now = utcnow()
    fired = auto_replies.fire(session, timer_id, now)
    if fired is None:
        due_at = timers.due_at(session, timer_id)
        if due_at is not None and due_at > now:  # woken early (clocks differ): try again then
            schedule_job(current_tenant._get_current_object(), timer_id, due_at)
        return False
    announce(current_tenant._get_current_object(), session, fired)
    return True


def fire_due(tenant: TenantRef) -> int:
    """Fire every due timer of one tenant; returns how many this caller fired."""
    count = 0
    with tenant_context(tenant):
        session = tenant_session()
        for timer_id in timers.due_ids(session, utcnow()):
            fired = auto_replies.fire(session, timer_id)
            if fired is not None:
                announce(tenant, session, fired)
                count += 1
    return count


def each_tenant(app: Flask, work) -> None:
    """``work(tenant)`` for every active tenant, each failure logged and the rest still done."""
    with app.app_context():
        for tenant in registry.all_tenants():
            if not tenant.is_active:
                continue
            try:
                work(tenant)
            except DBAPIError as exc:  # storage being created or dropped right now
                log.warning("%s of tenant %s skipped: %s", work.__name__, tenant.slug, exc.orig)
            except Exception:  # one tenant's failure must not stop the rest
                log.exception("%s of tenant %s failed", work.__name__, tenant.slug)


def _sweep_into_rq(tenant: TenantRef) -> None:
    with tenant_context(tenant):
        for timer in timers.all_pending(tenant_session()):
            schedule_job(tenant, timer.id, timer.due_at)


def each_tenant_forever(app: Flask, seconds_setting: str, work) -> None:
    """``each_tenant(app, work)`` every ``app.config[seconds_setting]`` seconds, for the process's life."""
    from saas.extensions import socketio

    while True:
        socketio.sleep(app.config[seconds_setting])
        each_tenant(app, work)


def start(app: Flask) -> None:
    """Called once by the server process at startup (not per request)."""
    from saas.extensions import socketio

    if app.config["REDIS_URL"]:
        socketio.start_background_task(each_tenant, app, _sweep_into_rq)
    else:
        socketio.start_background_task(each_tenant_forever, app, "TIMER_POLL_SECONDS", fire_due)
