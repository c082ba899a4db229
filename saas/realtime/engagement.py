"""Socket events around the messages (issue 5): typing indicators with the visitor's draft,
read receipts both ways, canned replies, and satisfaction ratings. Both namespaces."""
from flask import current_app
from pydantic import Field

from tenants import TenantRef, tenant_session

from ..models import ROLES, Conversation, Visitor
from ..security import event_limits
from ..services import canned_replies, conversations, ratings
from ..services import typing_and_receipts as signals
from . import broadcast, rooms
from .guard import SocketIdentity, agent_of, socket_event, visitor_of
from .payloads import SQL_INT_MAX, Empty, _Payload

VISITOR, AGENT = "visitor", "agent"


class VisitorTyping(_Payload):
    draft: str = Field(max_length=100_000)  # "" = stopped typing; the real limit is the service's


class AgentTyping(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    typing: bool


class Seen(_Payload):
    seq: int = Field(ge=0, le=SQL_INT_MAX)


class CannedSave(_Payload):
    id: int | None = Field(default=None, ge=1, le=SQL_INT_MAX)
    shortcut: str = Field(max_length=100)
    title: str = Field(max_length=1000)
    body: str = Field(max_length=100_000)


class CannedRef(_Payload):
    id: int = Field(ge=1, le=SQL_INT_MAX)


class CannedExpand(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    shortcut: str = Field(max_length=100)


class ConversationOnly(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)


class RatingSubmit(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    score: int = Field(ge=-SQL_INT_MAX, le=SQL_INT_MAX)
    tags: list[str] = Field(default_factory=list, max_length=20)
    comment: str = Field(default="", max_length=100_000)


# ---------- typing ----------

@socket_event(VISITOR, VisitorTyping, limit=event_limits.TYPING)
def on_visitor_typing(identity: SocketIdentity, request: VisitorTyping):
    session = tenant_session()
    draft = signals.clean_draft(request.draft, current_app.config["MAX_MESSAGE_LENGTH"])
    conversation = signals.visitor_typing_conversation(session, visitor_of(identity))
    broadcast.to_agents(identity.tenant, "typing", {"conversation_id": conversation.id, "from": VISITOR,
                                            "typing": bool(draft), "draft": draft})
    return {}


@socket_event(AGENT, AgentTyping, roles=ROLES)
def on_agent_typing(identity: SocketIdentity, request: AgentTyping):
    session = tenant_session()
    conversation = signals.agent_typing_conversation(session, request.conversation_id)
    # The visitor learns that someone types, never what.
    broadcast.to_visitor(identity.tenant, conversation.visitor, "typing",
                {"conversation_id": conversation.id, "typing": request.typing, "name": agent_of(identity).display_name})
    return {}


# ---------- read receipts ----------

@socket_event(VISITOR, Seen)
def on_visitor_seen(identity: SocketIdentity, request: Seen):
    return visitor_seen(identity.tenant, visitor_of(identity), request.seq)


def visitor_seen(tenant: TenantRef, visitor: Visitor, seq: int) -> dict:
    """The visitor has read up to ``seq``: agents hear it. The socket's and the app API's answer."""
    session = tenant_session()
    conversation = signals.visitor_saw(session, visitor, seq)
    if conversation is None:
        return {"conversation_id": None, "visitor_read_seq": 0, "agents_read_seq": 0}
    broadcast.to_agents(tenant, "receipt:visitor",
               {"conversation_id": conversation.id, "visitor_read_seq": conversation.visitor_read_seq})
    return {"conversation_id": conversation.id, "visitor_read_seq": conversation.visitor_read_seq,
            "agents_read_seq": signals.agents_read_seq(session, conversation)}


def agents_read(tenant: TenantRef, conversation: Conversation) -> None:
    """After an agent's read marker moved: the visitor's messages up to here show "Read"."""
    broadcast.to_visitor(tenant, conversation.visitor, "receipt:agents",
                {"conversation_id": conversation.id,
                 "read_seq": signals.agents_read_seq(tenant_session(), conversation)})


# ---------- canned replies (the agent's own and the tenant's) ----------

@socket_event(AGENT, Empty, roles=ROLES)
def on_canned_list(identity: SocketIdentity, _request: Empty):
    replies = canned_replies.visible_to(tenant_session(), agent_of(identity))
    return {"replies": [canned_replies.reply_dict(r) for r in replies]}


@socket_event(AGENT, CannedSave, roles=ROLES)
def on_canned_save(identity: SocketIdentity, request: CannedSave):
    reply = canned_replies.save_personal(tenant_session(), agent_of(identity), request.id, shortcut=request.shortcut,
                                         title=request.title, body=request.body)
    return {"reply": canned_replies.reply_dict(reply)}


@socket_event(AGENT, CannedRef, roles=ROLES)
def on_canned_delete(identity: SocketIdentity, request: CannedRef):
    canned_replies.delete_personal(tenant_session(), agent_of(identity), request.id)
    return {"deleted": request.id}


@socket_event(AGENT, CannedExpand, roles=ROLES)
def on_canned_expand(identity: SocketIdentity, request: CannedExpand):
    session = tenant_session()
    conversation = conversations.get_conversation(session, request.conversation_id)
    reply, text = canned_replies.expand(session, agent_of(identity), conversation, request.shortcut)
    return {"reply": canned_replies.reply_dict(reply), "text": text}


# ---------- satisfaction ratings ----------

@socket_event(VISITOR, Empty)
def on_rating_form(identity: SocketIdentity, _request: Empty):
    session = tenant_session()
    visitor = visitor_of(identity)
    return ratings.form(session, conversations.latest_for_visitor(session, visitor), visitor.language)


@socket_event(VISITOR, RatingSubmit)
def on_rating_submit(identity: SocketIdentity, request: RatingSubmit):
    rating = ratings.rate(tenant_session(), visitor_of(identity), request.conversation_id, score=request.score,
                          tags=request.tags, comment=request.comment)
    data = ratings.rating_dict(rating)
    broadcast.to_agents(identity.tenant, "rating:saved", {"conversation_id": rating.conversation_id, "rating": data})
    return {"rating": data}


@socket_event(AGENT, ConversationOnly, roles=ROLES)
def on_rating_invite(identity: SocketIdentity, request: ConversationOnly):
    conversation = ratings.invite(tenant_session(), agent_of(identity), request.conversation_id)
    broadcast.to_visitor(identity.tenant, conversation.visitor, "rating:prompt", {"conversation_id": conversation.id})
    return {"invited_at": conversation.rating_invited_at.isoformat()}


@socket_event(AGENT, ConversationOnly, roles=ROLES)
def on_rating_get(identity: SocketIdentity, request: ConversationOnly):
    session = tenant_session()
    conversation = conversations.get_conversation(session, request.conversation_id)
    rating = ratings.rating_for(session, conversation)
    return {"rating": ratings.rating_dict(rating) if rating is not None else None,
            "invited": conversation.rating_invited_at is not None}


def register(socketio) -> None:
    for namespace, event, handler in (
        (rooms.VISITOR_NAMESPACE, "typing", on_visitor_typing),
        (rooms.VISITOR_NAMESPACE, "conversation:seen", on_visitor_seen),
        (rooms.VISITOR_NAMESPACE, "rating:form", on_rating_form),
        (rooms.VISITOR_NAMESPACE, "rating:submit", on_rating_submit),
        (rooms.AGENT_NAMESPACE, "typing", on_agent_typing),
        (rooms.AGENT_NAMESPACE, "canned:list", on_canned_list),
        (rooms.AGENT_NAMESPACE, "canned:save", on_canned_save),
        (rooms.AGENT_NAMESPACE, "canned:delete", on_canned_delete),
        (rooms.AGENT_NAMESPACE, "canned:expand", on_canned_expand),
        (rooms.AGENT_NAMESPACE, "rating:invite", on_rating_invite),
        (rooms.AGENT_NAMESPACE, "rating:get", on_rating_get),
    ):
        socketio.on_event(event, handler, namespace=namespace)
