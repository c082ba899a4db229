"""Socket events of the agent console (namespace /agent)."""
from urllib.parse import urlsplit

from flask import current_app, request
from flask_login import current_user
from flask_socketio import join_room

from tenants import registry, tenant_context, tenant_session

from ..models import ROLES, User
from ..services import conversations
from . import broadcast, rooms
from .guard import SocketIdentity, refuse_connection, remember, socket_event
from .payloads import AgentSend, ConversationRef, ReadUpTo, conversation_dict, message_dict

AGENT = "agent"


def _same_origin() -> bool:
    # A browser always sends Origin on a WebSocket/polling handshake; refusing foreign origins
    # stops another site from riding an agent's cookie. Non-browser clients send none.
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    tenant = registry.find_by_slug(auth.get("tenant"))
    if tenant is None or not tenant.is_active or not _same_origin():
        refuse_connection("unauthorized", "Log in to this workspace first.")
    with tenant_context(tenant):
        if not current_user.is_authenticated:
            refuse_connection("unauthorized", "Log in to this workspace first.")
        remember(SocketIdentity(AGENT, tenant, current_user.id, current_user.role))
        join_room(rooms.agents(tenant))


def _agent(identity: SocketIdentity) -> User:
    return tenant_session().get(User, identity.subject_id)


@socket_event(AGENT, roles=ROLES)
def on_list(identity: SocketIdentity):
    rows = conversations.inbox(tenant_session(), _agent(identity))
    return {"conversations": [conversation_dict(r.conversation, r.last_message, r.unread) for r in rows]}


@socket_event(AGENT, ConversationRef, roles=ROLES)
def on_open(identity: SocketIdentity, request: ConversationRef):
    session = tenant_session()
    conversation = conversations.get_conversation(session, request.conversation_id)
    messages = conversations.messages_after(session, conversation, request.after_seq)
    return {"conversation": conversation_dict(conversation), "messages": [message_dict(m) for m in messages]}


@socket_event(AGENT, AgentSend, roles=ROLES)
def on_send(identity: SocketIdentity, request: AgentSend):
    posted = conversations.post_agent_message(
        tenant_session(), _agent(identity), request.conversation_id, client_id=request.client_id,
        body=request.body, max_length=current_app.config["MAX_MESSAGE_LENGTH"],
    )
    if posted.is_new:
        broadcast.message_posted(identity.tenant, posted)
    return {"message": message_dict(posted.message), "duplicate": not posted.is_new}


@socket_event(AGENT, ReadUpTo, roles=ROLES)
def on_read(identity: SocketIdentity, request: ReadUpTo):
    session = tenant_session()
    conversation = conversations.get_conversation(session, request.conversation_id)
    return {"last_read_seq": conversations.mark_read(session, _agent(identity), conversation, request.seq)}


def register(socketio) -> None:
    ns = rooms.AGENT_NAMESPACE
    socketio.on_event("connect", on_connect, namespace=ns)
    socketio.on_event("conversations:list", on_list, namespace=ns)
    socketio.on_event("conversation:open", on_open, namespace=ns)
    socketio.on_event("message:send", on_send, namespace=ns)
    socketio.on_event("conversation:read", on_read, namespace=ns)
