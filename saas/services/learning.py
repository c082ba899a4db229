"""The learning loop: the questions the bot could not answer (fallbacks) and the answers visitors
rated not helpful, collected per tenant for its owners and admins, who turn each one into a new
knowledge-base entry or a phrasing of an existing one, or dismiss it.

Every function checks who acts and what is asked before it changes anything; entries are written
through ``knowledge_base`` (sanitising, the version bump), in the same transaction that marks the
question reviewed, so a refused change writes nothing and a question is dealt with only once.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..models import ADMIN_ROLES, BotTurn, KnowledgeEntry, User, utcnow
from ..models.knowledge import FALLBACK, NOT_HELPFUL
from . import knowledge_base
from .errors import Conflict, Forbidden, NotFound

PAGE_SIZE = 100

# The questions worth an admin's look: the bot had nothing, or its answer was rated not helpful.
NEEDS_REVIEW = or_(BotTurn.outcome == FALLBACK, BotTurn.rating == NOT_HELPFUL)


@dataclass(frozen=True)
class Unanswered:
    id: int
    question: str
    created_at: datetime
    outcome: str
    rating: str | None
    entry_id: int | None
    entry_question: str | None  # the entry the bot answered with, if it still exists


def check_admin(session: Session, actor: User) -> None:
    """Only an enabled owner or admin runs the knowledge base (their role as stored, not as cached)."""
    with session.no_autoflush:
        stored = session.execute(select(User.role, User.is_enabled).where(User.id == actor.id)).one_or_none()
    if stored is None or stored.role not in ADMIN_ROLES or not stored.is_enabled:
        raise Forbidden("forbidden", "Only owners and admins manage the knowledge base.")


def unanswered(session: Session, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[Unanswered]:
    """The questions still to review, newest first."""
    rows = session.execute(
        select(BotTurn.id, BotTurn.question, BotTurn.created_at, BotTurn.outcome, BotTurn.rating, BotTurn.entry_id,
               KnowledgeEntry.question.label("entry_question"))
        .outerjoin(KnowledgeEntry, KnowledgeEntry.id == BotTurn.entry_id)
        .where(NEEDS_REVIEW, BotTurn.reviewed_at.is_(None))
        .order_by(BotTurn.created_at.desc(), BotTurn.id.desc()).limit(limit).offset(offset))
    return [Unanswered(**row._mapping) for row in rows]


def unanswered_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(BotTurn)
                          .where(NEEDS_REVIEW, BotTurn.reviewed_at.is_(None)))


def _id(value) -> int | None:
    """An id as a form or query string carries it; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def _turn_to_review(session: Session, turn_id) -> BotTurn:
    number = _id(turn_id)
    turn = session.get(BotTurn, number) if number is not None else None
    if turn is None or not (turn.outcome == FALLBACK or turn.rating == NOT_HELPFUL):
        raise NotFound("turn_not_found", "No such question to review.")
    if turn.reviewed_at is not None:
        raise Conflict("turn_reviewed", "This question has already been dealt with.")
    return turn


def _claim(session: Session, turn: BotTurn) -> None:
    """Mark ``turn`` reviewed in the current transaction, unless someone else just did."""
    claimed = session.execute(
        update(BotTurn).where(BotTurn.id == turn.id, BotTurn.reviewed_at.is_(None)).values(reviewed_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        session.rollback()
        raise Conflict("turn_reviewed", "This question has already been dealt with.")
    session.expire(turn, ["reviewed_at"])


def mark_reviewed(session: Session, actor: User, turn_id) -> BotTurn:
    """Take a question off the list, leaving the knowledge base as it is."""
    check_admin(session, actor)
    turn = _turn_to_review(session, turn_id)
    _claim(session, turn)
    session.commit()
    return turn


dismiss = mark_reviewed


def check_turn(session: Session, actor: User, turn_id) -> BotTurn:
    """The question ``turn_id`` names, when it is still waiting for review (the "New entry" form)."""
    check_admin(session, actor)
    return _turn_to_review(session, turn_id)


def create_entry(session: Session, actor: User, turn_id, **fields) -> KnowledgeEntry:
    """A new entry made from a question on the list: both happen, or neither."""
    turn = check_turn(session, actor, turn_id)
    _claim(session, turn)
    try:
        return knowledge_base.create_entry(session, **fields)  # commits the claim with the entry
    except Exception:
        session.rollback()  # the question stays on the list
        raise


def add_phrasing(session: Session, actor: User, turn_id, entry_id) -> KnowledgeEntry:
    """Teach an existing entry the question as one more way of asking it."""
    turn = check_turn(session, actor, turn_id)
    number = _id(entry_id)
    entry = session.get(KnowledgeEntry, number) if number is not None else None
    if entry is None:
        raise NotFound("entry_not_found", "No such knowledge-base entry.")
    question = " ".join(turn.question.split())
    known = {entry.question.casefold(), *(p.casefold() for p in entry.phrasings)}
    phrasings = list(entry.phrasings) + ([question] if question.casefold() not in known else [])
    _claim(session, turn)
    try:
        return knowledge_base.update_entry(
            session, entry.id, question=entry.question, phrasings=phrasings, answer=entry.answer,
            category=entry.category, department_id=entry.department_id, enabled=entry.enabled)
    except Exception:
        session.rollback()
        raise
