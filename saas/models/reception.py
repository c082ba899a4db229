"""How a tenant receives visitors: settings, departments, per-channel modes, presence."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow

HUMAN_ONLY, BOT_ONLY, BOT_FIRST, HUMAN_FIRST = "human_only", "bot_only", "bot_first", "human_first"
RECEPTION_MODES = (HUMAN_ONLY, BOT_ONLY, BOT_FIRST, HUMAN_FIRST)
AUTO, MANUAL = "auto", "manual"
ONLINE, AWAY, OFFLINE = "online", "away", "offline"
PRESENCE_STATES = (ONLINE, AWAY, OFFLINE)
CHANNELS = ("web", "mobile_web", "app", "phone", "sms", "api")
PRECHAT_FIELDS = ("name", "email", "phone")

_MODE_CHECK = "reception_mode in ('human_only', 'bot_only', 'bot_first', 'human_first')"


class ReceptionSettings(TenantModel):
    """The tenant's defaults; exactly one row (id 1)."""

    __tablename__ = "reception_settings"
    __table_args__ = (CheckConstraint(_MODE_CHECK, name="mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reception_mode: Mapped[str] = mapped_column(String(16), default=HUMAN_ONLY)
    department_picker: Mapped[bool] = mapped_column(default=False)
    # [{"field": "name"|"email"|"phone", "required": bool}], asked before the first message.
    prechat_fields: Mapped[list] = mapped_column(JSON, default=list)
    default_max_concurrent: Mapped[int] = mapped_column(default=5)
    reopen_window_minutes: Mapped[int] = mapped_column(default=30)
    bot_handoff_after: Mapped[int] = mapped_column(default=3)
    # What the bot says, in the tenant's words (defaults in saas.services.bot).
    bot_greeting: Mapped[str] = mapped_column(Text)
    bot_fallback: Mapped[str] = mapped_column(Text)
    bot_handoff_keywords: Mapped[str] = mapped_column(String(500))  # comma-separated


class ChannelMode(TenantModel):
    """A channel's own reception mode, overriding the tenant default."""

    __tablename__ = "channel_modes"
    __table_args__ = (CheckConstraint(_MODE_CHECK, name="mode"),)

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    reception_mode: Mapped[str] = mapped_column(String(16))


class Department(TenantModel):
    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint("assignment in ('auto', 'manual')", name="assignment"),
        CheckConstraint(f"reception_mode is null or {_MODE_CHECK}", name="mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # what agents and admins see
    public_name: Mapped[str] = mapped_column(String(80))  # what visitors see
    description: Mapped[str] = mapped_column(Text, default="")
    is_hidden: Mapped[bool] = mapped_column(default=False)  # not offered to visitors
    assignment: Mapped[str] = mapped_column(String(8), default=AUTO)
    reception_mode: Mapped[str | None] = mapped_column(String(16))  # overrides channel and tenant
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DepartmentMember(TenantModel):
    __tablename__ = "department_members"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class AgentConnection(TenantModel):
    """One live console socket; an agent with none left goes away after a grace period."""

    __tablename__ = "agent_connections"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationEvent(TenantModel):
    """Every routing state change, with time and actor: the facts reports are computed from."""

    __tablename__ = "conversation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor_type: Mapped[str] = mapped_column(String(16))  # visitor, agent, bot, system
    actor_id: Mapped[int | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
