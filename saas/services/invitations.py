"""Proactive invitations: an agent (or an admin's rule) invites a visitor who is browsing or
waiting; the widget shows it; accepting starts a conversation with that agent.

Automatic rules are evaluated on every page view and heartbeat. At most one invitation per
visitor per the tenant's invitation period: the check reads the invitations table under a lock on
the visitor's row, so it holds across server processes and restarts.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Invitation, InvitationRule, PageView, User, Visitor, VisitSession, utcnow
from ..models.reception import ONLINE
from ..models.visits import ACCEPTED, DECLINED, IGNORED, PENDING
from . import conversations, identity, routing, sources, tracking
from .errors import Conflict, Forbidden, Invalid, NotFound

MAX_MESSAGE = 500
# A pending invitation nobody answered within this long was ignored (the widget also says so).
ANSWER_WINDOW = timedelta(minutes=2)
ANSWERS = {"accept": ACCEPTED, "decline": DECLINED, "ignore": IGNORED}
MAX_WILDCARDS = 5
MAX_SECONDS_ON_PAGE = 86_400
MAX_VISITS = 10_000


@dataclass
class Answered:
    invitation: Invitation
    outcome: routing.Outcome
    conversation_id: int | None = None


def _clean_message(message) -> str:
    text = message.strip() if isinstance(message, str) else ""
    if not text:
        raise Invalid("invalid_invitation", "Write a message for the invitation.")
    if len(text) > MAX_MESSAGE:
        raise Invalid("invalid_invitation", "An invitation message is at most %(limit)s characters.", limit=MAX_MESSAGE)
    return text


def invitation_dict(invitation: Invitation, agent_name: str | None = None) -> dict:
    return {"id": invitation.id, "message": invitation.message, "status": invitation.status,
            "agent_name": agent_name, "rule_id": invitation.rule_id, "conversation_id": invitation.conversation_id,
            "created_at": invitation.created_at.isoformat()}


def expire_unanswered(session: Session, visitor: Visitor, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.execute(update(Invitation).where(
        Invitation.visitor_id == visitor.id, Invitation.status == PENDING,
        Invitation.created_at < now - ANSWER_WINDOW).values(status=IGNORED, answered_at=now))


def pending(session: Session, visitor: Visitor) -> Invitation | None:
    return session.scalar(select(Invitation).where(Invitation.visitor_id == visitor.id,
                                                   Invitation.status == PENDING).limit(1))


def _lock(session: Session, visitor: Visitor) -> None:
    # Serialises invitation decisions for one visitor across processes (a no-op on SQLite,
    # whose single writer already does).
    session.scalar(select(Visitor.id).where(Visitor.id == visitor.id).with_for_update())


def invite(session: Session, agent: User, visitor: Visitor, message) -> Invitation:
    """An agent invites a visitor who is on the site, browsing or queuing."""
    text = _clean_message(message)
    if agent.presence != ONLINE:
        raise Invalid("not_online", "Set yourself online to invite visitors.")
    if routing.load(session, agent.id) >= routing.capacity(session, agent):
        raise Conflict("at_capacity", "You are at your maximum number of conversations.")
    if tracking.state_of(conversations.latest_for_visitor(session, visitor)) == tracking.CHATTING:
        raise Conflict("already_chatting", "This visitor is already chatting.")
    now = utcnow()
    visit = tracking.current_visit(session, visitor, now)
    if visit is None or visit.last_seen_at < now - tracking.LIVE_WINDOW:
        raise Invalid("visitor_gone", "This visitor is no longer on the site.")
    _lock(session, visitor)
    expire_unanswered(session, visitor, now)
    if pending(session, visitor) is not None:
        raise Conflict("already_invited", "This visitor has an invitation waiting for an answer.")
    invitation = Invitation(visitor_id=visitor.id, agent_id=agent.id, message=text, status=PENDING, created_at=now)
    session.add(invitation)
    session.commit()
    return invitation


def answer(session: Session, visitor: Visitor, invitation_id: int, decision: str) -> Answered:
    """The visitor accepts, declines or let the invitation time out."""
    if decision not in ANSWERS:
        raise Invalid("invalid_answer", "Answer accept, decline or ignore.")
    invitation = session.scalar(select(Invitation).where(Invitation.id == invitation_id,
                                                         Invitation.visitor_id == visitor.id).with_for_update())
    if invitation is None:
        raise NotFound("invitation_not_found", "No such invitation.")
    if invitation.status != PENDING:
        raise Invalid("invitation_answered", "This invitation has already been answered.")
    invitation.status, invitation.answered_at = ANSWERS[decision], utcnow()
    session.commit()
    outcome, conversation_id = routing.Outcome(), None
    if decision == "accept":
        if invitation.agent_id is not None:
            conversation, outcome = routing.start_with_agent(session, visitor, invitation.agent_id)
        else:
            conversation, outcome = routing.open_conversation(session, visitor)
        invitation = session.get(Invitation, invitation.id)
        invitation.conversation_id = conversation_id = conversation.id
        session.commit()
    return Answered(invitation, outcome, conversation_id)


# --- automatic rules ----------------------------------------------------------------------

def _glob_match(pattern: str, text: str) -> bool:
    """``*`` matches any run of characters; linear, so no URL can make it backtrack for long."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == text
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]) or \
            len(parts[0]) + len(parts[-1]) > len(text):
        return False
    position, end = len(parts[0]), len(text) - len(parts[-1])
    for part in parts[1:-1]:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def url_matches(pattern: str, url: str) -> bool:
    """A pattern with ``*`` is a glob over the whole URL or its path (and query); any other
    pattern is a substring of the URL. Empty matches every page."""
    if not pattern:
        return True
    if "*" not in pattern:
        return pattern in url
    path = "/" + url.split("://", 1)[-1].partition("/")[2]
    return _glob_match(pattern, url) or _glob_match(pattern, path)


