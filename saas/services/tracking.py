"""Visit sessions and the page trail the widget reports, the source each visit came from, who is
on the site now, and the agent's picture of one visitor.

Everything a visitor reports is untrusted: URLs must be http(s) and are cut to size, titles are
plain text cut to size, and a heartbeat can only touch a page view of the visitor who sends it.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Conversation, Message, PageView, Visitor, VisitSession, utcnow
from ..models.conversations import BOT, OPEN, QUEUE_HANDLER
from ..models.visits import TITLE_MAX, URL_MAX
from . import calls, conversations, geo, sources
from .accounts import EMAIL_PATTERN
from .errors import Invalid, NotFound
from .reception import PHONE_PATTERN

LIVE_WINDOW = timedelta(seconds=60)  # a heartbeat within this keeps a visitor "on the site now"
MAX_LIVE = 200
TRAIL_LENGTH = 50
# A heartbeat may claim at most the time since the page opened, plus this much clock slack.
HEARTBEAT_SLACK_SECONDS = 5
BROWSING, QUEUING, CHATTING = "browsing", "queuing", "chatting"
SOURCE_FIELDS = ("source_kind", "referrer_domain", "search_engine", "search_terms", "social_network",
                 "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "landing_page")


@dataclass(frozen=True)
class Client:
    """What the socket handshake says about the visitor's browser."""

    user_agent: str | None = None
    ip_address: str | None = None
    accept_language: str | None = None


def visit_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["VISIT_TIMEOUT_MINUTES"])


def current_visit(session: Session, visitor: Visitor, now: datetime | None = None) -> VisitSession | None:
    """The visitor's visit still going on: its last sign of life is within the visit timeout."""
    now = now or utcnow()
    return session.scalar(
        select(VisitSession)
        .where(VisitSession.visitor_id == visitor.id, VisitSession.last_seen_at >= now - visit_timeout())
        .order_by(VisitSession.last_seen_at.desc()).limit(1))


def _language(declared, accept_language) -> str | None:
    text = sources.plain_text(declared, 35) or sources.plain_text(str(accept_language or "").split(",")[0], 35)
    return (text.split(";")[0].strip() or None) if text else None


def _new_visit(visitor: Visitor, url: str, referrer: str | None, language, declared_channel,
               client: Client, now: datetime) -> VisitSession:
    source = sources.parse_source(url, referrer)
    device = sources.parse_user_agent(client.user_agent)
    return VisitSession(
        visitor_id=visitor.id, started_at=now, last_seen_at=now, source_kind=source.kind,
        **{name: getattr(source, name) for name in SOURCE_FIELDS if name != "source_kind"},
        device_type=device.device_type, browser=device.browser, os=device.os,
        language=_language(language, client.accept_language),
        ip_address=sources.plain_text(client.ip_address, 45),
        channel=sources.channel_for(device.device_type, declared_channel), page_count=0,
    )


def record_page_view(session: Session, visitor: Visitor, *, url, title, referrer, language=None,
                     declared_channel=None, client: Client = Client(), now: datetime | None = None) -> PageView:
    """A page the visitor opened (a load or a single-page-app route change). Starts a new visit
    after the visit timeout; the visit's source comes from its first page and referrer."""
    now = now or utcnow()
    clean_url = sources.page_url(url, URL_MAX)
    if clean_url is None:
        raise Invalid("bad_url", "A page address must be an http(s) URL.")
    clean_referrer = sources.page_url(referrer, URL_MAX)
    visit = current_visit(session, visitor, now)
    if visit is None:
        visit = _new_visit(visitor, clean_url, clean_referrer, language, declared_channel, client, now)
        session.add(visit)
        session.flush()
    visit.last_seen_at, visit.page_count = now, visit.page_count + 1
    visitor.last_seen_at = now
    view = PageView(session_id=visit.id, url=clean_url, title=sources.plain_text(title, TITLE_MAX) or "",
                    referrer=clean_referrer, started_at=now, seconds_on_page=0)
    session.add(view)
    session.commit()
    return view


