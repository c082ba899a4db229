from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow

OWNER, ADMIN, AGENT = "owner", "admin", "agent"
ROLES = (OWNER, ADMIN, AGENT)
ADMIN_ROLES = (OWNER, ADMIN)


class User(UserMixin, TenantModel):
    """An owner, admin or agent of this tenant. Accounts never span tenants."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role in ('owner', 'admin', 'agent')", name="role"),
        CheckConstraint("presence in ('online', 'away', 'offline')", name="presence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    presence: Mapped[str] = mapped_column(String(8), default="offline")
    presence_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Away because every console closed (not chosen): opening a console makes them online again.
    presence_is_automatic: Mapped[bool] = mapped_column(default=False)
    max_concurrent: Mapped[int | None]  # None: the tenant's default
    last_assigned_at: Mapped[datetime | None]  # ties in assignment go to who waited longest
    # Chosen in the console's profile; None follows the workspace's language, then the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name; None: the browser's
    # Part of the login cookie (see get_id): bumping it ends every session of this account.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    # Flask-Login's id must say which tenant the account belongs to, so that a session made in
    # one tenant is never accepted by another (see saas.auth.sessions).
    tenant_slug: str = ""

    def get_id(self) -> str:
        return f"{self.tenant_slug}:{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class Invite(TenantModel):
    """A single-use, expiring link that lets someone join this tenant with a given role.

    Only the SHA-256 of the token is stored: a database dump does not hand out live links.
    """

    __tablename__ = "invites"
    __table_args__ = (CheckConstraint("role in ('admin', 'agent')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
