"""Visitors: anonymous identities that persist across reloads through a signed token."""
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
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
    visitor = session.scalar(select(Visitor).where(Visitor.public_id == public_id))
    if visitor is not None and visitor.merged_into_id is not None:
        visitor = session.get(Visitor, visitor.merged_into_id)  # identified since: the known contact
    return visitor


def identify(session: Session, tenant: TenantRef, token: str | None) -> Visitor:
    """The visitor a widget token names, or a new anonymous visitor when there is no token."""
    if token:
        public_id = public_id_from(tenant, token)
        visitor = by_public_id(session, public_id)
        if visitor is not None:
            visitor.last_seen_at = utcnow()
            session.commit()
            return visitor
        # A valid token whose visitor no longer exists (data erased): start afresh under the same id.
        visitor = Visitor(public_id=public_id, nickname=friendly_nickname())
    else:
        visitor = Visitor(public_id=secrets.token_hex(16), nickname=friendly_nickname())
    session.add(visitor)
    session.commit()
    return visitor
