"""Phone calls on the contact's timeline: the provider's voice status callbacks, and calls an
agent logs by hand."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import User, Visitor
from ..models.channels import CALL_DIRECTIONS, CALL_STATUSES, URL_MAX, CallEvent
from .errors import Invalid
from .phones import normalise_phone, provider_sid, required_field, visitor_for_phone

NOTE_MAX = 2000
DURATION_MAX = 7 * 24 * 3600


# Provider directions: "inbound", "outbound-api", "outbound-dial".
def _direction(raw: str | None) -> str:
    return "outbound" if (raw or "").startswith("outbound") else "inbound"


def _recording_url(raw: str | None) -> str | None:
    if not raw:
        return None
    if len(raw) > URL_MAX or not raw.startswith(("https://", "http://")):
        raise Invalid("invalid_field", "RecordingUrl must be an http(s) address.")
    return raw


def _duration(raw) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        seconds = raw
    elif isinstance(raw, str) and raw.isdigit():
        seconds = int(raw)
    else:
        raise Invalid("invalid_duration", "A call's duration is a whole number of seconds.")
    if not 0 <= seconds <= DURATION_MAX:
        raise Invalid("invalid_duration", "A call's duration is between 0 seconds and a week.")
    return seconds


@dataclass(frozen=True)
class Recorded:
    event: CallEvent
    is_new: bool


def receive_call_event(session: Session, fields: dict) -> Recorded:
    """A provider's voice status callback (CallSid, CallStatus, From, To, Direction, CallDuration,
    RecordingUrl) on the caller's timeline. A recording callback (RecordingUrl, no CallStatus) is
    recorded as ``recorded``. The same CallSid and status twice is recorded once."""
    sid = provider_sid(fields, "CallSid")
    recording_url = _recording_url(fields.get("RecordingUrl"))
    status = fields.get("CallStatus") or ("recorded" if recording_url else None)
    if status not in CALL_STATUSES or status == "logged":
        raise Invalid("invalid_field", "CallStatus is one of: %(statuses)s.", statuses=", ".join(CALL_STATUSES[:-1]))
    direction = _direction(fields.get("Direction"))
    number = normalise_phone(required_field(fields, "From" if direction == "inbound" else "To"))
    duration = _duration(fields.get("CallDuration") or fields.get("RecordingDuration"))
    stored = session.scalar(select(CallEvent).where(CallEvent.call_sid == sid, CallEvent.status == status))
    if stored is not None:
        return Recorded(stored, False)
    event = CallEvent(visitor_id=visitor_for_phone(session, number).id, call_sid=sid, direction=direction,
                      status=status, duration_seconds=duration, recording_url=recording_url)
    session.add(event)
    try:
        session.commit()
    except IntegrityError:  # the same callback raced in: the first one stands
        session.rollback()
        return Recorded(session.scalar(select(CallEvent).where(CallEvent.call_sid == sid,
                                                               CallEvent.status == status)), False)
    return Recorded(event, True)


def log_call(session: Session, agent: User, visitor: Visitor, direction: str, duration_seconds,
             note: str) -> CallEvent:
    """An agent's hand-written call on the contact's timeline."""
    if direction not in CALL_DIRECTIONS:
        raise Invalid("invalid_direction", "A call is inbound or outbound.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX or "\x00" in note:
        raise Invalid("invalid_note", "A call note is at most %(limit)s characters of text.", limit=NOTE_MAX)
    event = CallEvent(visitor_id=visitor.id, direction=direction, status="logged",
                      duration_seconds=_duration(duration_seconds), note=note or None, logged_by_id=agent.id)
    session.add(event)
    session.commit()
    return event


def call_dict(event: CallEvent, visitor: Visitor, agent_name: str | None = None) -> dict:
    return {"id": event.id, "visitor_id": visitor.public_id, "call_sid": event.call_sid,
            "direction": event.direction, "status": event.status, "duration_seconds": event.duration_seconds,
            "recording_url": event.recording_url, "note": event.note, "logged_by": agent_name,
            "created_at": event.created_at.isoformat()}


def calls_of(session: Session, visitor: Visitor, limit: int = 100) -> list[dict]:
    """The contact's call events, newest first, as the visitor panel shows them."""
    rows = session.execute(
        select(CallEvent, User.display_name).outerjoin(User, User.id == CallEvent.logged_by_id)
        .where(CallEvent.visitor_id == visitor.id)
        .order_by(CallEvent.created_at.desc(), CallEvent.id.desc()).limit(limit))
    return [call_dict(event, visitor, agent_name) for event, agent_name in rows]
