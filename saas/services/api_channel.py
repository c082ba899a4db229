"""The generic API channel, for bridges (WhatsApp, WeChat, Telegram…) and a tenant's own systems:
messages in by REST with a channel token and an idempotency key, agents' replies out to the
tenant's webhook, signed (``saas.services.outbound``).

A bridge's user is a visitor keyed by ``api:<user id>`` in ``visitors.external_id``.
"""
import re
import secrets

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants import current_tenant

from ..models import Conversation, Message, Visitor
from . import channel_settings, conversations, outbound, routing
from .errors import Invalid, validation_message

CHANNEL = "api"
EXTERNAL_PREFIX = "api:"
# Becomes the message's client id ("api:" + key), whose pattern and 64 characters it must fit.
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,60}$")
WEBHOOK_EVENT = "message.created"


class ApiUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    name: str | None = Field(default=None, max_length=80)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)


class InboundMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    user: ApiUser
    text: str = Field(max_length=100_000)


def parse(body) -> InboundMessage:
    if not isinstance(body, dict):
        raise Invalid("invalid_json", 'Send a JSON object: {"user": {"id": …}, "text": …}.')
    try:
        return InboundMessage.model_validate(body)
    except ValidationError as exc:
        raise Invalid("invalid_message", validation_message(exc, whole="body")) from exc


def clean_idempotency_key(key: str | None) -> str:
    if not key or not IDEMPOTENCY_KEY.match(key):
        raise Invalid("invalid_idempotency_key", "Send an Idempotency-Key header of 8-60 letters, digits or -_.:")
    return key


def visitor_for_user(session: Session, user: ApiUser) -> Visitor:
    """The bridge user's contact, made on their first message; name, email and phone as sent."""
    external_id = EXTERNAL_PREFIX + user.id
    visitor = session.scalar(select(Visitor).where(Visitor.external_id == external_id))
    if visitor is None:
        visitor = Visitor(public_id=secrets.token_hex(16), nickname=user.name or f"API user {user.id}"[:80],
                          external_id=external_id)
        session.add(visitor)
    for field in ("name", "email", "phone"):
        if getattr(user, field):
            setattr(visitor, field, getattr(user, field))
    session.flush()
    return visitor


def receive(session: Session, body, idempotency_key: str | None) -> tuple[conversations.Posted, routing.Outcome]:
    """An inbound message. Everything is checked before anything is stored; a key already stored
    is answered with that message (``is_new`` False)."""
    key = clean_idempotency_key(idempotency_key)
    message = parse(body)
    max_length = current_app.config["MAX_MESSAGE_LENGTH"]
    text = conversations.clean_body(message.text, max_length)
    return routing.visitor_says(session, visitor_for_user(session, message.user), client_id=EXTERNAL_PREFIX + key,
                                body=text, max_length=max_length, channel=CHANNEL)


def outbound_request(session: Session, conversation: Conversation, message: Message) -> outbound.Request:
    """The webhook request for an agent's reply, signed with the workspace's signing secret."""
    row = channel_settings.settings(session)
    if not row.api_webhook_url:
        raise outbound.Undeliverable("The API channel has no webhook URL (Admin → Channels).")
    external_id = conversation.visitor.external_id or ""
    key = f"{current_tenant.slug}-api-{message.id}"
    attachment = (message.extras or {}).get("attachment")
    return outbound.Request(url=row.api_webhook_url, idempotency_key=key, secret=row.api_signing_secret, payload={
        "event": WEBHOOK_EVENT,
        "idempotency_key": key,
        "workspace": current_tenant.slug,
        "conversation_id": conversation.id,
        "user": {"id": external_id.removeprefix(EXTERNAL_PREFIX)},
        "message": {"id": message.id, "seq": message.seq, "text": message.body, "created_at": message.created_at.isoformat(),
                    "sender": {"type": message.sender_type, "name": message.sender_name},
                    "attachment": {"name": attachment["name"], "type": attachment["content_type"],
                                   "size": attachment["size"]} if attachment else None},
    })
