"""Automatic replies: what the service says by itself when people are silent or away.

Each reply is configured for the workspace and may be overridden per department (a department's
row of a kind wins, switched on or off). Immediate replies (welcome, no agent online, outside
business hours) are posted when a conversation opens; the others wait on a persisted timer
(``timers``) that routing schedules and cancels at the natural points:

- queued → the waiting notice (now, then every N seconds with the visitor's place);
- assigned, or a visitor message to an agent → the agent has N seconds to reply;
- an agent reply → the visitor has N seconds before a reminder, then N more before the close;
- a visitor message cancels the idle timers; a close cancels everything.

All replies are ``system`` messages stored through ``conversations`` like any other.
"""
from __future__ import annotations  # routing imports this module: its names resolve at call time

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..i18n import N_
from ..models import AutoReply, Conversation, Department, Message, User, Visitor, utcnow
from ..models.auto_replies import (
    AGENT_SILENT, AUTO_REPLY_KINDS, NO_AGENT, OUTSIDE_HOURS, QUEUE_NOTICE, TIMED_KINDS, VISITOR_IDLE,
    VISITOR_IDLE_CLOSE, WELCOME,
)
from ..models.conversations import AGENT, AGENT_HANDLER, OPEN
from ..models.reception import HUMAN_ONLY
from ..models.settings_versions import AUTO_REPLIES
from . import business_hours, conversations, languages, reception, routing, scopes, settings_versions, timers
from .accounts import EMAIL_PATTERN
from .errors import Forbidden, Invalid

MAX_TEXT = 2000
MAX_SECONDS = 7 * 24 * 3600
LEAVE_MESSAGE_FORM = "leave_message"
KIND_LABELS = {
    WELCOME: N_("Welcome message"),
    NO_AGENT: N_("No agent online (offers the leave-a-message form)"),
    OUTSIDE_HOURS: N_("Outside business hours (offers the leave-a-message form)"),
    QUEUE_NOTICE: "Queue waiting notice ({position} is the visitor's place)",
    AGENT_SILENT: "Agent has not replied within N seconds (the agent is alerted)",
    VISITOR_IDLE: "Visitor idle for N seconds: reminder",
    VISITOR_IDLE_CLOSE: "Visitor still idle N seconds after the reminder: closing message",
}
# Kinds whose seconds must be set; the queue notice's are optional (none: said once, not repeated).
NEEDS_SECONDS = (AGENT_SILENT, VISITOR_IDLE, VISITOR_IDLE_CLOSE)


@dataclass
class Fired:
    """What firing a timer did, for the realtime layer: routing changes and agent alerts."""

    outcome: routing.Outcome = field(default_factory=lambda: routing.Outcome())
    alerts: list = field(default_factory=list)  # (conversation, agent id, kind)


# --- configuration ------------------------------------------------------------------------

def _applying(by_department: dict, department_id: int | None):
    """Of one kind's rows by department id: the department's own (switched on or off), else the
    workspace's (None); only when enabled."""
    chosen = by_department.get(department_id) if department_id in by_department else by_department.get(None)
    return chosen if chosen is not None and chosen.is_enabled else None


def rule(session: Session, department_id: int | None, kind: str) -> AutoReply | None:
    """The enabled reply of ``kind`` for a department: its own row, else the workspace's."""
    return _applying({row.department_id: row for row in session.scalars(
        select(AutoReply).where(AutoReply.kind == kind, AutoReply.department_id.is_(None)
                                | (AutoReply.department_id == department_id)))}, department_id)


# --- the message path's copy of the timed replies -------------------------------------------
# Every message restarts or cancels timers, which costs statements even where no timed reply is
# configured. So each server process keeps the tenant's timed rules (``settings_versions``); the
# message path reads their version in the statement it runs anyway (the visitor's lock, the
# agent's conversation).
SETTINGS_VERSION = settings_versions.version(AUTO_REPLIES)


@dataclass(frozen=True)
class TimedRule:
    is_enabled: bool
    seconds: int | None


