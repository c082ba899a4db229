"""What visitors do on the tenant's site before and around a chat: visit sessions with their
source, the page trail, the identity settings, and proactive invitations (manual or by rule)."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow

PENDING, ACCEPTED, DECLINED, IGNORED = "pending", "accepted", "declined", "ignored"
INVITATION_STATUSES = (PENDING, ACCEPTED, DECLINED, IGNORED)
URL_MAX, TITLE_MAX = 2048, 300


class VisitSession(TenantModel):
    """One visit: pages seen with no more than the visit timeout between them."""

    __tablename__ = "visit_sessions"
    __table_args__ = (Index("ix_visit_sessions_visitor_last_seen", "visitor_id", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Source attribution (saas.services.sources.Source), fixed by the visit's first page.
    source_kind: Mapped[str] = mapped_column(String(16), default="direct")
    referrer_domain: Mapped[str | None] = mapped_column(String(253))
    search_engine: Mapped[str | None] = mapped_column(String(40))
    search_terms: Mapped[str | None] = mapped_column(String(200))
    social_network: Mapped[str | None] = mapped_column(String(40))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    landing_page: Mapped[str | None] = mapped_column(String(URL_MAX))
    device_type: Mapped[str] = mapped_column(String(16), default="unknown")
    browser: Mapped[str | None] = mapped_column(String(64))
    os: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(35))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    page_count: Mapped[int] = mapped_column(default=0)


class PageView(TenantModel):
    __tablename__ = "page_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("visit_sessions.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(URL_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    referrer: Mapped[str | None] = mapped_column(String(URL_MAX))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Seconds the page was visible (the widget counts only while the tab is shown).
    seconds_on_page: Mapped[int] = mapped_column(default=0)


class VisitorSettings(TenantModel):
    """The tenant's visitor settings; exactly one row (id 1), made on first use."""

    __tablename__ = "visitor_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC-SHA256 key the tenant's own site signs its logged-in users' ids with.
    identity_secret: Mapped[str] = mapped_column(String(64))
    # Automatic invitations: at most one per visitor in this many minutes.
    invitation_period_minutes: Mapped[int] = mapped_column(default=60)


class InvitationRule(TenantModel):
    """Invite a browsing visitor automatically when all the set conditions hold."""

    __tablename__ = "invitation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # Glob (`*`, `?`) when it has a wildcard, else a substring of the page URL; empty: any page.
    url_pattern: Mapped[str] = mapped_column(String(500), default="")
    min_seconds_on_page: Mapped[int] = mapped_column(default=0)
    min_visits: Mapped[int] = mapped_column(default=1)
    source_kind: Mapped[str | None] = mapped_column(String(16))
    search_engine: Mapped[str | None] = mapped_column(String(40))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(TenantModel):
    """A proactive invitation shown to a visitor, and what became of it."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("status in ('pending', 'accepted', 'declined', 'ignored')", name="status"),
        Index("ix_invitations_visitor_created", "visitor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("invitation_rules.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
