"""Automatic replies, business hours and the persisted timers that fire the delayed replies."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TenantModel, utcnow
from .reception import Department

WELCOME, NO_AGENT, OUTSIDE_HOURS = "welcome", "no_agent", "outside_hours"
QUEUE_NOTICE, AGENT_SILENT, VISITOR_IDLE, VISITOR_IDLE_CLOSE = (
    "queue_notice", "agent_silent", "visitor_idle", "visitor_idle_close")
AUTO_REPLY_KINDS = (WELCOME, NO_AGENT, OUTSIDE_HOURS, QUEUE_NOTICE, AGENT_SILENT, VISITOR_IDLE, VISITOR_IDLE_CLOSE)
# The replies that wait: each is a ConversationTimer kind as well.
TIMED_KINDS = (QUEUE_NOTICE, AGENT_SILENT, VISITOR_IDLE, VISITOR_IDLE_CLOSE)

_KINDS_CHECK = "kind in ({})".format(", ".join(f"'{k}'" for k in AUTO_REPLY_KINDS))


class AutoReply(TenantModel):
    """One automatic reply of the workspace (no department) or of one department, which overrides
    the workspace's reply of the same kind."""

    __tablename__ = "auto_replies"
    __table_args__ = (
        CheckConstraint(_KINDS_CHECK, name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    department: Mapped[Department | None] = relationship(passive_deletes=True)
    kind: Mapped[str] = mapped_column(String(24))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    text: Mapped[str] = mapped_column(Text)
    # The wait before a timed reply (agent_silent, visitor_idle, visitor_idle_close) or the repeat
    # interval of the queue notice (none: said once).
    seconds: Mapped[int | None]


class BusinessHours(TenantModel):
    """When the workspace (no department) or one department is open: a weekly schedule of local
    wall-clock ranges in a time zone, and holidays (local dates) when it is closed all day."""

    __tablename__ = "business_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    department: Mapped[Department | None] = relationship(passive_deletes=True)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["09:00", "17:00"]], ...}; a range ending before it starts runs past midnight.
    schedule: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)  # ["2026-12-25", ...]


# One of each per scope; the workspace's own scope is "department 0" (NULL is never equal to NULL).
Index("uq_auto_replies_scope_kind", func.coalesce(AutoReply.department_id, 0), AutoReply.kind, unique=True)
Index("uq_business_hours_scope", func.coalesce(BusinessHours.department_id, 0), unique=True)


class ConversationTimer(TenantModel):
    """A delayed automatic reply, stored so it survives restarts. Fired or cancelled exactly once:
    firing is a conditional UPDATE that only one firer can win."""

    __tablename__ = "conversation_timers"
    __table_args__ = (Index("ix_conversation_timers_pending", "fired_at", "cancelled_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
