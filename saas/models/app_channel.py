"""The app channel: the keys a tenant's mobile apps authenticate with, where to push a reply the
app's user missed, and which app users have a live socket right now."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import IssuedSecretColumns, TenantModel, utcnow


class AppKey(IssuedSecretColumns, TenantModel):
    __tablename__ = "app_keys"


class AppChannelSettings(TenantModel):
    """The tenant's push webhook; exactly one row (id 1), made on first use."""

    __tablename__ = "app_channel_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    push_url: Mapped[str | None] = mapped_column(String(2048))
    # Signs every push (HMAC-SHA256 of the body) so the tenant's server can trust it.
    push_secret: Mapped[str] = mapped_column(String(64))


class AppConnection(TenantModel):
    """A live /visitor socket of a known (identified) user: with none, a reply is pushed instead.
    Rows, not process memory, so every server process sees every other's sockets."""

    __tablename__ = "app_connections"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"), index=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
