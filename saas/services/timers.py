"""Persisted timers of delayed automatic replies: scheduled, cancelled and claimed exactly once.

A timer is claimed by a conditional UPDATE (``fired_at is null and cancelled_at is null``): of
any number of firers racing (greenlets, server processes, RQ workers) exactly one changes the row,
and only that one acts. The claim is committed together with what the firer does, so a crash in
between leaves the timer pending rather than half-done.

New timers are listed in ``session.info[NEW_TIMERS]`` until commit, for a driver that needs to
hear of them (RQ schedules a job for each; the in-process loop just polls the table).
"""
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenants.context import get_current_tenant

from ..models import ConversationTimer, utcnow

NEW_TIMERS = "switchboard.new_timers"
DUE_BATCH = 200


def _pending():
    return (ConversationTimer.fired_at.is_(None), ConversationTimer.cancelled_at.is_(None))


def started_since(session: Session, conversation_id: int, kind: str, since: datetime | None) -> bool:
    """Whether a timer of ``kind`` was set after ``since`` (None: ever) and not cancelled."""
    query = select(ConversationTimer.id).where(ConversationTimer.conversation_id == conversation_id,
                                               ConversationTimer.kind == kind, ConversationTimer.cancelled_at.is_(None))
    if since is not None:
        query = query.where(ConversationTimer.created_at > since)
    return session.scalar(query.limit(1)) is not None


def schedule(session: Session, conversation_id: int, kind: str, seconds: float) -> ConversationTimer:
    """A timer ``seconds`` from now; a pending one of the same kind is cancelled (starts over)."""
    cancel(session, conversation_id, kind)
    return add(session, conversation_id, kind, seconds)


def add(session: Session, conversation_id: int, kind: str, seconds: float) -> ConversationTimer:
    """``schedule`` for a caller that has cancelled the pending timers of ``kind`` itself (in one
    statement with other kinds)."""
    timer = ConversationTimer(conversation_id=conversation_id, kind=kind, due_at=utcnow() + timedelta(seconds=seconds))
    session.add(timer)
    session.flush()
    session.info.setdefault(NEW_TIMERS, []).append((get_current_tenant(), timer.id, timer.due_at))
    return timer


def _cancel_where(session: Session, *criteria) -> None:
    session.execute(update(ConversationTimer).where(*criteria, *_pending()).values(cancelled_at=utcnow()),
                    execution_options={"synchronize_session": False})


def cancel(session: Session, conversation_id: int, *kinds: str) -> None:
    """Cancel the conversation's pending timers of ``kinds`` (none given: all of them)."""
    _cancel_where(session, ConversationTimer.conversation_id == conversation_id,
                  *([ConversationTimer.kind.in_(kinds)] if kinds else []))


def cancel_everywhere(session: Session, *kinds: str) -> None:
    """Cancel every conversation's pending timers of ``kinds`` (none given: nothing)."""
    if kinds:
        _cancel_where(session, ConversationTimer.kind.in_(kinds))


def claim(session: Session, timer_id: int, now: datetime) -> ConversationTimer | None:
    """Mark a due timer fired; the timer if this caller won it, else None. Not committed: the
    caller commits the claim together with its reply."""
    won = session.execute(
        update(ConversationTimer)
        .where(ConversationTimer.id == timer_id, ConversationTimer.due_at <= now, *_pending())
        .values(fired_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount == 1
    return session.get(ConversationTimer, timer_id, populate_existing=True) if won else None


def due_ids(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(ConversationTimer.id).where(ConversationTimer.due_at <= now, *_pending())
                                .order_by(ConversationTimer.due_at, ConversationTimer.id).limit(DUE_BATCH)))


def all_pending(session: Session) -> list[ConversationTimer]:
    return list(session.scalars(select(ConversationTimer).where(*_pending()).order_by(ConversationTimer.due_at)))


def due_at(session: Session, timer_id: int) -> datetime | None:
    """When a still-pending timer is due; None once fired, cancelled or gone."""
    return session.scalar(select(ConversationTimer.due_at).where(ConversationTimer.id == timer_id, *_pending()))
