"""Visitors: anonymous identities that persist across reloads through a signed token."""
import secrets
from typing import NamedTuple

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tenants import TenantRef

from ..models import Visitor, utcnow
from .errors import Invalid

_ADJECTIVES = (
    "Amber", "Brave", "Calm", "Clever", "Cosy", "Eager", "Gentle", "Golden", "Happy", "Jolly",
    "Kind", "Lucky", "Merry", "Nimble", "Polite", "Quick", "Quiet", "Sunny", "Swift", "Witty",
)
_ANIMALS = (
    "Badger", "Crane", "Dolphin", "Falcon", "Fox", "Hare", "Heron", "Koala", "Lynx", "Otter",
    "Owl", "Panda", "Puffin", "Robin", "Seal", "Sparrow", "Tiger", "Turtle", "Whale", "Wren",
)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="switchboard.visitor")


def issue_token(tenant: TenantRef, visitor: Visitor) -> str:
    # The tenant is inside the signature: a token from one tenant's widget is worthless at another.
    return _serializer().dumps({"t": tenant.id, "v": visitor.public_id})


def public_id_from(tenant: TenantRef, token: str) -> str:
    try:
        data = _serializer().loads(token)
    except BadSignature as error:
        raise Invalid("bad_token", "The visitor token is not valid for this widget.") from error
    if not isinstance(data, dict) or data.get("t") != tenant.id or not isinstance(data.get("v"), str):
        raise Invalid("bad_token", "The visitor token is not valid for this widget.")
    return data["v"]


def friendly_nickname() -> str:
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_ANIMALS)}"


def by_public_id(session: Session, public_id: str) -> Visitor | None:
    """The visitor a token's public id names: the known contact it was merged into, if it was."""
    return _contact(session, session.scalar(select(Visitor).where(Visitor.public_id == public_id)))


def _contact(session: Session, visitor: Visitor | None) -> Visitor | None:
    if visitor is not None and visitor.merged_into_id is not None:
        visitor = session.get(Visitor, visitor.merged_into_id)  # identified since: the known contact
    return visitor


class Arrival(NamedTuple):
    visitor: Visitor
    is_new: bool  # no conversation yet
    read_along: tuple  # the values of ``arriving``'s ``read_along``


def arriving(session: Session, tenant: TenantRef, token: str | None, *read_along,
             language: str | None = None) -> Arrival:
    """``identify`` without its commit, in one statement as a rule. ``read_along`` (scalar
    subqueries, such as a settings version) is read in that statement; ``language``: a new
    visitor's, as far as the caller knows yet (it may set another before its commit)."""
    if token:
        public_id = public_id_from(tenant, token)
        seen = session.execute(update(Visitor).where(Visitor.public_id == public_id, Visitor.merged_into_id.is_(None))
                               .values(last_seen_at=utcnow()).returning(Visitor, *read_along)).first()
        if seen is not None:
            return Arrival(seen[0], False, tuple(seen[1:]))
        visitor = by_public_id(session, public_id)
        if visitor is not None:  # merged into a known contact since
            visitor.last_seen_at = utcnow()
            return Arrival(visitor, False, tuple(session.execute(select(*read_along)).one()) if read_along else ())
        # A valid token whose visitor no longer exists (data erased): start afresh under the same id.
    else:
        public_id = secrets.token_hex(16)
    created = session.execute(insert(Visitor).values(public_id=public_id, nickname=friendly_nickname(),
                                                     language=language).returning(Visitor, *read_along)).one()
    return Arrival(created[0], True, tuple(created[1:]))


def identify(session: Session, tenant: TenantRef, token: str | None) -> Visitor:
    """The visitor a widget token names, or a new anonymous visitor when there is no token."""
    visitor = arriving(session, tenant, token).visitor
    session.commit()
    return visitor
