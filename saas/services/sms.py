"""The phone channel's texts: in through Twilio-compatible webhooks (signature checked), out
through the outbound provider. Calls are in ``calls``.

A conversation is keyed by the visitor's phone number (E.164): the first text from a number makes
a visitor named after it; later texts join that visitor's conversation through the same routing
as a widget message (queue, bot, automatic replies).
"""
import base64
import hashlib
import hmac

from flask import current_app
from sqlalchemy.orm import Session

from tenants import current_tenant

from ..models import Conversation, Message
from . import channel_settings, conversations, outbound, routing
from .errors import Forbidden, NotFound
from .phones import normalise_phone, provider_sid, required_field, visitor_for_phone

SIGNATURE_HEADER = "X-Twilio-Signature"
CHANNEL = "sms"


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(auth token, the full URL + each POST parameter's name and value, sorted by name))."""
    signed = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def verify_signature(session: Session, url: str, params: list[tuple[str, str]], given: str | None) -> None:
    token = channel_settings.settings(session).sms_auth_token
    if not token:
        raise NotFound("sms_not_configured", "This workspace has not set up SMS.")
    if not given or not hmac.compare_digest(twilio_signature(token, url, params), given):
        raise Forbidden("bad_signature", "The %(header)s header does not match this request.", header=SIGNATURE_HEADER)


def receive_text(session: Session, fields: dict) -> tuple[conversations.Posted, routing.Outcome]:
    """An inbound text (the provider's form fields From, To, Body, MessageSid). Everything is
    checked before anything is stored; a MessageSid already stored is answered with that message."""
    sid = provider_sid(fields, "MessageSid")
    number = normalise_phone(required_field(fields, "From"))
    required_field(fields, "To")
    max_length = current_app.config["MAX_MESSAGE_LENGTH"]
    body = conversations.clean_body(fields.get("Body"), max_length)
    return routing.visitor_says(session, visitor_for_phone(session, number), client_id=f"sms:{sid}", body=body,
                                max_length=max_length, channel=CHANNEL)


def outbound_request(session: Session, conversation: Conversation, message: Message) -> outbound.Request:
    """The provider request sending an agent's reply (Twilio's Messages API form: To, From, Body)."""
    row = channel_settings.settings(session)
    phone = conversation.visitor.phone
    if not row.sms_outbound_url or not row.sms_number:
        raise outbound.Undeliverable("SMS sending is not set up (Admin → Channels).")
    if not phone:
        raise outbound.Undeliverable("This contact has no phone number.")
    auth = (row.sms_outbound_username, row.sms_outbound_password or "") if row.sms_outbound_username else None
    return outbound.Request(
        url=row.sms_outbound_url, payload={"To": phone, "From": row.sms_number, "Body": message.body},
        idempotency_key=f"{current_tenant.slug}-sms-{message.id}", content_type=outbound.FORM_BODY, basic_auth=auth)
