"""Report definitions admins save, and the export files made from reports in the background."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow
from .conversations import Conversation, Message
from .visits import PageView, VisitSession

EXPORT_QUEUED, EXPORT_RUNNING, EXPORT_DONE, EXPORT_FAILED = "queued", "running", "done", "failed"


class SavedReport(TenantModel):
    """A custom report's definition (dimensions, metrics, filters, granularity), to run again later."""

    __tablename__ = "saved_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    definition: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportExport(TenantModel):
    """One export file: what to export (a report kind and its validated parameters), how far the
    job is, and the file under the tenant's files root once done."""

    __tablename__ = "report_exports"
    __table_args__ = (
        CheckConstraint("status in ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("file_format in ('csv', 'xlsx')", name="file_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random and unguessable: it names the file and appears in URLs.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict] = mapped_column(JSON)
    file_format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default=EXPORT_QUEUED)
    rows_written: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


# Every report filters on when a fact happened; these make a 30-day range read 30 days, not all time.
Index("ix_reports_conversations_created", Conversation.created_at)
Index("ix_reports_conversations_visit", Conversation.visit_session_id)
Index("ix_reports_visit_sessions_started", VisitSession.started_at)
Index("ix_reports_page_views_started", PageView.started_at)
Index("ix_reports_messages_created", Message.created_at)