def check_rule(_session: Session, actor: User, rule: InvitationRule) -> None:
    """An admin's rule, validated before it is saved (Flask-Admin ``enforce``)."""
    if not actor.is_admin:
        raise Forbidden("forbidden", "Only owners and admins change invitation rules.")
    rule.name = (rule.name or "").strip()
    if not rule.name or len(rule.name) > 80:
        raise Invalid("invalid_rule", "A rule needs a name of at most 80 characters.")
    rule.url_pattern = (rule.url_pattern or "").strip()
    if len(rule.url_pattern) > 500 or sources.plain_text(rule.url_pattern, 500) != (rule.url_pattern or None):
        raise Invalid("invalid_rule", "The URL pattern is at most 500 characters, with no control characters.")
    if rule.url_pattern.count("*") > MAX_WILDCARDS:
        raise Invalid("invalid_rule", "A URL pattern has at most %(limit)s '*' wildcards.", limit=MAX_WILDCARDS)
    if " " in rule.url_pattern:
        raise Invalid("invalid_rule", "A URL pattern has no spaces (write %20).")
    if not 0 <= (rule.min_seconds_on_page or 0) <= MAX_SECONDS_ON_PAGE:
        raise Invalid("invalid_rule", "Time on page is 0 to %(limit)s seconds.", limit=MAX_SECONDS_ON_PAGE)
    if not 1 <= (rule.min_visits or 1) <= MAX_VISITS:
        raise Invalid("invalid_rule", "Number of visits is 1 to %(limit)s.", limit=MAX_VISITS)
    rule.min_seconds_on_page, rule.min_visits = rule.min_seconds_on_page or 0, rule.min_visits or 1
    if rule.source_kind and rule.source_kind not in sources.KINDS:
        raise Invalid("invalid_rule", "The source kind is one of: %(kinds)s.", kinds=", ".join(sources.KINDS))
    for field, limit in (("search_engine", 40), ("utm_campaign", 200)):
        value = (getattr(rule, field) or "").strip()
        if len(value) > limit:
            raise Invalid("invalid_rule", "The %(field)s is at most %(limit)s characters.",
                          field=field.replace("_", " "), limit=limit)
        setattr(rule, field, value or None)
    rule.source_kind = rule.source_kind or None
    rule.message = _clean_message(rule.message)


def _same(wanted: str | None, actual: str | None) -> bool:
    return not wanted or (actual or "").casefold() == wanted.casefold()


def rule_matches(rule: InvitationRule, page: PageView, visit: VisitSession, visits: int) -> bool:
    return (page.seconds_on_page >= rule.min_seconds_on_page and visits >= rule.min_visits
            and _same(rule.source_kind, visit.source_kind) and _same(rule.search_engine, visit.search_engine)
            and _same(rule.utm_campaign, visit.utm_campaign) and url_matches(rule.url_pattern, page.url))


def evaluate_rules(session: Session, visitor: Visitor, now: datetime | None = None) -> Invitation | None:
    """After a page view or heartbeat: the first enabled rule that matches invites the visitor,
    unless they are already chatting or queuing, or had an invitation within the period."""
    rules = session.scalars(select(InvitationRule).where(InvitationRule.is_enabled.is_(True))
                            .order_by(InvitationRule.id)).all()
    if not rules or tracking.state_of(conversations.latest_for_visitor(session, visitor)) != tracking.BROWSING:
        return None
    now = now or utcnow()
    visit = tracking.current_visit(session, visitor, now)
    pages = tracking.trail(session, visit, 1) if visit is not None else []
    if not pages:
        return None
    visits = tracking.visit_count(session, visitor)
    rule = next((r for r in rules if rule_matches(r, pages[-1], visit, visits)), None)
    if rule is None:
        return None
    _lock(session, visitor)
    period = timedelta(minutes=identity.settings(session).invitation_period_minutes)
    recent = session.scalar(select(Invitation.id).where(Invitation.visitor_id == visitor.id,
                                                        Invitation.created_at >= now - period).limit(1))
    if recent is not None or pending(session, visitor) is not None:
        session.rollback()
        return None
    invitation = Invitation(visitor_id=visitor.id, rule_id=rule.id, message=rule.message, status=PENDING,
                            created_at=now)
    session.add(invitation)
    session.commit()
    return invitation


def agent_name(session: Session, invitation: Invitation) -> str | None:
    agent = session.get(User, invitation.agent_id) if invitation.agent_id else None
    return agent.display_name if agent is not None else None
