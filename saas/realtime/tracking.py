"""Socket events of visitor tracking: page views, heartbeats, identity and invitations from the
widget (/visitor); the live visitors list, the visitor panel and invitations in the console (/agent).

Which visitor a page view belongs to comes from the socket session, never from the payload, so a
visitor can only ever add to their own trail.
"""
from flask import request
from flask_socketio import join_room, leave_room

from tenants import TenantRef, tenant_session

from ..models import ROLES, Conversation, Visitor
from ..security import event_limits
from ..services import identity, invitations, tracking, visitors
from . import app_sockets, broadcast, rooms
from .guard import SocketIdentity, agent_of, remember, socket_event, visitor_of
from .payloads import Empty, conversation_dict, message_dict
from .visitor import VISITOR
from .visitor_payloads import (
    ContactUpdate, ConversationVisitor, Heartbeat, IdentifyUser, InvitationAnswer, InviteVisitor, PageViewReport,
    PanelRequest,
)

AGENT = "agent"


def _client() -> tracking.Client:
    return tracking.Client(user_agent=request.headers.get("User-Agent"), ip_address=request.remote_addr,
                           accept_language=request.headers.get("Accept-Language"))


def _activity(tenant: TenantRef, visitor: Visitor, page=None) -> None:
    """Agents' live list and panels follow the visitor from page to page."""
    session = tenant_session()
    visit = tracking.current_visit(session, visitor)
    if visit is not None:
        broadcast.to_agents(tenant, "visitor:activity", {"visitor": tracking.live_summary(session, visitor, visit),
                                                "page": tracking.page_dict(page) if page is not None else None})


def _offer(tenant: TenantRef, visitor: Visitor, invitation) -> None:
    session = tenant_session()
    data = invitations.invitation_dict(invitation, invitations.agent_name(session, invitation))
    broadcast.to_visitor(tenant, visitor, "invitation", data)
    broadcast.to_agents(tenant, "invitation:updated", {**data, "visitor_id": visitor.public_id})


def _after_activity(identity_: SocketIdentity, visitor: Visitor, page=None) -> None:
    session = tenant_session()
    invitation = invitations.evaluate_rules(session, visitor)
    if invitation is not None:
        _offer(identity_.tenant, visitor, invitation)
    _activity(identity_.tenant, visitor, page)


# --- the widget ----------------------------------------------------------------------------

@socket_event(VISITOR, PageViewReport, limit=event_limits.PAGE_VIEWS)
def on_page_view(identity_: SocketIdentity, report: PageViewReport):
    session = tenant_session()
    visitor = visitor_of(identity_)
    view = tracking.record_page_view(session, visitor, url=report.url, title=report.title, referrer=report.referrer,
                                     language=report.language, declared_channel=report.channel, client=_client())
    _after_activity(identity_, visitor, view)
    pending = invitations.pending(session, visitor)
    return {"page_view_id": view.id, "invitation": invitations.invitation_dict(
        pending, invitations.agent_name(session, pending)) if pending is not None else None}


@socket_event(VISITOR, Heartbeat)
def on_heartbeat(identity_: SocketIdentity, beat: Heartbeat):
    visitor = visitor_of(identity_)
    view = tracking.heartbeat(tenant_session(), visitor, beat.page_view_id, beat.seconds_on_page)
    _after_activity(identity_, visitor)
    return {"seconds_on_page": view.seconds_on_page}


@socket_event(VISITOR, IdentifyUser)
def on_identify(identity_: SocketIdentity, claim: IdentifyUser):
    session = tenant_session()
    visitor = visitor_of(identity_)
    known = identity.identify_user(session, visitor, user_id=claim.user_id, user_hash_hex=claim.user_hash,
                                   name=claim.name, email=claim.email)
    if known.id != visitor.id:
        # This connection speaks for the known contact from now on.
        leave_room(rooms.visitor(identity_.tenant, visitor.public_id))
        join_room(rooms.visitor(identity_.tenant, known.public_id))
        remember(SocketIdentity(VISITOR, identity_.tenant, known.id, VISITOR, known.public_id))
    app_sockets.opened(known)  # a known user now: their app conversations need no push while this is open
    return {"token": visitors.issue_token(identity_.tenant, known), "nickname": known.nickname,
            "changed": known.id != visitor.id}


