"""Agent work facts the routing tables do not keep: how long each agent spent online, away and offline."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow


class AgentPresenceInterval(TenantModel):
    """One stretch of an agent's presence; the current one has no end yet. Written by
    saas.services.presence with every change, so online and away time can be summed per period."""

    __tablename__ = "agent_presence_log"
    __table_args__ = (
        CheckConstraint("state in ('online', 'away', 'offline')", name="state"),
        Index("ix_agent_presence_log_user_started", "user_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
