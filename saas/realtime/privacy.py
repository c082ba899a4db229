"""Visitor erasure from the console (namespace /agent): owners and admins only."""
from flask import request
from pydantic import Field

from tenants import tenant_session

from ..models import ADMIN_ROLES
from ..services import erasure
from . import broadcast, rooms
from .guard import SocketIdentity, agent_of, socket_event
from .payloads import _Payload


class EraseVisitor(_Payload):
    visitor_id: str = Field(min_length=1, max_length=32)


@socket_event("agent", EraseVisitor, roles=ADMIN_ROLES)
def on_erase(identity: SocketIdentity, ask: EraseVisitor):
    session = tenant_session()
    erasure.erase_visitor(session, identity.tenant, agent_of(identity), ask.visitor_id, address=request.remote_addr)
    broadcast.to_agents(identity.tenant, "visitor:updated", {"visitor_id": ask.visitor_id})
    return {"erased": ask.visitor_id}


def register(socketio) -> None:
    socketio.on_event("visitor:erase", on_erase, namespace=rooms.AGENT_NAMESPACE)
