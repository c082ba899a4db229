"""Typing indicators and read receipts: who may signal typing into which conversation, how long a
draft preview may be, and how far each side has read."""
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..models import Conversation, ReadMarker, Visitor
from ..models.conversations import OPEN
from . import conversations
from .errors import Invalid


def clean_draft(draft, max_length: int) -> str:
    """The visitor's unsent text as previewed to agents: never longer than a message may be."""
    if not isinstance(draft, str):
        raise Invalid("invalid_draft", "A draft is text.")
    if len(draft) > max_length:
        raise Invalid("draft_too_long", "A draft is at most %(limit)s characters.", limit=max_length)
    return draft.replace("\x00", "")


def _open(conversation: Conversation | None) -> Conversation:
    if conversation is None or conversation.status != OPEN:
        raise Invalid("conversation_not_open", "There is no open conversation to type into.")
    return conversation


def visitor_typing_conversation(session: Session, visitor: Visitor) -> Conversation:
    """A visitor types only into their own latest conversation, and only while it is open."""
    return _open(conversations.latest_for_visitor(session, visitor))


def agent_typing_conversation(session: Session, conversation_id) -> Conversation:
    return _open(conversations.get_conversation(session, conversation_id))


def visitor_saw(session: Session, visitor: Visitor, seq) -> Conversation | None:
    """Move the visitor's read position forward (never back, never past the last message).
    Returns the conversation, or None when the visitor has none yet."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise Invalid("invalid_seq", "A sequence number is a whole number from 0.")
    conversation = conversations.latest_for_visitor(session, visitor)
    if conversation is None:
        return None
    seen = min(seq, conversation.last_seq)
    # Conditional, so two tabs reporting at once can only move it forward.
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.visitor_read_seq < seen)
        .values(visitor_read_seq=seen),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    session.refresh(conversation)
    return conversation


def agents_read_seq(session: Session, conversation: Conversation) -> int:
    """How far the team has read: the visitor sees "Read" under messages up to here."""
    return session.scalar(
        select(func.coalesce(func.max(ReadMarker.last_read_seq), 0))
        .where(ReadMarker.conversation_id == conversation.id)
    )
