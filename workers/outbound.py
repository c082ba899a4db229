"""The job sending outbound deliveries (``saas.services.outbound``) and retrying them with backoff.

Each attempt is its own job: claim (a conditional UPDATE, so a duplicate job sends nothing), send
with no transaction open, record, and schedule the next attempt after the backoff. Agents hear
every status change as ``message:delivery``. Deliveries left queued by a stopped process (its
in-process greenlet died, or the RQ job was lost) are picked up by ``resume`` at startup.
"""
from flask import Flask

from saas.realtime.broadcast import to_agents
from saas.services import outbound
from tenants import TenantRef, current_tenant, tenant_context, tenant_session

from . import enqueue
from .timers import each_tenant


def attempt(delivery_id: int) -> bool:
    """The job (inside the delivery's tenant). True when this attempt was accepted."""
    session = tenant_session()
    tenant = current_tenant._get_current_object()
    delivery = outbound.claim(session, delivery_id)
    if delivery is None:
        return False
    to_agents(tenant, "message:delivery", outbound.event_payload(delivery))
    retry_in = outbound.record(session, delivery, outbound.send(delivery))
    to_agents(tenant, "message:delivery", outbound.event_payload(delivery))
    if retry_in is not None:
        outbound.schedule(delivery, retry_in)
    return delivery.status == outbound.DELIVERED


def _resume_tenant(tenant: TenantRef) -> None:
    with tenant_context(tenant):
        for delivery_id in outbound.due_ids(tenant_session()):
            enqueue(outbound.ATTEMPT_JOB, tenant, delivery_id)


def resume(app: Flask) -> None:
    """Called once by the server process at startup: queue every due delivery of every tenant
    again (a duplicate of a job still in RQ sends nothing: the claim lets one through)."""
    from saas.extensions import socketio

    socketio.start_background_task(each_tenant, app, _resume_tenant)
