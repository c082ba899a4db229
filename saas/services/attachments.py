"""Files in conversations: the tenant's limits, checking an upload (size, sniffed type, name),
storing it in the tenant's files directory, posting it as a message, and who may download it."""
import re
import secrets
import unicodedata
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants import TenantRef

from ..models import Attachment, Conversation, UploadSettings, User, Visitor
from . import routing
from .errors import Forbidden, Invalid, NotFound, ServiceError
from .file_types import FILE_TYPES, FileType, sniff, type_for_extension

MAX_NAME = 200
MIN_FILE_BYTES = 1024
PUBLIC_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
# Bidirectional overrides make "gpj.exe" read as "exe.jpg"; other format characters hide text.
_HIDDEN_CHARACTERS = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class TooLarge(ServiceError):
    status = 413


def upload_ceiling() -> int:
    """The largest file any tenant may allow (SWITCHBOARD_MAX_UPLOAD_BYTES)."""
    return current_app.config["MAX_UPLOAD_BYTES"]


def settings(session: Session) -> UploadSettings:
    return session.get(UploadSettings, 1)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def update_settings(session: Session, actor: User, *, max_file_bytes, allowed_types) -> UploadSettings:
    if not actor.is_admin:
        raise Forbidden("forbidden", "Only owners and admins change upload limits.")
    ceiling = upload_ceiling()
    if not isinstance(max_file_bytes, int) or isinstance(max_file_bytes, bool) or not (
            MIN_FILE_BYTES <= max_file_bytes <= ceiling):
        raise Invalid("invalid_limit", "The largest file is between 1 KB and %(size)s.", size=_megabytes(ceiling))
    if not isinstance(allowed_types, (list, tuple)) or not all(t in FILE_TYPES for t in allowed_types):
        raise Invalid("invalid_types", "Choose file types from the list.")
    row = settings(session)
    row.max_file_bytes = max_file_bytes
    row.allowed_types = [key for key in FILE_TYPES if key in allowed_types]  # a stable order
    session.commit()
    return row


def clean_name(name) -> str:
    """The sender's file name without folders, invisible or control characters; at most 200
    characters (the extension kept)."""
    if not isinstance(name, str):
        name = ""
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    name = "".join(" " if c.isspace() else c for c in name if c.isspace() or
                   unicodedata.category(c) not in _HIDDEN_CHARACTERS)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        keep = extension[:16] if dot else ""
        name = name[:MAX_NAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "file"


def _allowed_labels(allowed: list[str]) -> str:
    return ", ".join(FILE_TYPES[key].label for key in allowed) or "none"


def check(session: Session, name, data: bytes) -> tuple[FileType, dict]:
    """The file's real type and its attachment description (without id), or a clear refusal."""
    limits = settings(session)
    if not data:
        raise Invalid("empty_file", "The file is empty.")
    if len(data) > limits.max_file_bytes:
        raise TooLarge("file_too_large", "The file is larger than %(size)s, the largest this chat accepts.",
                       size=_megabytes(limits.max_file_bytes))
    sniffed = sniff(data)
    if sniffed.is_executable:
        raise Invalid("executable_refused", "Programs and scripts cannot be sent, whatever their name.")
    if sniffed.is_markup:
        raise Invalid("file_type_not_allowed", "Web pages and SVG drawings cannot be sent.")
    file_type = sniffed.file_type
    if file_type is None or file_type.key not in limits.allowed_types:
        raise Invalid("file_type_not_allowed",
                      "This kind of file cannot be sent. Allowed: %(kinds)s.",
                      kinds=_allowed_labels(limits.allowed_types))
    name = clean_name(name)
    named_as = type_for_extension(name)
    if named_as is not None and named_as is not file_type:
        raise Invalid("file_type_mismatch",
                      "The file's contents are not what its name says (%(found)s, not %(named)s).",
                      found=file_type.label, named=named_as.label)
    if named_as is None:  # no extension or a foreign one (.exe, .html): it is downloaded as what it is
        name = f"{name[:MAX_NAME - 6]}.{file_type.extensions[0]}"
    return file_type, {
        "name": name, "size": len(data), "type": file_type.key, "content_type": file_type.content_type,
        "is_image": file_type.is_image, "width": sniffed.width, "height": sniffed.height,
    }


def _files_root(tenant: TenantRef) -> Path:
    return current_app.extensions["switchboard_tenants"].files_root(tenant)


def path_of(tenant: TenantRef, attachment: Attachment) -> Path:
    return _files_root(tenant) / attachment.public_id


def _store_and_post(session: Session, tenant: TenantRef, name, data: bytes, post):
    """Check the file, write it under a random name, then ``post(attachment)`` it as a message
    through the same path as text. A refusal, a failure or a resent client id leaves no file."""
    file_type, described = check(session, name, data)
    public_id = secrets.token_urlsafe(16)
    attachment = {"id": public_id, **described}
    root = _files_root(tenant)
    root.mkdir(parents=True, exist_ok=True)
    path = root / public_id
    path.write_bytes(data)
    try:
        posted, outcome = post(attachment)
        if not posted.is_new:
            path.unlink()
            return posted, outcome
        session.add(Attachment(
            public_id=public_id, conversation_id=posted.conversation.id, message_id=posted.message.id,
            name=described["name"], file_type=file_type.key, content_type=file_type.content_type,
            size=len(data), width=described["width"], height=described["height"]))
        session.commit()
    except BaseException:
        session.rollback()
        path.unlink(missing_ok=True)
        raise
    return posted, outcome


def visitor_upload(session: Session, tenant: TenantRef, visitor: Visitor, *, client_id, name, data: bytes):
    """A visitor's file, into their current conversation (opened or reopened as a message would)."""
    return _store_and_post(session, tenant, name, data, lambda attachment: routing.visitor_says(
        session, visitor, client_id=client_id, body=attachment["name"], max_length=MAX_NAME,
        attachment=attachment))


def agent_upload(session: Session, tenant: TenantRef, agent: User, conversation_id, *, client_id, name,
                 data: bytes):
    """An agent's file, into a conversation they may write in (the same rules as a reply)."""
    return _store_and_post(session, tenant, name, data, lambda attachment: routing.agent_reply(
        session, agent, conversation_id, client_id=client_id, body=attachment["name"], max_length=MAX_NAME,
        attachment=attachment))


def _find(session: Session, public_id) -> Attachment:
    found = None
    if isinstance(public_id, str) and PUBLIC_ID_PATTERN.match(public_id):
        found = session.scalar(select(Attachment).where(Attachment.public_id == public_id))
    if found is None:
        raise NotFound("file_not_found", "No such file.")
    return found


def for_agent(session: Session, public_id) -> Attachment:
    """Agents see every conversation of their tenant (their inbox lists them all)."""
    return _find(session, public_id)


def for_visitor(session: Session, visitor: Visitor, public_id) -> Attachment:
    attachment = _find(session, public_id)
    if session.get(Conversation, attachment.conversation_id).visitor_id != visitor.id:
        raise NotFound("file_not_found", "No such file.")  # someone else's: not even its existence
    return attachment