@dataclass(frozen=True)
class TimedRules:
    by_kind: dict[str, dict[int | None, TimedRule]]

    def rule(self, department_id: int | None, kind: str) -> TimedRule | None:
        """As ``rule()`` for a timed kind, without a query."""
        return _applying(self.by_kind.get(kind, {}), department_id)

    def any_enabled(self, *kinds: str) -> bool:
        """Whether a timer of these kinds can be pending anywhere (see ``_switched_off``)."""
        return any(row.is_enabled for kind in kinds for row in self.by_kind.get(kind, {}).values())


def _read_timed_rules(session: Session) -> TimedRules:
    by_kind: dict[str, dict[int | None, TimedRule]] = {}
    for kind, department_id, is_enabled, seconds in session.execute(
            select(AutoReply.kind, AutoReply.department_id, AutoReply.is_enabled, AutoReply.seconds)
            .where(AutoReply.kind.in_(TIMED_KINDS))):
        by_kind.setdefault(kind, {})[department_id] = TimedRule(is_enabled, seconds)
    return TimedRules(by_kind)


_timed_rules = settings_versions.Copies(_read_timed_rules)


def timed_rules(session: Session, version: int) -> TimedRules:
    """The tenant's timed rules as of ``version`` (read with ``SETTINGS_VERSION``) or later."""
    return _timed_rules.get(session, version)


def _switched_off(session: Session) -> None:
    """Pending timers of a kind now switched off everywhere are cancelled, as they would say nothing
    when due: so the message path skips the bookkeeping of kinds no rule enables. (A message stored
    concurrently with the change, on the rules before it, may still leave such a timer; it says
    nothing unless its kind is switched on again before it is due.)"""
    switched_on = set(session.scalars(select(AutoReply.kind).where(AutoReply.is_enabled.is_(True))))
    timers.cancel_everywhere(session, *(kind for kind in TIMED_KINDS if kind not in switched_on))


# A department's removal takes its own replies along.
settings_versions.watch(AUTO_REPLIES, AutoReply, removed=(Department,), then=_switched_off)


def check_auto_reply(session: Session, actor: User, reply: AutoReply) -> None:
    """Validate an automatic reply an admin is saving (Flask-Admin's on_model_change)."""
    if not actor.is_admin:
        raise Forbidden("forbidden", "Only owners and admins configure automatic replies.")
    if reply.kind not in AUTO_REPLY_KINDS:
        raise Invalid("invalid_kind", "Choose which automatic reply this is.")
    reply.text = (reply.text or "").strip()
    if not reply.text or len(reply.text) > MAX_TEXT:
        raise Invalid("invalid_text", "The message is 1 to %(limit)s characters.", limit=MAX_TEXT)
    if reply.seconds is None and reply.kind in NEEDS_SECONDS:
        raise Invalid("invalid_seconds", "This reply waits: set its seconds.")
    if reply.seconds is not None and reply.kind not in TIMED_KINDS:
        raise Invalid("invalid_seconds", "This reply is sent at once: leave its seconds empty.")
    if reply.seconds is not None and not 1 <= reply.seconds <= MAX_SECONDS:
        raise Invalid("invalid_seconds", "Seconds are 1 to %(limit)s (a week).", limit=MAX_SECONDS)
    if scopes.taken(session, reply, AutoReply.kind == reply.kind):
        raise Invalid("duplicate_auto_reply", "This automatic reply is already set for that scope: edit that one.")


def availability(session: Session, department_id: int | None, channel: str = "web",
                 language: str | None = None) -> dict:
    """Whether a visitor can chat now, or gets the leave-a-message form instead, and why (in the
    visitor's ``language``)."""
    def outside_hours_message() -> str | None:
        reply = rule(session, department_id, OUTSIDE_HOURS)
        return languages.reply_text(session, reply, language) if reply else None

    def no_agent_message() -> str | None:
        reply = rule(session, department_id, NO_AGENT)
        department = session.get(Department, department_id) if department_id is not None else None
        if reply is None or reception.mode_for(session, channel, department) != HUMAN_ONLY:
            return None
        return languages.reply_text(session, reply, language)

    return decide_availability(business_hours.open_now(session, department_id), outside_hours_message,
                               no_agent_message, lambda: routing.online_agents(session, department_id))


