"""Telling connected clients what changed. Handlers call these after the services committed."""
from sqlalchemy.orm import Session

from tenants import TenantRef

from ..extensions import socketio
from ..models import Conversation, User
from ..services import routing
from ..services.conversations import Posted
from . import rooms
from .payloads import conversation_dict, message_dict


def _to_visitor(tenant: TenantRef, conversation: Conversation, event: str, data) -> None:
    socketio.emit(event, data, to=rooms.visitor(tenant, conversation.visitor.public_id),
                  namespace=rooms.VISITOR_NAMESPACE)


def _to_agents(tenant: TenantRef, event: str, data) -> None:
    socketio.emit(event, data, to=rooms.agents(tenant), namespace=rooms.AGENT_NAMESPACE)


def message_posted(tenant: TenantRef, posted: Posted) -> None:
    message = message_dict(posted.message)
    _to_visitor(tenant, posted.conversation, "message:new", message)
    _to_agents(tenant, "message:new",
               {"message": message, "conversation": conversation_dict(posted.conversation, posted.message)})


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
    told = set()
    for conversation in result.conversations.values():
        _to_agents(tenant, "conversation:updated", conversation_dict(conversation))
        _to_visitor(tenant, conversation, "conversation:state", visitor_state(session, conversation))
        told.add(conversation.id)
    for department_id in result.queues:
        waiting = routing.queue(session, department_id)
        facts = _queue_facts(session, department_id) if waiting else None
        for place, conversation in enumerate(waiting, start=1):
            if conversation.id not in told:
                _to_visitor(tenant, conversation, "conversation:state",
                            visitor_state(session, conversation, place, facts))
        _to_agents(tenant, "queue:updated",
                   {"department_id": department_id, "conversation_ids": [c.id for c in waiting]})


def presence_changed(tenant: TenantRef, agent: User) -> None:
    _to_agents(tenant, "agent:presence", {"id": agent.id, "presence": agent.presence})
