"""Known contacts: a tenant's site vouches for its logged-in user with
``user_hash = hex(HMAC-SHA256(identity secret, user_id))`` (as Intercom and Chatwoot do); the
anonymous visitor then becomes, or merges into, the contact with that external id."""
import hashlib
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Conversation, Invitation, Visitor, VisitorSettings, VisitSession
from .accounts import EMAIL_PATTERN
from .errors import Invalid
from .visitors import friendly_nickname

MAX_USER_ID = 255
MAX_INVITATION_PERIOD = 60 * 24 * 30


def settings(session: Session) -> VisitorSettings:
    return session.get(VisitorSettings, 1)


def rotate_secret(session: Session) -> str:
    """A new secret: every hash the site made with the old one stops working at once."""
    row = settings(session)
    row.identity_secret = secrets.token_hex(32)
    session.commit()
    return row.identity_secret


def set_invitation_period(session: Session, minutes) -> int:
    try:
        value = int(str(minutes).strip())
    except ValueError:
        value = -1
    if not 1 <= value <= MAX_INVITATION_PERIOD:
        raise Invalid("invalid_period", "The invitation period is 1 to %(limit)s minutes.", limit=MAX_INVITATION_PERIOD)
    settings(session).invitation_period_minutes = value
    session.commit()
    return value


def user_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def _verified_user_id(session: Session, user_id, given_hash) -> str:
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_USER_ID:
        raise Invalid("bad_identity", "user_id must be text of 1 to %(limit)s characters.", limit=MAX_USER_ID)
    expected = user_hash(settings(session).identity_secret, user_id).encode()
    given = given_hash.strip().lower().encode("utf-8", "replace") if isinstance(given_hash, str) else b""
    if not hmac.compare_digest(expected, given):
        raise Invalid("bad_identity_signature",
                      "The identity signature (user_hash) does not match this user_id; nothing was merged.")
    return user_id


def _contact(name, email) -> dict:
    details = {}
    if name:
        if not isinstance(name, str) or len(name.strip()) > 80:
            raise Invalid("bad_identity", "name must be text of at most 80 characters.")
        details["name"] = name.strip()
    if email:
        if not isinstance(email, str) or len(email) > 254 or not EMAIL_PATTERN.match(email.strip()):
            raise Invalid("bad_identity", "email must be a valid email address.")
        details["email"] = email.strip()
    return details


def _apply(visitor: Visitor, details: dict) -> None:
    for key, value in details.items():
        setattr(visitor, key, value)
    if details.get("name"):
        visitor.nickname = details["name"]


def _merge(session: Session, anonymous: Visitor, known: Visitor) -> None:
    """Everything the anonymous visitor did now belongs to the known contact."""
    for model in (Conversation, VisitSession, Invitation):
        session.execute(update(model).where(model.visitor_id == anonymous.id).values(visitor_id=known.id))
    for field in ("name", "email", "phone"):
        if getattr(known, field) is None and getattr(anonymous, field) is not None:
            setattr(known, field, getattr(anonymous, field))
    anonymous.merged_into_id = known.id


def identify_user(session: Session, visitor: Visitor, *, user_id, user_hash_hex, name=None, email=None) -> Visitor:
    """The visitor the widget should be from now on. A bad signature raises and changes nothing."""
    user_id = _verified_user_id(session, user_id, user_hash_hex)
    details = _contact(name, email)
    if visitor.external_id == user_id:
        _apply(visitor, details)
        session.commit()
        return visitor
    for _attempt in range(2):  # two tabs identifying the same new user at once: the loser retries
        known = session.scalar(select(Visitor).where(Visitor.external_id == user_id))
        try:
            if visitor.external_id is not None:
                # Someone else logged in on this browser: their contact, and nothing of the previous one.
                if known is None:
                    known = Visitor(public_id=secrets.token_hex(16), nickname=friendly_nickname(),
                                    external_id=user_id)
                    session.add(known)
            elif known is None:
                visitor.external_id = user_id
                known = visitor
            else:
                _merge(session, visitor, known)
            _apply(known, details)
            session.commit()
            return known
        except IntegrityError:
            session.rollback()
    raise Invalid("identity_conflict", "This user is being identified elsewhere right now; retry.")
