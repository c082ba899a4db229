"""Outbound delivery: send a JSON or form payload to someone else's server (an SMS provider, a
tenant's webhook, a push gateway), signed, with an idempotency key, retried with exponential
backoff, every attempt recorded.

Use it in two steps:

- ``queue_delivery(session, channel, Request(url=..., payload=..., idempotency_key=..., secret=...))``
  stores the request (status ``queued``) and commits; the same key again returns the stored
  delivery and queues nothing. Then ``schedule(delivery)`` after the commit: the RQ job
  ``workers.outbound.attempt`` (in-process without Redis) sends it and retries.
- ``after_agent_message(session, conversation, message)`` is called where an agent's reply is
  stored; it picks the channel's request builder (``_builder``: add a channel there) and does
  both steps. A builder raises ``Undeliverable(reason)`` when it cannot send; the agent sees it.

Signing: with ``secret``, the header ``X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret,
raw body)>``. Every request carries ``Idempotency-Key``. Statuses: queued → sending → delivered,
or back to queued (with ``next_attempt_at``) after a failed attempt, or failed after the last.
"""
import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import workers
from tenants import current_tenant

from ..models import Conversation, Message, utcnow
from ..models.channels import DELIVERED, FAILED, QUEUED, SENDING, OutboundAttempt, OutboundDelivery

SIGNATURE_HEADER = "X-Switchboard-Signature"
ATTEMPT_JOB = "workers.outbound.attempt"
JSON_BODY, FORM_BODY = "application/json", "application/x-www-form-urlencoded"
# Worth another try: the receiver may be restarting, overloaded or rate limiting us.
RETRYABLE_STATUSES = {408, 425, 429}
ERROR_MAX = 300
LEASE_MARGIN_SECONDS = 5


class Undeliverable(Exception):
    """A channel cannot send this message at all (not configured, no address): said to the agent."""


@dataclass(frozen=True)
class Request:
    """What a channel wants sent. ``secret`` signs the body; ``basic_auth`` is (user, password)."""

    url: str
    payload: dict
    idempotency_key: str
    content_type: str = JSON_BODY
    secret: str | None = None
    basic_auth: tuple[str, str] | None = None
    headers: dict = field(default_factory=dict)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _encode(payload: dict, content_type: str) -> str:
    if content_type == FORM_BODY:
        return urllib.parse.urlencode(payload)
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def queue_delivery(session: Session, channel: str, request: Request, *, conversation_id: int | None = None,
                   message_id: int | None = None) -> tuple[OutboundDelivery, bool]:
    """Store ``request`` as a queued delivery and commit. Returns (delivery, is_new): an
    idempotency key already stored returns that delivery, untouched."""
    stored = session.scalar(select(OutboundDelivery).where(OutboundDelivery.idempotency_key == request.idempotency_key))
    if stored is not None:
        return stored, False
    body = _encode(request.payload, request.content_type)
    headers = {"Content-Type": request.content_type, "Idempotency-Key": request.idempotency_key,
               "User-Agent": "Switchboard-Outbound/1", **request.headers}
    if request.secret:
        headers[SIGNATURE_HEADER] = signature(request.secret, body.encode())
    if request.basic_auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(request.basic_auth).encode()).decode()
    delivery = OutboundDelivery(
        channel=channel, idempotency_key=request.idempotency_key, conversation_id=conversation_id,
        message_id=message_id, url=request.url, content_type=request.content_type, body=body, headers=headers,
        status=QUEUED, attempts=0, max_attempts=current_app.config["OUTBOUND_MAX_ATTEMPTS"], next_attempt_at=utcnow(),
    )
    session.add(delivery)
    try:
        session.flush()
        _mirror_on_message(session, delivery)
        session.commit()
    except IntegrityError:  # the same key raced in from elsewhere: theirs stands
        session.rollback()
        return session.scalar(select(OutboundDelivery).where(
            OutboundDelivery.idempotency_key == request.idempotency_key)), False
    return delivery, True


def schedule(delivery: OutboundDelivery, delay_seconds: float = 0) -> None:
    """Attempt ``delivery`` (of the current tenant) in the background, ``delay_seconds`` from now."""
    workers.enqueue(ATTEMPT_JOB, current_tenant._get_current_object(), delivery.id, delay_seconds=delay_seconds)


def _claimable():
    """Queued, or being sent by a process that died: its lease (``next_attempt_at``) ran out."""
    return or_(OutboundDelivery.status == QUEUED,
               and_(OutboundDelivery.status == SENDING, OutboundDelivery.next_attempt_at <= utcnow()))


def claim(session: Session, delivery_id: int) -> OutboundDelivery | None:
    """Mark a delivery as being sent (one more attempt, leased for twice the request timeout) and
    commit. None when it is not claimable (delivered, failed, or another job holds it): duplicate
    jobs send nothing."""
    lease = timedelta(seconds=2 * current_app.config["OUTBOUND_TIMEOUT_SECONDS"] + LEASE_MARGIN_SECONDS)
    claimed = session.execute(
        update(OutboundDelivery)
        .where(OutboundDelivery.id == delivery_id, _claimable())
        .values(status=SENDING, attempts=OutboundDelivery.attempts + 1, next_attempt_at=utcnow() + lease)
        .returning(OutboundDelivery.id),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    if claimed is None:
        session.rollback()
        return None
    delivery = session.get(OutboundDelivery, delivery_id, populate_existing=True)
    session.add(OutboundAttempt(delivery_id=delivery.id, number=delivery.attempts, started_at=utcnow()))
    _mirror_on_message(session, delivery)
    session.commit()
    return delivery


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str | None
    # Refused before sending, for a reason another try would not change.
    final: bool = False

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.final:
            return False
        return self.status_code is None or self.status_code >= 500 or self.status_code in RETRYABLE_STATUSES


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx: refused), not a place to send the body to: urllib would turn
    the POST into a GET without it, which a 200 would then count as delivered."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _private_address(url: str) -> str | None:
    """An address of the URL's host that is not on the public internet (loopback, private, link-local
    such as a cloud metadata service...), if any."""
    try:
        found = socket.getaddrinfo(urllib.parse.urlsplit(url).hostname, None)
    except (OSError, UnicodeError):
        return None  # unresolvable: the request itself fails, and is retried
    return next((info[4][0] for info in found if not ipaddress.ip_address(info[4][0].split("%")[0]).is_global), None)


