"""Report rollups (issue 8): counts of immutable facts per UTC hour, and how far each fact table
has been folded into them. Rules in ``saas.services.reports.rollups``."""
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel


class RollupWatermark(TenantModel):
    """One row per rolled-up fact table: every fact with ``id <= last_id`` is in its rollup and no
    other is. Folds lock this row, so two never fold the same facts. Row 'visits': the visits
    started before ``folded_until`` with their conversations of ``id <= last_id``."""

    __tablename__ = "report_rollup_watermarks"

    fact: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    folded_at: Mapped[datetime | None]
    folded_until: Mapped[datetime | None]


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


class VisitRollupRow:
    """The columns a visit rollup row has whatever its time unit: the visits whose ``dimension`` (a
    visit attribute: channel, source kind, landing page...) is ``value`` ('' for none: no attribute
    is ever stored empty), with their page views, the conversations started in them and how many had
    one. No key over ``value``: a landing page can be longer than an index entry may be."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(2048))
    visits: Mapped[int] = mapped_column(BigInteger)
    page_views: Mapped[int] = mapped_column(BigInteger)
    conversations: Mapped[int] = mapped_column(BigInteger)
    converted: Mapped[int] = mapped_column(BigInteger)


class VisitHour(VisitRollupRow, TenantModel):
    """Visits started in the UTC hour ``hour``. Every folded visit is in one row per dimension;
    which are folded: ``RollupWatermark`` row 'visits'."""

    __tablename__ = "report_visit_hours"
    __table_args__ = (Index("ix_report_visit_hours_dimension_hour", "dimension", "hour"),)

    hour: Mapped[datetime]


class VisitDay(VisitRollupRow, TenantModel):
    """``VisitHour`` per UTC day, with the visitors of its visits as a serialized Roaring bitmap of
    visitor ids: distinct visitors over a range are the size of the union of its days' sets, which
    no sum of counts gives. Folded with the hours (same watermark): the day ``folded_until`` is in
    holds the visits before it, so a report reads whole days before that day from here and the
    hours around them from ``VisitHour``."""

    __tablename__ = "report_visit_days"
    __table_args__ = (Index("ix_report_visit_days_dimension_day", "dimension", "day"),)

    day: Mapped[datetime]
    visitors: Mapped[bytes] = mapped_column(LargeBinary)
    # Of them, the visitors whose first visit of the day has this value (none by visited page): the
    # first touches of a range follow from these, a day at a time (``rollups.first_touch_rows``).
    first_visitors: Mapped[bytes | None] = mapped_column(LargeBinary)


class VisitorDay(TenantModel):
    """The visitors of the folded visits of one UTC day, each with their visits, page views and
    conversations that day: what a visitor did over a range, credited to their first touch, is the
    sum of their days. ``visitors`` is a serialized Roaring bitmap; ``counts`` little-endian uint32
    triples in the bitmap's (ascending) order of ids."""

    __tablename__ = "report_visitor_days"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[datetime] = mapped_column(unique=True)
    visitors: Mapped[bytes] = mapped_column(LargeBinary)
    counts: Mapped[bytes] = mapped_column(LargeBinary)
