"""Credentials handed out once and kept only as a SHA-256 (API channel tokens, app keys): issue,
list, revoke, and find the live one a caller presents. Each kind is a model with
``models.base.IssuedSecretColumns``."""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..models import utcnow
from .errors import Invalid, NotFound

NAME_MAX = 80
HINT_RANDOM_CHARS = 6  # shown after the prefix, so admins can tell their credentials apart
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, model, name, *, prefix: str, example: str):
    """A new credential named ``name``. Returns (row, the secret itself): only its hash is stored,
    so this is the one time it can be shown."""
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid("invalid_name", "Give it a name of 1 to %(limit)s characters, e.g. “%(example)s”.",
                      limit=NAME_MAX, example=example)
    secret = prefix + secrets.token_urlsafe(32)
    row = model(name=name, secret_hash=_digest(secret), hint=secret[:len(prefix) + HINT_RANDOM_CHARS])
    session.add(row)
    session.commit()
    return row, secret


def listed(session: Session, model) -> list:
    """Live ones first, newest first."""
    return list(session.scalars(select(model).order_by(model.revoked_at.is_not(None), model.id.desc())))


def revoke(session: Session, model, row_id):
    row = session.get(model, row_id) if isinstance(row_id, int) else None
    if row is None:
        raise NotFound("not_found", "There is no such credential.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def find_live(session: Session, model, secret: str):
    """The unrevoked row of ``secret``, or None; notes its use to the minute, so a busy caller does
    not write its row on every request. A note is committed at once: a read-only call has nothing
    else to commit, and concurrent calls with the same credential wait on the row's lock only as long
    as the note takes, not as long as the caller's work."""
    row = session.scalar(select(model).where(model.secret_hash == _digest(secret)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    noted = session.execute(update(model)
                            .where(model.id == row.id,
                                   or_(model.last_used_at.is_(None), model.last_used_at < now - LAST_USED_PRECISION))
                            .values(last_used_at=now), execution_options={"synchronize_session": False})
    if noted.rowcount:
        session.commit()
    return row