def decide_availability(is_open: bool, outside_hours_message: Callable[[], str | None],
                        no_agent_message: Callable[[], str | None], anyone_online: Callable[[], int]) -> dict:
    """``availability`` from its parts, each asked only when needed (saas.services.visitor_offer
    answers the texts from its copy). ``no_agent_message``: the no-agent reply where people answer
    alone (human_only), None elsewhere: there the bot talks, whoever is online."""
    if not is_open:
        return {"open": False, "reason": OUTSIDE_HOURS, "message": outside_hours_message()}
    message = no_agent_message()
    if message is not None and not anyone_online():
        return {"open": False, "reason": NO_AGENT, "message": message}
    return {"open": True, "reason": None, "message": None}


# --- saying things ------------------------------------------------------------------------

def _say(session: Session, conversation: Conversation, text: str, outcome: routing.Outcome,
         client_id: str | None = None, extras: dict | None = None) -> None:
    posted = conversations.post_system_message(session, conversation, text, client_id or f"auto-{uuid.uuid4().hex}",
                                               extras)
    outcome.posted.append(posted)


def conversation_opened(session: Session, conversation: Conversation, outcome: routing.Outcome) -> bool:
    """Welcome, and say so when nobody can answer. Returns whether it is outside business hours:
    the conversation then waits as a left message instead of being routed now."""
    welcome = rule(session, conversation.department_id, WELCOME)
    if welcome is not None:
        _say(session, conversation, languages.auto_reply_text(session, conversation, welcome), outcome)
    available = availability(session, conversation.department_id, conversation.channel,
                             session.get(Visitor, conversation.visitor_id).language)
    if available["message"]:
        _say(session, conversation, available["message"], outcome, extras={"form": LEAVE_MESSAGE_FORM})
    return available["reason"] == OUTSIDE_HOURS


def queued(session: Session, conversation: Conversation) -> None:
    """The conversation joined a queue: the waiting notice goes out once routing has had its go."""
    if rule(session, conversation.department_id, QUEUE_NOTICE) is not None:
        timers.schedule(session, conversation.id, QUEUE_NOTICE, 0)


def assigned(session: Session, conversation: Conversation) -> None:
    timers.cancel(session, conversation.id, QUEUE_NOTICE)
    _agent_clock(session, conversation, rule(session, conversation.department_id, AGENT_SILENT))


def _agent_clock(session: Session, conversation: Conversation, silent: AutoReply | TimedRule | None) -> None:
    """Start the agent's clock (``silent``: the conversation's agent-silence rule), unless it already
    runs (or ran out) since the last agent reply: it counts from the first unanswered visitor
    message, and speaks up once per silence."""
    if silent is None:
        return
    last_reply = session.scalar(select(func.max(Message.created_at)).where(
        Message.conversation_id == conversation.id, Message.sender_type == AGENT))
    if not timers.started_since(session, conversation.id, AGENT_SILENT, last_reply):
        timers.schedule(session, conversation.id, AGENT_SILENT, silent.seconds)


# visitor_spoke and agent_spoke are staged in the transaction that stores the message: the caller
# commits. ``rules``: ``timed_rules`` as of the version the caller read in that transaction.

def visitor_spoke(session: Session, conversation: Conversation, rules: TimedRules) -> None:
    if rules.any_enabled(VISITOR_IDLE, VISITOR_IDLE_CLOSE):
        timers.cancel(session, conversation.id, VISITOR_IDLE, VISITOR_IDLE_CLOSE)
    if conversation.status == OPEN and conversation.handler == AGENT_HANDLER:
        _agent_clock(session, conversation, rules.rule(conversation.department_id, AGENT_SILENT))


def agent_spoke(session: Session, conversation: Conversation, rules: TimedRules) -> None:
    idle = rules.rule(conversation.department_id, VISITOR_IDLE)
    restarted = (VISITOR_IDLE,) if idle is not None else ()
    if restarted or rules.any_enabled(AGENT_SILENT, VISITOR_IDLE_CLOSE):
        timers.cancel(session, conversation.id, AGENT_SILENT, VISITOR_IDLE_CLOSE, *restarted)
    if idle is not None:
        timers.add(session, conversation.id, VISITOR_IDLE, idle.seconds)


def closed(session: Session, conversation: Conversation) -> None:
    timers.cancel(session, conversation.id)


