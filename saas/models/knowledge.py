"""The bot's knowledge base and what it learns from: entries, and a record of every bot turn."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow

ANSWERED, SUGGESTED, FALLBACK, HANDED_OVER = "answered", "suggested", "fallback", "handed_over"
HELPFUL, NOT_HELPFUL = "helpful", "not_helpful"


class KnowledgeEntry(TenantModel):
    __tablename__ = "kb_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(500))
    phrasings: Mapped[list] = mapped_column(JSON, default=list)  # other ways visitors ask it
    answer: Mapped[str] = mapped_column(Text)  # sanitised HTML
    category: Mapped[str] = mapped_column(String(80), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeVersion(TenantModel):
    """Bumped with every change to the entries; each server process rebuilds its index for the
    tenant when the number it built from is behind. One row (id 1)."""

    __tablename__ = "kb_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class BotTurn(TenantModel):
    """One visitor question the bot handled: the facts for bot metrics and the learning loop."""

    __tablename__ = "bot_turns"
    __table_args__ = (
        CheckConstraint("outcome in ('answered', 'suggested', 'fallback', 'handed_over')", name="outcome"),
        CheckConstraint("rating is null or rating in ('helpful', 'not_helpful')", name="rating"),
        Index("ix_bot_turns_learning", "outcome", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))  # the bot's reply
    question: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("kb_entries.id", ondelete="SET NULL"))
    suggested_ids: Mapped[list] = mapped_column(JSON, default=list)
    score: Mapped[float | None]
    rating: Mapped[str | None] = mapped_column(String(16))
    reviewed_at: Mapped[datetime | None]  # an admin dealt with it in the learning loop
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
