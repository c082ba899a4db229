"""Erasing a visitor's personal data (the right to be forgotten) while keeping the conversations,
anonymised, for reports: contact fields and the external id cleared, a new nickname and public id
(the visitor's old token stops working), the page trail and visit sessions deleted, the bodies and
extras of the visitor's own messages replaced, bot questions and rating comments blanked, and the
visitor's attachments deleted with their files; their call log and outbound requests too."""
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tenants import TenantRef

from ..models import (
    AppConnection, Attachment, BotTurn, CallEvent, Conversation, ConversationRating, Message, OutboundDelivery,
    PageView, User, Visitor, VisitSession,
)
from ..models.conversations import VISITOR
from . import attachments, audit, tracking
from .reports import rollups
from .errors import Forbidden

ERASED = "[erased]"
ERASED_NICKNAME = "Erased visitor"


def erase_visitor(session: Session, tenant: TenantRef, actor: User, public_id: str, *,
                  address: str | None = None) -> Visitor:
    """The visitor of ``public_id`` (the id agents see); owners and admins only; audited and
    committed together. Files go once the rows are gone."""
    if not actor.is_admin:
        raise Forbidden("forbidden", "Only owners and admins erase visitors' data.")
    visitor = tracking.find_visitor(session, public_id)
    conversation_ids = select(Conversation.id).where(Conversation.visitor_id == visitor.id)
    visitor_messages = select(Message.id).where(Message.conversation_id.in_(conversation_ids),
                                                Message.sender_type == VISITOR)
    files = session.scalars(select(Attachment).where(Attachment.message_id.in_(visitor_messages))).all()
    paths = [attachments.path_of(tenant, attachment) for attachment in files]
    for attachment in files:
        session.delete(attachment)
    session.flush()
    session.execute(update(Message).where(Message.id.in_(visitor_messages))
                    .values(body=ERASED, extras=None, sender_name=ERASED_NICKNAME))
    session.execute(update(BotTurn).where(BotTurn.conversation_id.in_(conversation_ids)).values(question=ERASED))
    session.execute(update(ConversationRating).where(ConversationRating.conversation_id.in_(conversation_ids))
                    .values(comment=""))
    visit_ids = select(VisitSession.id).where(VisitSession.visitor_id == visitor.id)
    rollups.forget_visits(session, visit_ids)  # while their conversations still point at them
    session.execute(update(Conversation).where(Conversation.visit_session_id.in_(visit_ids))
                    .values(visit_session_id=None))
    session.execute(delete(PageView).where(PageView.session_id.in_(visit_ids)))
    session.execute(delete(VisitSession).where(VisitSession.visitor_id == visitor.id))
    # Other channels: the call log (numbers, notes, recordings), the app's live sockets, and the
    # outbound requests, whose stored bodies hold the phone number or user id; one still queued
    # is not sent (its job finds nothing to claim).
    session.execute(delete(CallEvent).where(CallEvent.visitor_id == visitor.id))
    session.execute(delete(AppConnection).where(AppConnection.visitor_id == visitor.id))
    session.execute(delete(OutboundDelivery).where(OutboundDelivery.conversation_id.in_(conversation_ids)))
    visitor.name = visitor.email = visitor.phone = visitor.external_id = None
    visitor.nickname = ERASED_NICKNAME
    visitor.public_id = secrets.token_hex(16)
    audit.record(session, audit.VISITOR_ERASED, actor=actor, address=address, target=f"visitor {visitor.id}",
                 detail=f"{len(files)} files deleted")
    session.commit()
    for path in paths:
        path.unlink(missing_ok=True)
    return visitor
