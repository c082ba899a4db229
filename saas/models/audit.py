"""Security records of a tenant: who did what, when and from where, and the widget's allowed origins."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow


class AuditEvent(TenantModel):
    """One security-relevant action. ``actor`` keeps the email (or "visitor", "system") as typed at
    the time, so a failed login for an unknown address and a renamed account still read right."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str | None] = mapped_column(String(45))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class SecuritySettings(TenantModel):
    """The workspace's single security settings row (created by migration 0009)."""

    __tablename__ = "security_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One origin per line (https://shop.example); empty: the widget may run on any site.
    allowed_origins: Mapped[str] = mapped_column(Text, default="")
