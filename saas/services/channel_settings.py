"""The workspace's SMS and API channel settings (one row) and the API channel's bearer tokens."""
import secrets
import urllib.parse

from sqlalchemy.orm import Session

from ..i18n import N_, Label
from ..models.channels import URL_MAX, ApiChannelToken, ChannelSettings
from . import issued_secrets
from .errors import Invalid, ServiceError
from .phones import normalise_phone

TOKEN_PREFIX = "sbc_"
SMS_FIELDS = ("sms_auth_token", "sms_number", "sms_outbound_url", "sms_outbound_username", "sms_outbound_password")
EDITABLE_FIELDS = SMS_FIELDS + ("api_webhook_url",)


class BadToken(ServiceError):
    status = 401


def settings(session: Session) -> ChannelSettings:
    return session.get(ChannelSettings, 1)


def clean_url(value: str | None, label: str) -> str | None:
    """An http(s) URL with a host, or None for empty."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urllib.parse.urlsplit(value)
    if len(value) > URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("invalid_url", "%(field)s must be an http:// or https:// address.", field=Label(label))
    return value


def save(session: Session, values: dict) -> ChannelSettings:
    """Store the editable fields (empty = unset) and commit; a bad one refuses them all."""
    cleaned = {name: (values.get(name) or "").strip() or None for name in EDITABLE_FIELDS}
    cleaned["sms_outbound_url"] = clean_url(cleaned["sms_outbound_url"], N_("The SMS provider URL"))
    cleaned["api_webhook_url"] = clean_url(cleaned["api_webhook_url"], N_("The webhook URL"))
    if cleaned["sms_number"]:
        cleaned["sms_number"] = normalise_phone(cleaned["sms_number"])
    for name in ("sms_auth_token", "sms_outbound_username", "sms_outbound_password"):
        if cleaned[name] and len(cleaned[name]) > ChannelSettings.__table__.c[name].type.length:
            raise Invalid("too_long", "%(field)s is too long.", field=name.replace("_", " ").capitalize())
    row = settings(session)
    for name, value in cleaned.items():
        setattr(row, name, value)
    session.commit()
    return row


def rotate_signing_secret(session: Session) -> str:
    """A new webhook signing secret: signatures made with the old one stop verifying at once."""
    row = settings(session)
    row.api_signing_secret = secrets.token_hex(32)
    session.commit()
    return row.api_signing_secret


def authenticate(session: Session, authorization: str | None) -> ApiChannelToken:
    """The live token of an ``Authorization: Bearer …`` header, else BadToken (401)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BadToken("missing_token", "Send the channel token as 'Authorization: Bearer <token>'.")
    row = issued_secrets.find_live(session, ApiChannelToken, token.strip())
    if row is None:
        raise BadToken("unknown_token", "This channel token is unknown or revoked.")
    return row