def heartbeat(session: Session, visitor: Visitor, page_view_id: int, seconds_on_page: int,
              now: datetime | None = None) -> PageView:
    """The visitor is still there; ``seconds_on_page`` is the visible time on that page so far."""
    now = now or utcnow()
    row = session.execute(
        select(PageView, VisitSession).join(VisitSession, PageView.session_id == VisitSession.id)
        .where(PageView.id == page_view_id, VisitSession.visitor_id == visitor.id)).first()
    if row is None:
        raise NotFound("page_view_not_found", "No such page view of yours.")
    view, visit = row
    possible = int((now - view.started_at).total_seconds()) + HEARTBEAT_SLACK_SECONDS
    view.seconds_on_page = max(view.seconds_on_page, min(seconds_on_page, possible))
    if now - visit.last_seen_at <= visit_timeout():
        # A visit that has timed out stays over (the visit rollup may have folded it): a page left
        # open past it does not revive it, and the next page view starts a new visit.
        visit.last_seen_at = max(visit.last_seen_at, now)
    visitor.last_seen_at = now
    session.commit()
    return view


# --- reading ------------------------------------------------------------------------------

def page_dict(view: PageView) -> dict:
    return {"id": view.id, "url": view.url, "title": view.title, "referrer": view.referrer,
            "started_at": view.started_at.isoformat(), "seconds_on_page": view.seconds_on_page}


def source_dict(visit: VisitSession | None) -> dict | None:
    if visit is None:
        return None
    return {**{name: getattr(visit, name) for name in SOURCE_FIELDS}, "channel": visit.channel,
            "device_type": visit.device_type, "browser": visit.browser, "os": visit.os,
            "language": visit.language, "ip_address": visit.ip_address, "location": geo.locate(visit.ip_address),
            "started_at": visit.started_at.isoformat()}


def trail(session: Session, visit: VisitSession, limit: int = TRAIL_LENGTH) -> list[PageView]:
    """The visit's last ``limit`` pages, oldest first."""
    views = session.scalars(select(PageView).where(PageView.session_id == visit.id)
                            .order_by(PageView.id.desc()).limit(limit)).all()
    return list(reversed(views))


def latest_visit(session: Session, visitor: Visitor) -> VisitSession | None:
    return session.scalar(select(VisitSession).where(VisitSession.visitor_id == visitor.id)
                          .order_by(VisitSession.started_at.desc(), VisitSession.id.desc()).limit(1))


def first_visit(session: Session, visitor: Visitor) -> VisitSession | None:
    return session.scalar(select(VisitSession).where(VisitSession.visitor_id == visitor.id)
                          .order_by(VisitSession.started_at, VisitSession.id).limit(1))


def visit_count(session: Session, visitor: Visitor) -> int:
    return session.scalar(select(func.count(VisitSession.id)).where(VisitSession.visitor_id == visitor.id))


def state_of(conversation: Conversation | None) -> str:
    if conversation is None or conversation.status != OPEN:
        return BROWSING
    return QUEUING if conversation.handler == QUEUE_HANDLER else CHATTING


def live_summary(session: Session, visitor: Visitor, visit: VisitSession, now: datetime | None = None) -> dict:
    """One row of the live visitors list."""
    now = now or utcnow()
    pages = trail(session, visit, 1)
    conversation = conversations.latest_for_visitor(session, visitor)
    return {
        "visitor_id": visitor.public_id, "nickname": visitor.nickname, "name": visitor.name,
        "current_page": page_dict(pages[-1]) if pages else None,
        "seconds_on_site": int((now - visit.started_at).total_seconds()),
        "page_count": visit.page_count, "source": source_dict(visit), "state": state_of(conversation),
        "conversation_id": conversation.id if conversation is not None and conversation.status == OPEN else None,
        "last_seen_at": visit.last_seen_at.isoformat(),
    }


