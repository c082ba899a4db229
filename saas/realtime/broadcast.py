"""Telling connected clients what changed. Handlers call these after the service has committed."""
from tenants import TenantRef

from ..extensions import socketio
from ..services.conversations import Posted
from . import rooms
from .payloads import conversation_dict, message_dict


def message_posted(tenant: TenantRef, posted: Posted) -> None:
    message = message_dict(posted.message)
    socketio.emit("message:new", message, to=rooms.visitor(tenant, posted.conversation.visitor.public_id),
                  namespace=rooms.VISITOR_NAMESPACE)
    socketio.emit(
        "message:new",
        {"message": message, "conversation": conversation_dict(posted.conversation, posted.message)},
        to=rooms.agents(tenant),
        namespace=rooms.AGENT_NAMESPACE,
    )
