"""How the tenant's chat widget looks: one row (id 1), read by the widget each time it loads."""
from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow

POSITIONS = ("right", "left")
DEFAULT_COLOR = "#2563eb"
DEFAULT_LAUNCHER_TEXT = "Chat"
DEFAULT_GREETING = "Ask us anything — we reply right here."


class WidgetLook(TenantModel):
    __tablename__ = "widget_look"
    __table_args__ = (CheckConstraint("position in ('right', 'left')", name="position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    color: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOR)  # #rrggbb
    position: Mapped[str] = mapped_column(String(5), default="right")
    launcher_text: Mapped[str] = mapped_column(String(24), default=DEFAULT_LAUNCHER_TEXT)
    greeting: Mapped[str] = mapped_column(String(200), default=DEFAULT_GREETING)
    hide_outside_hours: Mapped[bool] = mapped_column(default=False)
    # The logo or avatar shown in the widget's header; its type is sniffed from the bytes. Loaded only
    # when served: every visitor's connect reads this row. No logo: both are NULL.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(16))  # a key of saas.services.file_types.FILE_TYPES
    # Bumped on every save: the logo's URL carries it, so browsers never show a stale one.
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