@socket_event(VISITOR, InvitationAnswer)
def on_invitation_answer(identity_: SocketIdentity, reply: InvitationAnswer):
    session = tenant_session()
    visitor = visitor_of(identity_)
    answered = invitations.answer(session, visitor, reply.invitation_id, reply.answer)
    broadcast.outcome(identity_.tenant, session, answered.outcome)
    invitation = answered.invitation
    broadcast.to_agents(identity_.tenant, "invitation:updated",
               {**invitations.invitation_dict(invitation), "visitor_id": visitor.public_id})
    _activity(identity_.tenant, visitor)
    conversation = session.get(Conversation, answered.conversation_id) if answered.conversation_id else None
    return {"invitation": invitations.invitation_dict(invitation),
            "state": broadcast.visitor_state(session, conversation) if conversation is not None else None}


# --- the console ---------------------------------------------------------------------------

@socket_event(AGENT, Empty, roles=ROLES)
def on_live(_identity: SocketIdentity, _request: Empty):
    return {"visitors": tracking.live_visitors(tenant_session())}


def _panel_visitor(session, ask: PanelRequest) -> Visitor:
    if ask.conversation_id is not None:
        return tracking.visitor_of(session, ask.conversation_id)
    return tracking.find_visitor(session, ask.visitor_id)


@socket_event(AGENT, PanelRequest, roles=ROLES)
def on_panel(_identity: SocketIdentity, ask: PanelRequest):
    session = tenant_session()
    return {"visitor": tracking.panel(session, _panel_visitor(session, ask))}


@socket_event(AGENT, ContactUpdate, roles=ROLES)
def on_contact(identity_: SocketIdentity, change: ContactUpdate):
    session = tenant_session()
    visitor = tracking.update_contact(session, tracking.find_visitor(session, change.visitor_id),
                                      name=change.name, email=change.email, phone=change.phone)
    # Inbox rows and open panes show the contact too.
    for conversation in tracking.open_conversations(session, visitor):
        broadcast.to_agents(identity_.tenant, "conversation:updated", conversation_dict(conversation))
    broadcast.to_agents(identity_.tenant, "visitor:updated", {"visitor_id": visitor.public_id})
    return {"visitor": tracking.panel(session, visitor)}


@socket_event(AGENT, ConversationVisitor, roles=ROLES)
def on_transcript(_identity: SocketIdentity, ask: ConversationVisitor):
    conversation, messages = tracking.transcript(tenant_session(), ask.conversation_id)
    return {"conversation": conversation_dict(conversation), "messages": [message_dict(m) for m in messages]}


@socket_event(AGENT, InviteVisitor, roles=ROLES)
def on_invite(identity_: SocketIdentity, ask: InviteVisitor):
    session = tenant_session()
    visitor = tracking.find_visitor(session, ask.visitor_id)
    invitation = invitations.invite(session, agent_of(identity_), visitor, ask.message)
    _offer(identity_.tenant, visitor, invitation)
    return {"invitation": invitations.invitation_dict(invitation)}


def register(socketio_) -> None:
    for event, handler in (("page:view", on_page_view), ("page:heartbeat", on_heartbeat),
                           ("visitor:identify", on_identify), ("invitation:answer", on_invitation_answer)):
        socketio_.on_event(event, handler, namespace=rooms.VISITOR_NAMESPACE)
    for event, handler in (("visitors:live", on_live), ("visitor:panel", on_panel), ("visitor:contact", on_contact),
                           ("visitor:transcript", on_transcript), ("visitor:invite", on_invite)):
        socketio_.on_event(event, handler, namespace=rooms.AGENT_NAMESPACE)