# --- firing -------------------------------------------------------------------------------

def fire(session: Session, timer_id: int, now: datetime | None = None) -> Fired | None:
    """Fire a due timer if this caller wins it (None otherwise: not due, cancelled, or fired by
    someone else). The reply is stored in the same transaction as the claim."""
    timer = timers.claim(session, timer_id, now or utcnow())
    if timer is None:
        session.rollback()
        return None
    fired = Fired()
    conversation = session.get(Conversation, timer.conversation_id)
    reply = rule(session, conversation.department_id, timer.kind)
    if conversation.status == OPEN and reply is not None:
        _ACTIONS[timer.kind](session, conversation, reply, f"timer-{timer.id}", fired)
    session.commit()  # the claim, when the reply had nothing to say
    return fired


def _queue_notice(session, conversation, reply, client_id, fired) -> None:
    place = routing.position(session, conversation)
    if place is None:
        return  # taken by an agent meanwhile
    text = languages.auto_reply_text(session, conversation, reply)
    _say(session, conversation, text.replace("{position}", str(place)), fired.outcome, client_id)
    if reply.seconds:
        timers.schedule(session, conversation.id, QUEUE_NOTICE, reply.seconds)
        session.commit()


def _agent_silent(session, conversation, reply, client_id, fired) -> None:
    if conversation.handler != AGENT_HANDLER:
        return
    _say(session, conversation, languages.auto_reply_text(session, conversation, reply), fired.outcome, client_id)
    fired.alerts.append((conversation, conversation.assigned_agent_id, AGENT_SILENT))


def _visitor_idle(session, conversation, reply, client_id, fired) -> None:
    _say(session, conversation, languages.auto_reply_text(session, conversation, reply), fired.outcome, client_id)
    closing = rule(session, conversation.department_id, VISITOR_IDLE_CLOSE)
    if closing is not None:
        timers.schedule(session, conversation.id, VISITOR_IDLE_CLOSE, closing.seconds)
        session.commit()


def _visitor_idle_close(session, conversation, reply, client_id, fired) -> None:
    _say(session, conversation, languages.auto_reply_text(session, conversation, reply), fired.outcome, client_id)
    fired.outcome.merge(routing.finish(session, conversation, routing.SYSTEM, None))


_ACTIONS = {QUEUE_NOTICE: _queue_notice, AGENT_SILENT: _agent_silent, VISITOR_IDLE: _visitor_idle,
            VISITOR_IDLE_CLOSE: _visitor_idle_close}


# --- leave a message ----------------------------------------------------------------------

def leave_message(session: Session, visitor: Visitor, *, name, email, body, client_id, department_id,
                  max_length: int) -> tuple[conversations.Posted, routing.Outcome]:
    """The leave-a-message form: the visitor's name, email and message become a conversation that
    waits in the queue for an agent to pick up later."""
    name = name.strip() if isinstance(name, str) else ""
    email = email.strip() if isinstance(email, str) else ""
    if not name or len(name) > 80:
        raise Invalid("invalid_name", "Please enter your name (at most 80 characters).")
    if not EMAIL_PATTERN.match(email):
        raise Invalid("invalid_email", "Please enter a valid email address, so we can answer you.")
    body = conversations.clean_body(body, max_length)
    client_id = conversations.clean_client_id(client_id)
    latest = conversations.latest_for_visitor(session, visitor)
    resent = conversations.resent(session, latest, client_id) if latest else None
    if resent is not None:
        return resent, routing.Outcome()
    visitor.name, visitor.email, visitor.nickname = name, email, name
    outcome = routing.Outcome()
    conversation = latest if latest is not None and latest.status == OPEN else None
    if conversation is None:
        asked = {f["field"] for f in reception.settings(session).prechat_fields or []}
        conversation, outcome = routing.open_conversation(
            session, visitor, department_id=department_id,
            prechat={key: value for key, value in (("name", name), ("email", email)) if key in asked})
    routing.record(session, conversation, "left_message", routing.VISITOR_ACTOR, visitor.id, email=email)
    posted = conversations.post_visitor_message(session, visitor, conversation, client_id=client_id, body=body)
    outcome.posted.append(posted)
    return posted, outcome
