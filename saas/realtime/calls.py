"""The console's phone calls: an agent logs a call on a contact's timeline (``call:log``)."""
from pydantic import Field

from tenants import tenant_session

from ..models import ROLES
from ..services import calls, tracking
from . import broadcast, rooms
from .agent import AGENT
from .guard import SocketIdentity, agent_of, socket_event
from .payloads import SQL_INT_MAX, _Payload


class CallLog(_Payload):
    visitor_id: str = Field(min_length=1, max_length=32)
    direction: str = Field(max_length=16)
    duration_seconds: int | None = Field(default=None, ge=0, le=SQL_INT_MAX)
    note: str = Field(default="", max_length=10_000)


@socket_event(AGENT, CallLog, roles=ROLES)
def on_log(identity: SocketIdentity, request: CallLog):
    session = tenant_session()
    visitor = tracking.find_visitor(session, request.visitor_id)
    agent = agent_of(identity)
    event = calls.log_call(session, agent, visitor, request.direction, request.duration_seconds, request.note)
    call = calls.call_dict(event, visitor, agent.display_name)
    broadcast.to_agents(identity.tenant, "call:event", call)
    return {"call": call}


def register(socketio) -> None:
    socketio.on_event("call:log", on_log, namespace=rooms.AGENT_NAMESPACE)
