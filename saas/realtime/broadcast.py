"""Telling connected clients what changed. Handlers call these after the services committed."""
import logging

from flask import current_app
from sqlalchemy.orm import Session

from tenants import TenantRef, tenant_context, tenant_session

from ..extensions import socketio
from ..observability import metrics
from ..models import Conversation, User, Visitor
from ..models.base import utcnow
from ..services import routing
from ..services.conversations import Posted
from . import board, rooms
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
    joined = set()
    for conversation in result.conversations.values():
        to_agents(tenant, "conversation:updated", conversation_dict(conversation))
        to_visitor(tenant, conversation.visitor, "conversation:state", visitor_state(session, conversation))
        if routing.anyone_behind(session, conversation):
            queues.add(conversation.department_id)
        elif conversation.waiting_since is not None:
            joined.add(conversation.department_id)
    for department_id in queues:
        _refresh_queue_soon(tenant, department_id)
    # Last in line: nobody's place moved, but the agents' view of the queue (and its wait) changed.
    for department_id in joined - queues:
        _refresh_queue_soon(tenant, department_id, places_moved=False)
    if result.conversations or queues:
        board.changed(tenant)


# Queue places are re-sent to every waiting visitor of a department when they move. A burst of
# arrivals or assignments would repeat that hundreds of times, so refreshes are collected per
# department and sent once, QUEUE_REFRESH_DELAY later, from the latest state. Agents get the queue
# either way; visitors only when some place moved.
QUEUE_REFRESH_DELAY = 0.1
_pending_queues: dict[tuple[TenantRef, int | None], bool] = {}  # -> whether places moved
_flush_scheduled = False


def _refresh_queue_soon(tenant: TenantRef, department_id: int | None, places_moved: bool = True) -> None:
    global _flush_scheduled
    key = (tenant, department_id)
    _pending_queues[key] = _pending_queues.get(key, False) or places_moved
    if not _flush_scheduled:
        _flush_scheduled = True
        socketio.start_background_task(_flush_queue_refreshes, current_app._get_current_object())


def _flush_queue_refreshes(app) -> None:
    global _flush_scheduled
    socketio.sleep(QUEUE_REFRESH_DELAY)
    _flush_scheduled = False
    pending = list(_pending_queues.items())
    _pending_queues.clear()
    with app.app_context():
        for (tenant, department_id), places_moved in pending:
            try:
                with tenant_context(tenant):
                    _send_queue(tenant, tenant_session(), department_id, places_moved)
            except Exception:  # one tenant's failure must not cost the others their refresh
                log.exception("queue refresh failed for %s department %s", tenant.slug, department_id)


def _send_queue(tenant: TenantRef, session: Session, department_id: int | None, places_moved: bool) -> None:
    waiting = routing.queue(session, department_id)
    if places_moved and waiting:
        facts = _queue_facts(session, department_id)
        for place, conversation in enumerate(waiting, start=1):
            to_visitor(tenant, conversation.visitor, "conversation:state",
                       visitor_state(session, conversation, place, facts))
    # The wait is counted here, not from waiting_since in the console, so that a browser whose clock
    # is off still alerts on time (console_notifications.js: "queue waiting too long").
    longest_wait = round((utcnow() - waiting[0].waiting_since).total_seconds()) if waiting else 0
    to_agents(tenant, "queue:updated", {"department_id": department_id, "conversation_ids": [c.id for c in waiting],
                                        "longest_wait_seconds": longest_wait,
                                        "alert_after_seconds": current_app.config["QUEUE_ALERT_SECONDS"]})


def presence_changed(tenant: TenantRef, agent: User) -> None:
    to_agents(tenant, "agent:presence", {"id": agent.id, "presence": agent.presence})
    board.changed(tenant)
