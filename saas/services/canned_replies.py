"""Canned replies: tenant-wide ones (admins) and each agent's personal ones, found by shortcut and
expanded with the conversation's facts. An agent never sees or touches a colleague's personal ones."""
import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import CannedReply, Conversation, User, utcnow
from .conversations import valid_id
from .errors import Conflict, Invalid, NotFound

SHORTCUT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
TITLE_MAX, BODY_MAX = 80, 5000
VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
TENANT_WIDE, PERSONAL = "tenant", "personal"


@dataclass(frozen=True)
class Fields:
    shortcut: str
    title: str
    body: str


def clean_fields(shortcut, title, body) -> Fields:
    if not isinstance(shortcut, str) or not SHORTCUT_PATTERN.match(shortcut.strip().lstrip("/").lower()):
        raise Invalid("invalid_shortcut",
                      "A shortcut is 1-32 lowercase letters, digits, - or _, starting with a letter or digit.")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > TITLE_MAX:
        raise Invalid("invalid_title", "A title is 1-%(limit)s characters.", limit=TITLE_MAX)
    if not isinstance(body, str) or not body.strip() or len(body.strip()) > BODY_MAX or "\x00" in body:
        raise Invalid("invalid_text", "A reply's text is 1-%(limit)s characters.", limit=BODY_MAX)
    return Fields(shortcut.strip().lstrip("/").lower(), title.strip(), body.strip())


def scope_of(reply: CannedReply) -> str:
    return TENANT_WIDE if reply.owner_id is None else PERSONAL


def visible_to(session: Session, agent: User) -> list[CannedReply]:
    """Tenant-wide replies and the agent's own; on a shortcut clash only the personal one."""
    rows = session.scalars(
        select(CannedReply).where(or_(CannedReply.owner_id.is_(None), CannedReply.owner_id == agent.id))
        .order_by(CannedReply.shortcut, CannedReply.owner_id.is_(None))
    ).all()
    personal = {r.shortcut for r in rows if r.owner_id is not None}
    return [r for r in rows if r.owner_id is not None or r.shortcut not in personal]


def _taken(session: Session, owner_id: int | None, shortcut: str, except_id: int | None) -> bool:
    owner = CannedReply.owner_id.is_(None) if owner_id is None else CannedReply.owner_id == owner_id
    query = select(CannedReply.id).where(owner, CannedReply.shortcut == shortcut)
    if except_id is not None:
        query = query.where(CannedReply.id != except_id)
    with session.no_autoflush:  # a reply being saved must not flush first and then find itself
        return session.scalar(query) is not None


def _duplicate(shortcut: str) -> Conflict:
    return Conflict("shortcut_taken", "The shortcut /%(shortcut)s is already in use.", shortcut=shortcut)


def check_unique(session: Session, reply: CannedReply) -> None:
    """Shortcuts are unique per scope: among tenant-wide replies, and among one agent's own."""
    if _taken(session, reply.owner_id, reply.shortcut, reply.id):
        raise _duplicate(reply.shortcut)


def _commit(session: Session, reply: CannedReply) -> CannedReply:
    try:
        session.commit()
    except IntegrityError:  # the same shortcut raced in from another request
        session.rollback()
        raise _duplicate(reply.shortcut) from None
    return reply


def _own(session: Session, agent: User, reply_id) -> CannedReply:
    reply = session.get(CannedReply, valid_id(reply_id))
    # A colleague's reply is answered exactly like a missing one: its existence is not revealed.
    if reply is None or reply.owner_id != agent.id:
        raise NotFound("canned_reply_not_found", "No such personal canned reply.")
    return reply


def save_personal(session: Session, agent: User, reply_id, *, shortcut, title, body) -> CannedReply:
    """Create (``reply_id`` None) or change one of the agent's personal replies."""
    fields = clean_fields(shortcut, title, body)
    reply = CannedReply(owner_id=agent.id) if reply_id is None else _own(session, agent, reply_id)
    reply.shortcut, reply.title, reply.body = fields.shortcut, fields.title, fields.body
    check_unique(session, reply)
    session.add(reply)
    return _commit(session, reply)


def delete_personal(session: Session, agent: User, reply_id) -> None:
    session.delete(_own(session, agent, reply_id))
    session.commit()


def check_tenant_wide(session: Session, _actor: User, reply: CannedReply) -> None:
    """Rules for a tenant-wide reply saved from the admin screens (fields normalised in place)."""
    fields = clean_fields(reply.shortcut, reply.title, reply.body)
    reply.shortcut, reply.title, reply.body, reply.owner_id = fields.shortcut, fields.title, fields.body, None
    reply.updated_at = utcnow()
    check_unique(session, reply)


def variables(conversation: Conversation, agent: User) -> dict[str, str]:
    visitor = conversation.visitor
    return {
        "visitor_name": visitor.name or visitor.nickname,
        "visitor_email": visitor.email or "",
        "agent_name": agent.display_name,
    }


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{{name}}`` with its value; unknown names stay as written, so a typo shows."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def expand(session: Session, agent: User, conversation: Conversation, shortcut) -> tuple[CannedReply, str]:
    """The reply behind ``shortcut`` for this agent (personal first) and its text filled in."""
    if not isinstance(shortcut, str):
        raise Invalid("invalid_shortcut", "A shortcut is text.")
    wanted = shortcut.strip().lstrip("/").lower()
    for reply in visible_to(session, agent):
        if reply.shortcut == wanted:
            return reply, fill(reply.body, variables(conversation, agent))
    raise NotFound("unknown_shortcut", "No canned reply has the shortcut /%(shortcut)s.", shortcut=wanted)


def reply_dict(reply: CannedReply) -> dict:
    return {"id": reply.id, "scope": scope_of(reply), "shortcut": reply.shortcut, "title": reply.title,
            "body": reply.body}
