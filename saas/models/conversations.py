from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TenantModel, utcnow

OPEN, CLOSED = "open", "closed"
# Who holds an open conversation: the bot, the queue (waiting for an agent), or an agent.
BOT_HANDLER, QUEUE_HANDLER, AGENT_HANDLER = "bot", "queue", "agent"
VISITOR, AGENT, BOT, SYSTEM = "visitor", "agent", "bot", "system"


class Visitor(TenantModel):
    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, unguessable id carried (signed) by the widget; the integer id never leaves the server
    # for visitors.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    nickname: Mapped[str] = mapped_column(String(80))
    name: Mapped[str | None] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The tenant's own user id, once its site identified this visitor with a valid signature.
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # An anonymous visitor merged into a known contact: its old widget token leads there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id"))
    # The language the widget last spoke to this visitor: the bot and automatic replies use it.
    language: Mapped[str | None] = mapped_column(String(8))


class Conversation(TenantModel):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("status in ('open', 'closed')", name="status"),
        CheckConstraint("handler in ('bot', 'queue', 'agent')", name="handler"),
        Index("ix_conversations_status_updated", "status", "updated_at"),
        Index("ix_conversations_waiting", "status", "department_id", "waiting_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    # The visit the conversation started in: reports attribute it to that visit's source.
    visit_session_id: Mapped[int | None] = mapped_column(ForeignKey("visit_sessions.id", ondelete="SET NULL"))
    handler: Mapped[str] = mapped_column(String(8), default=QUEUE_HANDLER)
    # Set while the visitor waits for a human (in the queue, or with the bot in human_first mode):
    # the queue is first come, first served on this.
    waiting_since: Mapped[datetime | None]
    bot_unanswered: Mapped[int] = mapped_column(default=0)
    # The highest sequence number handed out; bumped atomically with each stored message.
    last_seq: Mapped[int] = mapped_column(default=0)
    # The highest seq the visitor has seen (widget open and visible): the agent's read receipt.
    visitor_read_seq: Mapped[int] = mapped_column(default=0)
    # An agent invited a rating: the visitor may rate while the conversation is still open.
    rating_invited_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    # Inner join: visitor_id is never null, and FOR UPDATE cannot lock through an outer join.
    visitor: Mapped[Visitor] = relationship(lazy="joined", innerjoin=True)


class Message(TenantModel):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        # A resend of the same client-generated id is recognised, never stored twice.
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
        CheckConstraint("sender_type in ('visitor', 'agent', 'bot', 'system')", name="sender_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int]
    client_id: Mapped[str] = mapped_column(String(64))
    sender_type: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[int | None]
    sender_name: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    # Structured extras a client renders as controls: quick replies, suggestions, a rating prompt.
    extras: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadMarker(TenantModel):
    """How far an agent has read a conversation: unread = messages after ``last_read_seq``."""

    __tablename__ = "read_markers"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_seq: Mapped[int] = mapped_column(default=0)
