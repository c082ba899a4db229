"""Canned replies and satisfaction ratings (issue 5): what agents say often, and what visitors
thought of a conversation."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow

STARS5, LEVELS3 = "stars5", "levels3"
RATING_SCALES = (STARS5, LEVELS3)


class CannedReply(TenantModel):
    """A reply an agent inserts by its shortcut: tenant-wide (no owner, managed by admins) or
    personal (one agent's own)."""

    __tablename__ = "canned_replies"
    __table_args__ = (
        # NULL owners are distinct in a unique constraint, so tenant-wide shortcuts get their own index.
        UniqueConstraint("owner_id", "shortcut", name="uq_canned_replies_owner_shortcut"),
        Index("uq_canned_replies_tenant_shortcut", "shortcut", unique=True,
              sqlite_where=text("owner_id IS NULL"), postgresql_where=text("owner_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shortcut: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RatingSettings(TenantModel):
    """The workspace's single row: whether visitors are asked to rate, on which scale, and the
    evaluation tags offered per level (``{scale: {score: [tag, …]}}``, kept for both scales)."""

    __tablename__ = "rating_settings"
    __table_args__ = (CheckConstraint("scale in ('stars5', 'levels3')", name="scale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    scale: Mapped[str] = mapped_column(String(8), default=STARS5)
    tags: Mapped[dict] = mapped_column(JSON, default=dict)


class ConversationRating(TenantModel):
    """A visitor's rating of one conversation; rating again updates it. Agent and department are
    those at the time of rating, for the reports."""

    __tablename__ = "conversation_ratings"
    __table_args__ = (
        CheckConstraint("scale in ('stars5', 'levels3')", name="scale"),
        CheckConstraint("score between 1 and 5", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    scale: Mapped[str] = mapped_column(String(8))
    score: Mapped[int]
    level: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
