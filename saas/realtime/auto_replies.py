"""Automatic replies on the wire: the widget's leave-a-message form, and telling clients what a
fired timer did (its messages and routing changes, and an alert for the silent agent)."""
from flask import current_app
from pydantic import Field
from sqlalchemy.orm import Session

from tenants import TenantRef, tenant_session

from ..extensions import socketio
from ..security import event_limits
from ..services import auto_replies
from . import broadcast, rooms
from .guard import SocketIdentity, socket_event, visitor_of
from .payloads import SQL_INT_MAX, _Payload, conversation_dict, message_dict

VISITOR = "visitor"


class LeaveMessage(_Payload):
    client_id: str = Field(max_length=64)
    name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    body: str = Field(max_length=100_000)
    department_id: int | None = Field(default=None, ge=1, le=SQL_INT_MAX)


@socket_event(VISITOR, LeaveMessage, limit=event_limits.MESSAGES)
def on_leave_message(identity: SocketIdentity, request: LeaveMessage):
    session = tenant_session()
    posted, outcome = auto_replies.leave_message(
        session, visitor_of(identity), name=request.name, email=request.email,
        body=request.body, client_id=request.client_id, department_id=request.department_id,
        max_length=current_app.config["MAX_MESSAGE_LENGTH"])
    broadcast.outcome(identity.tenant, session, outcome)
    return {"message": message_dict(posted.message), "conversation": conversation_dict(posted.conversation),
            "duplicate": not posted.is_new}


def announce(tenant: TenantRef, session: Session, fired: auto_replies.Fired) -> None:
    """Tell clients what firing a timer did; works from a server process or an RQ worker alike
    (with ``REDIS_URL`` the emits travel through the Socket.IO message queue)."""
    broadcast.outcome(tenant, session, fired.outcome)
    for conversation, agent_id, kind in fired.alerts:
        socketio.emit("agent:alert", {"kind": kind, "agent_id": agent_id, "conversation": conversation_dict(conversation)},
                      to=rooms.agents(tenant), namespace=rooms.AGENT_NAMESPACE)


def register(socketio) -> None:
    socketio.on_event("message:leave", on_leave_message, namespace=rooms.VISITOR_NAMESPACE)
