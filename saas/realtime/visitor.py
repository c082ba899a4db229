"""Socket events of the visitor widget (namespace /visitor)."""
from flask import current_app
from flask_socketio import emit, join_room

from tenants import registry, tenant_context, tenant_session

from ..models import Visitor
from ..services import conversations, visitors
from ..services.errors import ServiceError
from . import broadcast, rooms
from .guard import SocketIdentity, refuse_connection, remember, socket_event
from .payloads import HistoryRequest, VisitorSend, conversation_dict, message_dict

VISITOR = "visitor"


def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    tenant = registry.find_by_widget_key(auth.get("key"))
    if tenant is None or not tenant.is_active:
        refuse_connection("unknown_widget_key", "Unknown widget key.")
    token = auth.get("token")
    if token is not None and not isinstance(token, str):
        refuse_connection("bad_token", "The visitor token must be a string.")
    with tenant_context(tenant):
        try:
            visitor = visitors.identify(tenant_session(), tenant, token)
        except ServiceError as exc:
            refuse_connection(exc.code, exc.message)
        remember(SocketIdentity(VISITOR, tenant, visitor.id, VISITOR, visitor.public_id))
        join_room(rooms.visitor(tenant, visitor.public_id))
        emit("session", {"token": visitors.issue_token(tenant, visitor), "nickname": visitor.nickname})


def _visitor(identity: SocketIdentity) -> Visitor:
    return tenant_session().get(Visitor, identity.subject_id)


@socket_event(VISITOR, HistoryRequest)
def on_history(identity: SocketIdentity, request: HistoryRequest):
    session = tenant_session()
    conversation = conversations.latest_for_visitor(session, _visitor(identity))
    if conversation is None:
        return {"conversation": None, "messages": []}
    messages = conversations.messages_after(session, conversation, request.after_seq)
    return {"conversation": conversation_dict(conversation), "messages": [message_dict(m) for m in messages]}


@socket_event(VISITOR, VisitorSend)
def on_send(identity: SocketIdentity, request: VisitorSend):
    posted = conversations.post_visitor_message(
        tenant_session(), _visitor(identity), client_id=request.client_id, body=request.body,
        max_length=current_app.config["MAX_MESSAGE_LENGTH"],
    )
    if posted.is_new:
        broadcast.message_posted(identity.tenant, posted)
    return {"message": message_dict(posted.message), "duplicate": not posted.is_new}


def register(socketio) -> None:
    ns = rooms.VISITOR_NAMESPACE
    socketio.on_event("connect", on_connect, namespace=ns)
    socketio.on_event("history", on_history, namespace=ns)
    socketio.on_event("message:send", on_send, namespace=ns)
