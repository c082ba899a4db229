"""Socket events of the visitor widget (namespace /visitor)."""
from flask import current_app, request
from flask_socketio import emit, join_room

from tenants import registry, tenant_context, tenant_session

from ..models import Visitor
from ..security import event_limits, origins
from .. import i18n
from ..services import bot, conversations, routing, visitor_offer, visitors
from ..services.errors import ServiceError
from . import app_sockets, broadcast, rooms
from .guard import (
    SocketIdentity, in_own_greenlet, refuse_connection, remember, remember_language, socket_event, visitor_of,
)
from .payloads import (
    Empty, HistoryRequest, RateAnswer, StartConversation, VisitorSend, conversation_dict, department_dict,
    message_dict,
)

VISITOR = "visitor"


def _welcome(tenant, arrival: visitors.Arrival, offer: visitor_offer.Offer, language: str) -> dict:
    """Everything the widget needs before the first message: identity, departments, form."""
    session = tenant_session()
    visitor = arrival.visitor
    current = None if arrival.is_new else conversations.latest_for_visitor(session, visitor)
    return {
        "token": visitors.issue_token(tenant, visitor),
        "nickname": visitor.nickname,
        "language": language,  # the bot and automatic replies speak it from now on
        "departments": [{**department_dict(d), "name": name} for d, name in offer.departments(session, language)],
        "state": broadcast.visitor_state(session, current) if current is not None else None,
        **offer.payload(session, language),
    }


@in_own_greenlet  # not on the idle connection's greenlet: its stack would stay resident
def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    tenant = registry.find_by_widget_key(auth.get("key"))
    if tenant is None or not tenant.is_active:
        refuse_connection("unknown_widget_key", "Unknown widget key.")
    token = auth.get("token")
    if token is not None and not isinstance(token, str):
        refuse_connection("bad_token", "The visitor token must be a string.")
    with tenant_context(tenant):
        if not origins.is_allowed(tenant_session(), request.headers.get("Origin")):
            refuse_connection("origin_not_allowed", origins.REFUSAL)
        try:
            arrival, offer, language = visitor_offer.arrive(tenant_session(), tenant, token, i18n.browser_languages())
        except ServiceError as exc:
            refuse_connection(exc.code, exc.message)
        visitor = arrival.visitor
        remember(SocketIdentity(VISITOR, tenant, visitor.id, VISITOR, visitor.public_id))
        join_room(rooms.visitor(tenant, visitor.public_id))
        app_sockets.opened(visitor)
        remember_language(language)
        emit("session", _welcome(tenant, arrival, offer, language))


def history(visitor: Visitor, after_seq: int) -> dict:
    """The visitor's latest conversation from ``after_seq`` on: the socket's ``history`` answer
    and the app API's (saas/app_api)."""
    session = tenant_session()
    conversation = conversations.latest_for_visitor(session, visitor)
    if conversation is None:
        return {"conversation": None, "messages": [], "state": None}
    messages = conversations.messages_after(session, conversation, after_seq)
    return {"conversation": conversation_dict(conversation), "messages": [message_dict(m) for m in messages],
            "state": broadcast.visitor_state(session, conversation)}


@socket_event(VISITOR, HistoryRequest)
def on_history(identity: SocketIdentity, request: HistoryRequest):
    return history(visitor_of(identity), request.after_seq)


@socket_event(VISITOR, StartConversation, limit=event_limits.MESSAGES)
def on_start(identity: SocketIdentity, request: StartConversation):
    session = tenant_session()
    conversation, outcome = routing.open_conversation(
        session, visitor_of(identity), department_id=request.department_id, prechat=request.prechat)
    broadcast.outcome(identity.tenant, session, outcome)
    return {"conversation": conversation_dict(conversation), "state": broadcast.visitor_state(session, conversation)}


@socket_event(VISITOR, VisitorSend, limit=event_limits.MESSAGES)
def on_send(identity: SocketIdentity, request: VisitorSend):
    session = tenant_session()
    posted, outcome = routing.visitor_says(
        # The visitor's id: their row is read with its lock, not in a statement of its own.
        session, identity.subject_id, client_id=request.client_id, body=request.body,
        max_length=current_app.config["MAX_MESSAGE_LENGTH"],
    )
    broadcast.outcome(identity.tenant, session, outcome)
    return {"message": message_dict(posted.message), "duplicate": not posted.is_new}


@socket_event(VISITOR, Empty)
def on_request_human(identity: SocketIdentity, _request: Empty):
    session = tenant_session()
    outcome = routing.request_human(session, visitor_of(identity))
    broadcast.outcome(identity.tenant, session, outcome)
    conversation = conversations.latest_for_visitor(session, visitor_of(identity))
    return {"state": broadcast.visitor_state(session, conversation)}


@socket_event(VISITOR, RateAnswer)
def on_rate(identity: SocketIdentity, request: RateAnswer):
    session = tenant_session()
    conversation = conversations.latest_for_visitor(session, visitor_of(identity))
    if conversation is None:
        return {"rated": None}
    turn = bot.rate(session, conversation, request.turn_id, request.rating)
    return {"rated": turn.rating}


def register(socketio) -> None:
    ns = rooms.VISITOR_NAMESPACE
    socketio.on_event("connect", on_connect, namespace=ns)
    socketio.on_event("history", on_history, namespace=ns)
    socketio.on_event("conversation:start", on_start, namespace=ns)
    socketio.on_event("message:send", on_send, namespace=ns)
    socketio.on_event("human:request", on_request_human, namespace=ns)
    socketio.on_event("bot:rate", on_rate, namespace=ns)