def send(delivery: OutboundDelivery) -> Response:
    """One HTTP POST of the stored request. No database work: nothing is held while we wait.
    Tenants choose the URLs, so unless the operator allows it, nothing goes to a private address."""
    if not current_app.config["OUTBOUND_PRIVATE_ADDRESSES"]:
        private = _private_address(delivery.url)
        if private:
            return Response(None, f"Refused: the address {private} is not public.", final=True)
    http_request = urllib.request.Request(delivery.url, data=delivery.body.encode(), method="POST",
                                          headers=delivery.headers)
    try:
        with _OPENER.open(http_request, timeout=current_app.config["OUTBOUND_TIMEOUT_SECONDS"]) as answer:
            return Response(answer.status, None)
    except urllib.error.HTTPError as exc:
        return Response(exc.code, f"HTTP {exc.code} {exc.reason}"[:ERROR_MAX])
    except (OSError, ValueError) as exc:  # refused, timed out, unresolvable, bad URL
        return Response(None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX])


def backoff_seconds(attempts: int) -> float:
    """Wait before attempt ``attempts + 1``: base, 2×base, 4×base…"""
    return current_app.config["OUTBOUND_BACKOFF_SECONDS"] * 2 ** (attempts - 1)


def record(session: Session, delivery: OutboundDelivery, response: Response) -> float | None:
    """Store the attempt's outcome and commit. Returns the seconds until the next attempt, or None
    when there is none (delivered, refused for good, or out of attempts)."""
    now = utcnow()
    session.execute(
        update(OutboundAttempt)
        .where(OutboundAttempt.delivery_id == delivery.id, OutboundAttempt.number == delivery.attempts)
        .values(finished_at=now, status_code=response.status_code, error=response.error),
        execution_options={"synchronize_session": False},
    )
    retry_in = None
    if response.accepted:
        delivery.status, delivery.delivered_at, delivery.last_error = DELIVERED, now, None
        delivery.next_attempt_at = None
    elif response.retryable and delivery.attempts < delivery.max_attempts:
        retry_in = backoff_seconds(delivery.attempts)
        delivery.status, delivery.last_error = QUEUED, response.error
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    else:
        delivery.status, delivery.last_error, delivery.next_attempt_at = FAILED, response.error, None
    _mirror_on_message(session, delivery)
    session.commit()
    return retry_in


def status_dict(delivery: OutboundDelivery) -> dict:
    return {"id": delivery.id, "channel": delivery.channel, "status": delivery.status,
            "attempts": delivery.attempts, "error": delivery.last_error}


def event_payload(delivery: OutboundDelivery) -> dict:
    """The ``message:delivery`` event agents get on every change."""
    return {"conversation_id": delivery.conversation_id, "message_id": delivery.message_id,
            "delivery": status_dict(delivery)}


def _mirror_on_message(session: Session, delivery: OutboundDelivery) -> None:
    """The message carries its delivery's latest status (``extras.delivery``), so a console
    opening the conversation later shows it without another query."""
    if delivery.message_id is None:
        return
    message = session.get(Message, delivery.message_id)
    if message is not None:
        message.extras = {**(message.extras or {}), "delivery": status_dict(delivery)}


def due_ids(session: Session) -> list[int]:
    """Deliveries due for an attempt that no job may be holding any more (their process stopped):
    what a starting server picks up again."""
    return list(session.scalars(select(OutboundDelivery.id).where(
        _claimable(), OutboundDelivery.next_attempt_at <= utcnow())))


def _builder(channel: str) -> Callable[[Session, Conversation, Message], Request | None] | None:
    """The channel's request builder: ``builder(session, conversation, message) -> Request``, None
    when there is nothing to send this time, or raising Undeliverable when it cannot send (not
    configured, no address: the agent is told). Web chats have none."""
    from . import api_channel, app_channel, sms  # they build on this module

    return {"sms": sms.outbound_request, "api": api_channel.outbound_request,
            "app": app_channel.push_request}.get(channel)


def after_agent_message(session: Session, conversation: Conversation, message: Message) -> OutboundDelivery | None:
    """Send a new agent message out through its conversation's channel when that channel delivers
    outside the app (SMS, API...). Commits; returns the delivery, or None when there is nothing to
    send (the message then says why in ``extras.delivery``, status failed, when its channel cannot)."""
    builder = _builder(conversation.channel)
    if builder is None:
        return None
    try:
        request = builder(session, conversation, message)
    except Undeliverable as exc:
        message.extras = {**(message.extras or {}), "delivery": {
            "id": None, "channel": conversation.channel, "status": FAILED, "attempts": 0, "error": str(exc)}}
        session.commit()
        return None
    if request is None:  # nothing to send this time: the app channel's user is connected, or no push URL
        return None
    delivery, is_new = queue_delivery(session, conversation.channel, request, conversation_id=conversation.id,
                                      message_id=message.id)
    if is_new:
        schedule(delivery)
    return delivery
