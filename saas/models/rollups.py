"""Report rollups (issue 8): counts of immutable facts per UTC hour, and how far each fact table
has been folded into them. Rules in ``saas.services.reports.rollups``."""
from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel


class RollupWatermark(TenantModel):
    """One row per rolled-up fact table: every fact with ``id <= last_id`` is in its rollup and no
    other is. Folds lock this row, so two never fold the same facts."""

    __tablename__ = "report_rollup_watermarks"

    fact: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    folded_at: Mapped[datetime | None]


class ConversationHour(TenantModel):
    """Conversations started in the UTC hour ``hour`` on ``channel`` (both fixed at creation)."""

    __tablename__ = "report_conversation_hours"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class MessageHour(TenantModel):
    """Messages sent in the UTC hour ``hour`` by ``sender_type`` in conversations of ``channel``."""

    __tablename__ = "report_message_hours"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    sender_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
