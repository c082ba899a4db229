"""Folding the report rollups (``saas.services.reports.rollups``) of every tenant every
``REPORT_ROLLUP_SECONDS`` (saas/config.py), started once per server process by ``wsgi.py``.

- With ``REDIS_URL``: the loop enqueues one RQ job per tenant, so the folding runs on the workers.
- Embedded: the loop folds each tenant in the server process.

Folds lock their watermark row, so any number of processes folding the same tenant fold each fact
once; reports add the facts written since the last fold from the raw tables, so a late or skipped
fold makes a report slower, never different."""
from flask import Flask

from saas.services.reports import rollups
from tenants import TenantRef, tenant_context, tenant_session

from . import enqueue
from .timers import each_tenant_forever

FOLD_JOB = "workers.rollups.fold"


def fold() -> dict[str, int]:
    """The RQ job (inside the tenant's context)."""
    return rollups.fold(tenant_session())


def fold_tenant(tenant: TenantRef) -> None:
    """Embedded mode: fold one tenant in this process."""
    with tenant_context(tenant):
        fold()


def enqueue_fold(tenant: TenantRef) -> None:
    """With Redis: fold one tenant on an RQ worker."""
    enqueue(FOLD_JOB, tenant)


def start(app: Flask) -> None:
    """Called once by the server process at startup (not per request)."""
    from saas.extensions import socketio

    work = enqueue_fold if app.config["REDIS_URL"] else fold_tenant
    socketio.start_background_task(each_tenant_forever, app, "REPORT_ROLLUP_SECONDS", work)
