"""Telling connected clients what changed. Handlers call these after the services committed."""
import logging

from flask import current_app
from sqlalchemy.orm import Session

from tenants import TenantRef, tenant_context, tenant_session

from ..extensions import socketio
from ..observability import metrics
from ..models import Conversation, User, Visitor
from ..services import routing
from ..services.conversations import Posted
from . import rooms
from .payloads import conversation_dict, message_dict

log = logging.getLogger(__name__)


def to_visitor(tenant: TenantRef, visitor: Visitor, event: str, data) -> None:
    """To every widget tab of this visitor, on any server process."""
    socketio.emit(event, data, to=rooms.visitor(tenant, visitor.public_id), namespace=rooms.VISITOR_NAMESPACE)


def to_agents(tenant: TenantRef, event: str, data) -> None:
    """To every console of this tenant, on any server process."""
    socketio.emit(event, data, to=rooms.agents(tenant), namespace=rooms.AGENT_NAMESPACE)


def message_posted(tenant: TenantRef, posted: Posted) -> None:
    message = message_dict(posted.message)
    to_visitor(tenant, posted.conversation.visitor, "message:new", message)
    to_agents(tenant, "message:new",
               {"message": message, "conversation": conversation_dict(posted.conversation, posted.message)})
    metrics.message_delivered(posted.message)


def visitor_state(session: Session, conversation: Conversation, place: int | None = None,
                  queue_facts: tuple[int, int] | None = None) -> dict:
    """What the widget shows about who is answering, and the queue place while waiting.
    ``place`` and ``queue_facts`` (seconds per place, agents online) save queries when the
    caller already knows them for a whole queue."""
    if place is None:
        place = routing.position(session, conversation)
    if place and queue_facts is None:
        queue_facts = _queue_facts(session, conversation.department_id)
    agent = session.get(User, conversation.assigned_agent_id) if conversation.handler == "agent" else None
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "handler": conversation.handler,
        "agent_name": agent.display_name if agent else None,
        "position": place,
        "estimated_wait_seconds": place * queue_facts[0] if place else None,
        "agents_online": queue_facts[1] if place else None,
    }


def _queue_facts(session: Session, department_id: int | None) -> tuple[int, int]:
    return routing.seconds_per_place(session, department_id), routing.online_agents(session, department_id)


def outcome(tenant: TenantRef, session: Session, result: routing.Outcome) -> None:
    for posted in result.posted:
        if posted.is_new:
            message_posted(tenant, posted)
    queues = set(result.queues)
    for conversation in result.conversations.values():
        to_agents(tenant, "conversation:updated", conversation_dict(conversation))
        to_visitor(tenant, conversation.visitor, "conversation:state", visitor_state(session, conversation))
        if routing.anyone_behind(session, conversation):
            queues.add(conversation.department_id)
    for department_id in queues:
        _refresh_queue_soon(tenant, department_id)


# Queue places are re-sent to every waiting visitor of a department when they move. A burst of
# arrivals or assignments would repeat that hundreds of times, so refreshes are collected per
# department and sent once, QUEUE_REFRESH_DELAY later, from the latest state.
QUEUE_REFRESH_DELAY = 0.1
_pending_queues: set[tuple[TenantRef, int | None]] = set()
_flush_scheduled = False


def _refresh_queue_soon(tenant: TenantRef, department_id: int | None) -> None:
    global _flush_scheduled
    _pending_queues.add((tenant, department_id))
    if not _flush_scheduled:
        _flush_scheduled = True
        socketio.start_background_task(_flush_queue_refreshes, current_app._get_current_object())


def _flush_queue_refreshes(app) -> None:
    global _flush_scheduled
    socketio.sleep(QUEUE_REFRESH_DELAY)
    _flush_scheduled = False
    pending = list(_pending_queues)
    _pending_queues.clear()
    with app.app_context():
        for tenant, department_id in pending:
            try:
                with tenant_context(tenant):
                    _send_queue(tenant, tenant_session(), department_id)
            except Exception:  # one tenant's failure must not cost the others their refresh
                log.exception("queue refresh failed for %s department %s", tenant.slug, department_id)


def _send_queue(tenant: TenantRef, session: Session, department_id: int | None) -> None:
    waiting = routing.queue(session, department_id)
    facts = _queue_facts(session, department_id) if waiting else None
    for place, conversation in enumerate(waiting, start=1):
        to_visitor(tenant, conversation.visitor, "conversation:state",
                   visitor_state(session, conversation, place, facts))
    to_agents(tenant, "queue:updated", {"department_id": department_id, "conversation_ids": [c.id for c in waiting]})


def presence_changed(tenant: TenantRef, agent: User) -> None:
    to_agents(tenant, "agent:presence", {"id": agent.id, "presence": agent.presence})