def live_visitors(session: Session, now: datetime | None = None) -> list[dict]:
    """Who is on the site now: a heartbeat or page view within LIVE_WINDOW; newest arrivals first."""
    now = now or utcnow()
    visits = session.scalars(select(VisitSession).where(VisitSession.last_seen_at >= now - LIVE_WINDOW)
                             .order_by(VisitSession.started_at.desc()).limit(MAX_LIVE)).all()
    seen, rows = set(), []
    for visit in visits:
        if visit.visitor_id in seen:
            continue
        seen.add(visit.visitor_id)
        rows.append(live_summary(session, session.get(Visitor, visit.visitor_id), visit, now))
    return rows


def _participants(session: Session, conversation: Conversation) -> list[str]:
    """Who answered in a conversation (agents by name, and the bot), in order of first reply."""
    rows = session.execute(
        select(Message.sender_type, Message.sender_name, func.min(Message.seq).label("first"))
        .where(Message.conversation_id == conversation.id, Message.sender_type.in_(("agent", BOT)))
        .group_by(Message.sender_type, Message.sender_name).order_by("first")).all()
    return [name if kind == "agent" else f"{name} (bot)" for kind, name, _first in rows]


def conversation_summaries(session: Session, visitor: Visitor) -> list[dict]:
    """All of the visitor's conversations, newest first, with whoever answered in each."""
    rows = session.scalars(select(Conversation).where(Conversation.visitor_id == visitor.id)
                           .order_by(Conversation.created_at.desc(), Conversation.id.desc())).all()
    return [{"id": c.id, "status": c.status, "handler": c.handler, "channel": c.channel,
             "created_at": c.created_at.isoformat(), "messages": c.last_seq,
             "participants": _participants(session, c)} for c in rows]


def visitor_of(session: Session, conversation_id) -> Visitor:
    return conversations.get_conversation(session, conversation_id).visitor


def find_visitor(session: Session, public_id: str) -> Visitor:
    visitor = session.scalar(select(Visitor).where(Visitor.public_id == public_id))
    if visitor is None:
        raise NotFound("visitor_not_found", "No such visitor in this workspace.")
    return visitor


def panel(session: Session, visitor: Visitor) -> dict:
    """Everything the agent's visitor panel shows."""
    latest = latest_visit(session, visitor)
    pages = trail(session, latest) if latest is not None else []
    return {
        "visitor_id": visitor.public_id, "nickname": visitor.nickname, "name": visitor.name,
        "email": visitor.email, "phone": visitor.phone, "identified": visitor.external_id is not None,
        "visits": visit_count(session, visitor),
        "first_source": source_dict(first_visit(session, visitor)), "latest_source": source_dict(latest),
        "current_page": page_dict(pages[-1]) if pages else None,
        "trail": [page_dict(p) for p in pages],
        "conversations": conversation_summaries(session, visitor),
        "calls": calls.calls_of(session, visitor),
    }


def update_contact(session: Session, visitor: Visitor, *, name: str, email: str, phone: str) -> Visitor:
    """An agent corrects the visitor's contact details; empty clears a field."""
    name, email, phone = (value.strip() for value in (name, email, phone))
    if len(name) > 80:
        raise Invalid("invalid_contact", "A name is at most 80 characters.")
    if email and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        raise Invalid("invalid_contact", "Please enter a valid email address.")
    if phone and not PHONE_PATTERN.match(phone):
        raise Invalid("invalid_contact", "Please enter a valid phone number.")
    visitor.name, visitor.email, visitor.phone = name or None, email or None, phone or None
    if name:
        visitor.nickname = name  # a given name replaces the generated nickname
    session.commit()
    return visitor


def open_conversations(session: Session, visitor: Visitor) -> list[Conversation]:
    return list(session.scalars(select(Conversation).where(Conversation.visitor_id == visitor.id,
                                                           Conversation.status == OPEN)))


def transcript(session: Session, conversation_id) -> tuple[Conversation, list[Message]]:
    conversation = conversations.get_conversation(session, conversation_id)
    return conversation, conversations.messages_after(session, conversation, 0)

