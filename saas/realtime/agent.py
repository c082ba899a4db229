"""Socket events of the agent console (namespace /agent)."""
from flask import current_app, request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from tenants import registry, tenant_context, tenant_session

from ..extensions import socketio
from ..i18n import request_language
from ..models import ROLES, Department, DepartmentMember, User
from ..security import origins
from ..services import conversations, presence, routing
from . import broadcast, engagement, rooms
from .guard import (
    SocketIdentity, agent_of, current_identity, refuse_connection, remember, remember_language, socket_event,
)
from .payloads import (
    AgentSend, ConversationRef, Empty, PresenceChange, ReadUpTo, Transfer, agent_dict, conversation_dict,
    message_dict,
)

AGENT = "agent"


def _same_origin() -> bool:
    # A browser always sends Origin on a WebSocket/polling handshake; refusing foreign origins
    # stops another site from riding an agent's cookie. Non-browser clients send none.
    origin = request.headers.get("Origin")
    return origin is None or origins.is_same_origin(origin)


def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    tenant = registry.find_by_slug(auth.get("tenant"))
    if tenant is None or not tenant.is_active or not _same_origin():
        refuse_connection("unauthorized", "Log in to this workspace first.")
    with tenant_context(tenant):
        if not current_user.is_authenticated:
            refuse_connection("unauthorized", "Log in to this workspace first.")
        remember(SocketIdentity(AGENT, tenant, current_user.id, current_user.role,
                                session_epoch=current_user.session_epoch))
        remember_language(request_language())
        if auth.get("watch") == "board":
            return  # the real-time board page only watches: it does not put its viewer on duty
        join_room(rooms.agents(tenant))
        session = tenant_session()
        agent = session.get(User, current_user.id)
        was = agent.presence
        outcome = presence.connected(session, agent, request.sid)
        if agent.presence != was:
            broadcast.presence_changed(tenant, agent)
        broadcast.outcome(tenant, session, outcome)


def _away_after_grace(app, tenant, agent_id: int) -> None:
    socketio.sleep(app.config["PRESENCE_GRACE_SECONDS"])
    with app.app_context(), tenant_context(tenant):
        session = tenant_session()
        outcome = presence.away_if_still_disconnected(session, agent_id)
        agent = session.get(User, agent_id)
        if agent is not None and agent.presence_is_automatic:
            broadcast.presence_changed(tenant, agent)
        broadcast.outcome(tenant, session, outcome)


def on_disconnect(*_reason):
    identity = current_identity()
    if identity is None or identity.kind != AGENT:
        return
    with tenant_context(identity.tenant):
        last_of = presence.disconnected(tenant_session(), request.sid)
    if last_of is not None:
        socketio.start_background_task(_away_after_grace, current_app._get_current_object(), identity.tenant,
                                       last_of)


@socket_event(AGENT, roles=ROLES)
def on_list(identity: SocketIdentity):
    session = tenant_session()
    rows = conversations.inbox(session, agent_of(identity))
    return {"conversations": [conversation_dict(r.conversation, r.last_message, r.unread) for r in rows]}


@socket_event(AGENT, Empty, roles=ROLES)
def on_team(identity: SocketIdentity, _request: Empty):
    """Colleagues (presence, load, capacity) and departments: for transfers and the queue view."""
    session = tenant_session()
    memberships: dict[int, list[int]] = {}
    for department_id, user_id in session.execute(select(DepartmentMember.department_id, DepartmentMember.user_id)):
        memberships.setdefault(user_id, []).append(department_id)
    agents = session.scalars(select(User).where(User.is_enabled.is_(True)).order_by(User.display_name)).all()
    departments = session.scalars(select(Department).order_by(Department.name)).all()
    return {
        "me": identity.subject_id,
        "agents": [agent_dict(a, routing.load(session, a.id), routing.capacity(session, a), memberships.get(a.id, []))
                   for a in agents],
        "departments": [{"id": d.id, "name": d.name, "assignment": d.assignment} for d in departments],
    }


@socket_event(AGENT, ConversationRef, roles=ROLES)
def on_open(identity: SocketIdentity, request: ConversationRef):
    session = tenant_session()
    conversation = conversations.get_conversation(session, request.conversation_id)
    messages = conversations.messages_after(session, conversation, request.after_seq)
    return {"conversation": conversation_dict(conversation), "messages": [message_dict(m) for m in messages],
            "position": routing.position(session, conversation)}


@socket_event(AGENT, AgentSend, roles=ROLES)
def on_send(identity: SocketIdentity, request: AgentSend):
    session = tenant_session()
    posted, outcome = routing.agent_reply(
        session, agent_of(identity), request.conversation_id, client_id=request.client_id, body=request.body,
        max_length=current_app.config["MAX_MESSAGE_LENGTH"],
    )
    broadcast.outcome(identity.tenant, session, outcome)
    return {"message": message_dict(posted.message), "duplicate": not posted.is_new}


@socket_event(AGENT, ReadUpTo, roles=ROLES)
def on_read(identity: SocketIdentity, request: ReadUpTo):
    session = tenant_session()
    conversation = conversations.get_conversation(session, request.conversation_id)
    last_read_seq = conversations.mark_read(session, agent_of(identity), conversation, request.seq)
    engagement.agents_read(identity.tenant, conversation)
    return {"last_read_seq": last_read_seq}


@socket_event(AGENT, PresenceChange, roles=ROLES)
def on_presence(identity: SocketIdentity, request: PresenceChange):
    session = tenant_session()
    agent = agent_of(identity)
    outcome = presence.set_presence(session, agent, request.state)
    broadcast.presence_changed(identity.tenant, agent)
    broadcast.outcome(identity.tenant, session, outcome)
    return {"presence": agent.presence}


def _routing_event(action):
    """An agent action on one conversation that returns a routing Outcome to broadcast."""

    def handler(identity: SocketIdentity, request):
        session = tenant_session()
        broadcast.outcome(identity.tenant, session, action(session, agent_of(identity), request))
        return {"conversation": conversation_dict(conversations.get_conversation(session, request.conversation_id))}

    handler.__name__ = action.__name__
    return handler


on_pick = socket_event(AGENT, ConversationRef, roles=ROLES)(
    _routing_event(lambda session, agent, r: routing.pick(session, agent, r.conversation_id)))
on_close = socket_event(AGENT, ConversationRef, roles=ROLES)(
    _routing_event(lambda session, agent, r: routing.close(session, agent, r.conversation_id)))
on_transfer = socket_event(AGENT, Transfer, roles=ROLES)(
    _routing_event(lambda session, agent, r: routing.transfer(
        session, agent, r.conversation_id, to_agent_id=r.to_agent_id, to_department_id=r.to_department_id,
        note=r.note)))


def register(socketio) -> None:
    ns = rooms.AGENT_NAMESPACE
    socketio.on_event("connect", on_connect, namespace=ns)
    socketio.on_event("disconnect", on_disconnect, namespace=ns)
    socketio.on_event("conversations:list", on_list, namespace=ns)
    socketio.on_event("team:list", on_team, namespace=ns)
    socketio.on_event("conversation:open", on_open, namespace=ns)
    socketio.on_event("message:send", on_send, namespace=ns)
    socketio.on_event("conversation:read", on_read, namespace=ns)
    socketio.on_event("presence:set", on_presence, namespace=ns)
    socketio.on_event("conversation:pick", on_pick, namespace=ns)
    socketio.on_event("conversation:close", on_close, namespace=ns)
    socketio.on_event("conversation:transfer", on_transfer, namespace=ns)
