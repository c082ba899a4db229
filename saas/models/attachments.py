"""Files sent in conversations, and each tenant's limits on them."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel, utcnow


class UploadSettings(TenantModel):
    """The tenant's upload limits; exactly one row (id 1)."""

    __tablename__ = "upload_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    max_file_bytes: Mapped[int]
    # File types (keys of saas.services.file_types.FILE_TYPES) visitors and agents may send.
    allowed_types: Mapped[list] = mapped_column(JSON)


class Attachment(TenantModel):
    """A stored file. On disk it is named by ``public_id`` alone, in the tenant's files directory;
    ``name`` is the sender's file name, kept (sanitised) only to show and to download as."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    name: Mapped[str] = mapped_column(String(200))
    file_type: Mapped[str] = mapped_column(String(16))  # sniffed from the bytes, never from the name
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
