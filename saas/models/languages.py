"""Languages (issue 12): the workspace's language setting and the per-language versions of the
texts its admins write for visitors. Agents' and visitors' own languages are columns on ``users``
and ``visitors``."""
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow


class LanguageSettings(TenantModel):
    """The workspace's single row (id 1, made by the migration)."""

    __tablename__ = "language_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A language code fixes the widget (and the team's default) to it; None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))


class TranslatedText(TenantModel):
    """One admin-written visitor text in one language, used instead of the default text for
    visitors of that language. ``text_key`` names the text (see ``services.languages.text_keys``)."""

    __tablename__ = "translated_texts"
    __table_args__ = (UniqueConstraint("text_key", "language", name="uq_translated_texts_key_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text_key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
