"""The app channel (issue 7): mobile apps talk to a tenant with an app key and the signed identity
of their logged-in user, through the same services as the widget; a reply the user's app is not
connected for goes to the tenant's push webhook through ``outbound``."""
import secrets

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from ..models import AppChannelSettings, AppConnection, AppKey, Conversation, Message, Visitor, VisitSession, utcnow
from . import channel_settings, identity, issued_secrets, outbound, tracking
from .errors import ServiceError
from .visitors import friendly_nickname

APP_CHANNEL = "app"
KEY_PREFIX = "sbapp_"
PUSH_EVENT = "message.new"


class Unauthenticated(ServiceError):
    status = 401


# --- app keys -----------------------------------------------------------------------------

def authenticate(session: Session, key) -> AppKey:
    """The live key ``key`` is, or Unauthenticated: unknown, revoked, or another tenant's."""
    if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) > 128:
        raise Unauthenticated("bad_app_key", "Send a valid app key in the X-App-Key header.")
    row = issued_secrets.find_live(session, AppKey, key)
    if row is None:
        raise Unauthenticated("bad_app_key", "This app key is unknown to this workspace or was revoked.")
    return row


# --- push webhook settings ----------------------------------------------------------------

def settings(session: Session) -> AppChannelSettings:
    return session.get(AppChannelSettings, 1)


def set_push_url(session: Session, url) -> str | None:
    """The webhook URL (http or https), or None (empty) to turn pushes off."""
    clean = channel_settings.clean_url(url if isinstance(url, str) else None, "The push URL")
    settings(session).push_url = clean
    session.commit()
    return clean


def rotate_push_secret(session: Session) -> str:
    row = settings(session)
    row.push_secret = secrets.token_hex(32)
    session.commit()
    return row.push_secret


# --- app users ----------------------------------------------------------------------------

def app_user(session: Session, *, user_id: str, user_hash: str, name=None, email=None) -> Visitor:
    """The contact of the app's signed-in user (made on first use), checked by the identity
    signature; their visit on the app channel, so new conversations are app conversations."""
    known = session.scalar(select(Visitor).where(Visitor.external_id == user_id))
    visitor = known or Visitor(public_id=secrets.token_hex(16), nickname=friendly_nickname())
    if known is None:
        session.add(visitor)
    try:
        visitor = identity.identify_user(session, visitor, user_id=user_id, user_hash_hex=user_hash,
                                         name=name, email=email)
    except ServiceError:
        session.rollback()  # a bad signature leaves no new contact behind
        raise
    _visit_on_app(session, visitor)
    return visitor


def _visit_on_app(session: Session, visitor: Visitor) -> None:
    now = utcnow()
    visit = tracking.current_visit(session, visitor, now)
    if visit is None or visit.channel != APP_CHANNEL:
        visit = VisitSession(visitor_id=visitor.id, started_at=now, channel=APP_CHANNEL, device_type="mobile")
        session.add(visit)
    visit.last_seen_at = visitor.last_seen_at = now
    session.commit()


# --- is the app connected? ------------------------------------------------------------------

def socket_opened(session: Session, visitor: Visitor, sid: str) -> None:
    session.merge(AppConnection(sid=sid, visitor_id=visitor.id))
    session.commit()


def socket_closed(session: Session, sid: str) -> None:
    session.execute(delete(AppConnection).where(AppConnection.sid == sid))
    session.commit()


def is_connected(session: Session, visitor_id: int) -> bool:
    return session.scalar(select(exists().where(AppConnection.visitor_id == visitor_id)))


# --- push ---------------------------------------------------------------------------------

def push_payload(conversation: Conversation, message: Message) -> dict:
    visitor = conversation.visitor
    return {
        "event": PUSH_EVENT,
        "user_id": visitor.external_id,
        "conversation_id": conversation.id,
        "message": {"id": message.id, "seq": message.seq, "body": message.body,
                    "sender": {"type": message.sender_type, "name": message.sender_name},
                    "created_at": message.created_at.isoformat()},
    }


def push_request(session: Session, conversation: Conversation, message: Message) -> outbound.Request | None:
    """``outbound``'s request builder for app conversations: a signed push when the user's app has
    no live socket and the tenant set a push URL; None (nothing to send) otherwise."""
    push = settings(session)
    if not push.push_url or conversation.visitor.external_id is None or is_connected(session, conversation.visitor_id):
        return None
    return outbound.Request(url=push.push_url, payload=push_payload(conversation, message),
                            idempotency_key=f"app-push:{message.id}", secret=push.push_secret)
