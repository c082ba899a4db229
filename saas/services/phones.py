"""Phone numbers (E.164) and the contact a number belongs to; the provider form fields that carry them."""
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Visitor
from .errors import Invalid

PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# A provider's id of a message or call (Twilio: "SM" or "CA" and 32 hex digits).
SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def normalise_phone(raw) -> str:
    """E.164 (``+14155550123``) from what people and providers write: spaces, dashes, dots,
    brackets, ``00`` for ``+``. Numbers without a country code are refused, not guessed."""
    if not isinstance(raw, str):
        raise Invalid("invalid_phone", "A phone number is text.")
    number = PHONE_SEPARATORS.sub("", raw.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    if not E164.match(number):
        raise Invalid("invalid_phone", "A phone number needs its country code, as +14155550123.")
    return number


def visitor_for_phone(session: Session, number: str) -> Visitor:
    """The contact with this phone number (the earliest, if several), or a new one named after it."""
    visitor = session.scalar(select(Visitor).where(Visitor.phone == number, Visitor.merged_into_id.is_(None))
                             .order_by(Visitor.id).limit(1))
    if visitor is None:
        visitor = Visitor(public_id=secrets.token_hex(16), nickname=number, phone=number)
        session.add(visitor)
        session.flush()
    return visitor


def required_field(fields: dict, name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid("missing_field", "The field %(field)s is required.", field=name)
    return value.strip()


def provider_sid(fields: dict, name: str) -> str:
    sid = required_field(fields, name)
    if not SID.match(sid):
        raise Invalid("invalid_field", "%(field)s is 10-64 letters and digits.", field=name)
    return sid
