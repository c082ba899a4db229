"""Routing: who holds a conversation (bot, queue or agent), assignment, transfer, close, reopen.

Every state change is recorded as a ConversationEvent. Assignment is race-free across server
processes: the queue head and the chosen agent are locked with SELECT … FOR UPDATE SKIP LOCKED
and the agent's load is recounted under the lock. On SQLite (one process, greenlets that never
yield inside a transaction) the same code runs without row locks.
"""
import functools
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, contains_eager

from ..models import Conversation, ConversationEvent, Department, DepartmentMember, Message, User, Visitor, utcnow
from ..models.conversations import AGENT_HANDLER, BOT_HANDLER, CLOSED, OPEN, QUEUE_HANDLER
from ..models.knowledge import ANSWERED as ANSWERED_OUTCOME
from ..models.knowledge import FALLBACK as FALLBACK_OUTCOME
from ..models.knowledge import HANDED_OVER as HANDED_OVER_OUTCOME
from ..models.reception import BOT_FIRST, BOT_ONLY, HUMAN_FIRST, MANUAL, ONLINE
from . import auto_replies, bot, conversations, outbound, reception, tracking
from .errors import Conflict, Forbidden, Invalid, NotFound

SYSTEM, VISITOR_ACTOR, AGENT_ACTOR, BOT_ACTOR = "system", "visitor", "agent", "bot"
# Modes in which the bot may keep a waiting visitor company.
BOT_MODES = (BOT_ONLY, BOT_FIRST, HUMAN_FIRST)
CONTENDED_RETRIES = 20
DEFAULT_SECONDS_PER_PLACE = 60


@dataclass
class Outcome:
    """What changed, for the realtime layer to tell: new messages, conversations, queues."""

    posted: list = field(default_factory=list)  # conversations.Posted, in order
    conversations: dict = field(default_factory=dict)  # id -> Conversation whose routing changed
    queues: set = field(default_factory=set)  # department ids (None: no department) whose places moved
    assigned: list = field(default_factory=list)  # (conversation, agent) pairs, in order

    def merge(self, other: "Outcome") -> "Outcome":
        self.posted += other.posted
        self.conversations.update(other.conversations)
        self.queues |= other.queues
        self.assigned += other.assigned
        return self

    def changed(self, conversation: Conversation) -> None:
        self.conversations[conversation.id] = conversation


def record(session: Session, conversation: Conversation, kind: str, actor_type: str,
           actor_id: int | None = None, **detail) -> None:
    session.add(ConversationEvent(conversation_id=conversation.id, kind=kind, actor_type=actor_type,
                                  actor_id=actor_id, detail=detail))


def department_of(session: Session, conversation: Conversation) -> Department | None:
    return session.get(Department, conversation.department_id) if conversation.department_id else None


def _say(session: Session, conversation: Conversation, text: str, outcome: Outcome, extras: dict | None = None):
    posted = conversations.post_bot_message(session, conversation, text, bot.BOT_NAME, extras)
    outcome.posted.append(posted)
    return posted


# --- capacity -----------------------------------------------------------------------------

def capacity(session: Session, agent: User) -> int:
    return agent.max_concurrent or reception.settings(session).default_max_concurrent


def load(session: Session, agent_id: int) -> int:
    return session.scalar(
        select(func.count(Conversation.id)).where(
            Conversation.assigned_agent_id == agent_id, Conversation.status == OPEN,
            Conversation.handler == AGENT_HANDLER,
        )
    )


def _load_column():
    return (
        select(func.count(Conversation.id))
        .where(Conversation.assigned_agent_id == User.id, Conversation.status == OPEN,
               Conversation.handler == AGENT_HANDLER)
        .correlate(User)
        .scalar_subquery()
    )


def _lock_free_agent(session: Session, department_id: int | None) -> tuple[User | None, bool]:
    """Least-loaded online agent with a free slot (ties: idle longest), locked. Also says whether
    a candidate was skipped because another transaction held it (then the caller tries again)."""
    agent_load = _load_column()
    query = (
        select(User.id)
        .where(User.presence == ONLINE, User.is_enabled.is_(True),
               agent_load < func.coalesce(User.max_concurrent, reception.settings(session).default_max_concurrent))
        .order_by(agent_load, User.last_assigned_at.asc().nulls_first(), User.id)
    )
    query = _members_only(query, department_id)
    skipped = False
    for agent_id in session.scalars(query).all():
        agent = session.scalar(select(User).where(User.id == agent_id).with_for_update(skip_locked=True))
        if agent is None:
            skipped = True
            continue
        if agent.presence == ONLINE and load(session, agent.id) < capacity(session, agent):
            return agent, skipped
    return None, skipped


def _assign(session: Session, conversation: Conversation, agent: User, actor_type: str, actor_id: int | None,
            outcome: Outcome) -> None:
    now = utcnow()
    waited = (now - conversation.waiting_since).total_seconds() if conversation.waiting_since else 0.0
    conversation.handler, conversation.assigned_agent_id, conversation.waiting_since = AGENT_HANDLER, agent.id, None
    agent.last_assigned_at = now
    record(session, conversation, "assigned", actor_type, actor_id, agent_id=agent.id, waited_seconds=round(waited, 3))
    auto_replies.assigned(session, conversation)
    outcome.changed(conversation)
    outcome.assigned.append((conversation, agent))
    outcome.queues.add(conversation.department_id)


# --- the queue ----------------------------------------------------------------------------

def _in_department(department_id: int | None):
    return (Conversation.department_id.is_(None) if department_id is None
            else Conversation.department_id == department_id)


def _members_only(query, department_id: int | None):
    """Restrict a query over users to the department's members (no department: everyone)."""
    if department_id is None:
        return query
    return query.join(DepartmentMember, DepartmentMember.user_id == User.id).where(
        DepartmentMember.department_id == department_id)


def _waiting_filter(department_id: int | None) -> list:
    return [Conversation.status == OPEN, Conversation.handler != AGENT_HANDLER,
            Conversation.waiting_since.is_not(None), _in_department(department_id)]


def _waiting(department_id: int | None):
    return select(Conversation).where(*_waiting_filter(department_id)).order_by(
        Conversation.waiting_since, Conversation.id)


def queue(session: Session, department_id: int | None) -> list[Conversation]:
    return list(session.scalars(_waiting(department_id)))


def assign_waiting(session: Session, department_id: int | None) -> Outcome:
    """Give waiting visitors of a department to free agents, first come first served."""
    outcome = Outcome()
    department = session.get(Department, department_id) if department_id is not None else None
    if department is not None and department.assignment == MANUAL:
        return outcome
    for attempt in range(CONTENDED_RETRIES):
        contended = False
        while True:
            head = session.scalar(_waiting(department_id).limit(1).with_for_update(skip_locked=True, of=Conversation))
            if head is None:
                break
            agent, skipped = _lock_free_agent(session, department_id)
            contended = contended or skipped
            if agent is None:
                break
            _assign(session, head, agent, SYSTEM, None, outcome)
            session.commit()
        session.commit()  # releases the locks of an unfinished round
        if not contended:
            break
        time.sleep(0.01 * (attempt + 1))  # another process holds a candidate; it commits soon
    return outcome


def position(session: Session, conversation: Conversation) -> int | None:
    """1-based place in the department's queue, or None when not waiting."""
    if conversation.status != OPEN or conversation.waiting_since is None or conversation.handler == AGENT_HANDLER:
        return None
    ahead = session.scalar(
        select(func.count(Conversation.id)).where(
            *_waiting_filter(conversation.department_id),
            (Conversation.waiting_since < conversation.waiting_since)
            | ((Conversation.waiting_since == conversation.waiting_since) & (Conversation.id < conversation.id)),
        )
    )
    return ahead + 1


def anyone_behind(session: Session, conversation: Conversation) -> bool:
    """Whether others wait behind this conversation. Arrival times are taken before commit, so
    of two near-simultaneous arrivals the earlier may commit later and join ahead of the other."""
    if conversation.status != OPEN or conversation.waiting_since is None or conversation.handler == AGENT_HANDLER:
        return False
    return session.scalar(
        select(Conversation.id).where(
            *_waiting_filter(conversation.department_id),
            (Conversation.waiting_since > conversation.waiting_since)
            | ((Conversation.waiting_since == conversation.waiting_since) & (Conversation.id > conversation.id)),
        ).limit(1)
    ) is not None


def seconds_per_place(session: Session, department_id: int | None) -> int:
    """Recent pace of assignments in the department: the time one queue place takes."""
    times = session.scalars(
        select(ConversationEvent.created_at)
        .join(Conversation, Conversation.id == ConversationEvent.conversation_id)
        .where(ConversationEvent.kind == "assigned", _in_department(department_id))
        .order_by(ConversationEvent.id.desc())
        .limit(20)
    ).all()
    if len(times) < 2:
        return DEFAULT_SECONDS_PER_PLACE
    span = (times[0] - times[-1]).total_seconds() / (len(times) - 1)
    return max(5, round(span))


def online_agents(session: Session, department_id: int | None) -> int:
    query = select(func.count(User.id)).where(User.presence == ONLINE, User.is_enabled.is_(True))
    return session.scalar(_members_only(query, department_id))


# --- a conversation's life ----------------------------------------------------------------

def _wait_for_human(session: Session, conversation: Conversation, kind: str, actor_type: str,
                    actor_id: int | None, outcome: Outcome) -> None:
    conversation.handler, conversation.waiting_since = QUEUE_HANDLER, utcnow()
    conversation.assigned_agent_id = None
    record(session, conversation, kind, actor_type, actor_id, department_id=conversation.department_id)
    auto_replies.queued(session, conversation)
    # Joining the back of a queue moves nobody else's place (see anyone_behind for the exception).
    outcome.changed(conversation)


def _bot_keeps_company(session: Session, conversation: Conversation, outcome: Outcome) -> None:
    """Nobody took the waiting visitor: where the mode allows, the bot holds them meanwhile."""
    if conversation.handler != QUEUE_HANDLER:
        return
    mode = reception.mode_for(session, conversation.channel, department_of(session, conversation))
    if mode in BOT_MODES:
        conversation.handler = BOT_HANDLER
        record(session, conversation, "bot_holding", SYSTEM)
        _say(session, conversation, bot.WAITING_WITH_BOT, outcome)
        outcome.changed(conversation)


def _claim_visitor(session: Session, visitor: Visitor) -> None:
    """Lock the visitor's row until this transaction ends. Without it, two first messages (two
    tabs, or a resend racing the original) each find no open conversation and open one each."""
    session.execute(select(Visitor.id).where(Visitor.id == visitor.id).with_for_update())


@functools.cache
def _claim_statement():
    """Built once, on first use (auto_replies imports this module): every visitor message runs it
    (see conversations._NEXT_SEQ)."""
    latest_id = (select(func.max(Conversation.id)).where(Conversation.visitor_id == Visitor.id)
                 .correlate(Visitor).scalar_subquery())
    return (select(Visitor, Conversation, Message, auto_replies.SETTINGS_VERSION)
            .outerjoin(Conversation, Conversation.id == latest_id)
            .outerjoin(Message, and_(Message.conversation_id == Conversation.id,
                                     Message.client_id == bindparam("client_id")))
            .where(Visitor.id == bindparam("visitor_id"))
            # The conversation's visitor is the row read here: not joined a second time.
            .options(contains_eager(Conversation.visitor))
            .with_for_update(of=Visitor))


def _claim_visitor_for(session: Session, visitor: Visitor | int,
                       client_id: str) -> tuple[Visitor, Conversation | None, Message | None, int]:
    """``_claim_visitor`` that reads, in the same statement, the visitor's row, their latest
    conversation, the message ``client_id`` already stored in it (a resend) and the automatic
    replies' settings version."""
    visitor_id = visitor if isinstance(visitor, int) else visitor.id
    return tuple(session.execute(_claim_statement(), {"visitor_id": visitor_id, "client_id": client_id}).one())


def open_conversation(session: Session, visitor: Visitor, *, channel: str | None = None, department_id=None,
                      prechat: dict | None = None) -> tuple[Conversation, Outcome]:
    """Start the visitor's conversation (or return the open one) and route it by reception mode.
    The channel defaults to the one the visitor's current visit came on (web, mobile_web, app...)."""
    _claim_visitor(session, visitor)
    outcome = Outcome()
    current = conversations.latest_for_visitor(session, visitor)
    if current is not None and current.status == OPEN:
        return current, outcome
    visit = tracking.latest_visit(session, visitor)
    channel = reception.clean_channel(channel or (visit.channel if visit else None) or "web")
    department = reception.department_for_visitor(session, department_id)
    answers = reception.clean_prechat(session, prechat)
    for key, value in answers.items():
        setattr(visitor, key, value)
    if answers.get("name"):
        visitor.nickname = answers["name"]
    conversation = Conversation(visitor_id=visitor.id, channel=channel, status=OPEN,
                                department_id=department.id if department else None, handler=QUEUE_HANDLER,
                                visit_session_id=visit.id if visit else None)
    session.add(conversation)
    session.flush()
    record(session, conversation, "created", VISITOR_ACTOR, visitor.id, channel=channel,
           department_id=conversation.department_id)
    if auto_replies.conversation_opened(session, conversation, outcome):
        # Outside business hours: kept as a left message for agents to pick up later.
        _wait_for_human(session, conversation, "queued", SYSTEM, None, outcome)
        session.commit()
        return conversation, outcome
    mode = reception.mode_for(session, channel, department)
    if mode in (BOT_ONLY, BOT_FIRST):
        conversation.handler = BOT_HANDLER
        record(session, conversation, "bot_started", BOT_ACTOR)
        text, extras = bot.greeting(session, visitor.language)
        _say(session, conversation, text, outcome, extras)
        session.commit()
        outcome.changed(conversation)
        return conversation, outcome
    _wait_for_human(session, conversation, "queued", SYSTEM, None, outcome)
    session.commit()
    outcome.merge(assign_waiting(session, conversation.department_id))
    session.refresh(conversation)
    if mode == HUMAN_FIRST and conversation.handler != AGENT_HANDLER:
        _bot_keeps_company(session, conversation, outcome)
        session.commit()
    return conversation, outcome


def _reopen(session: Session, conversation: Conversation, visitor: Visitor, outcome: Outcome) -> None:
    previous_agent = session.get(User, conversation.assigned_agent_id) if conversation.assigned_agent_id else None
    conversation.status, conversation.closed_at = OPEN, None
    record(session, conversation, "reopened", VISITOR_ACTOR, visitor.id)
    outcome.changed(conversation)
    if previous_agent is not None:
        locked = session.scalar(select(User).where(User.id == previous_agent.id).with_for_update())
        if locked.presence == ONLINE and load(session, locked.id) < capacity(session, locked):
            conversation.waiting_since = None
            _assign(session, conversation, locked, SYSTEM, None, outcome)
            session.commit()
            return
    _wait_for_human(session, conversation, "queued", SYSTEM, None, outcome)
    session.commit()
    outcome.merge(assign_waiting(session, conversation.department_id))


def conversation_for_message(session: Session, visitor: Visitor) -> tuple[Conversation, Outcome]:
    """The conversation a visitor's new message belongs to: the open one, a recently closed one
    reopened, or a new one with the tenant's defaults."""
    _claim_visitor(session, visitor)
    return _conversation_for_claimed(session, visitor, conversations.latest_for_visitor(session, visitor))


def _conversation_for_claimed(session: Session, visitor: Visitor, current: Conversation | None,
                              channel: str | None = None) -> tuple[Conversation, Outcome]:
    """``conversation_for_message`` once the visitor's row is locked and their latest conversation read.
    A ``channel`` given (SMS, API: no form to fill) opens a new conversation on it without pre-chat."""
    if current is not None and current.status == OPEN:
        return current, Outcome()
    window = timedelta(minutes=reception.settings(session).reopen_window_minutes)
    if current is not None and current.closed_at and utcnow() - current.closed_at <= window:
        outcome = Outcome()
        _reopen(session, current, visitor, outcome)
        session.refresh(current)
        return current, outcome
    if channel is None and reception.prechat_required(session):
        raise Invalid("prechat_required", "Please fill in the form before your first message.")
    return open_conversation(session, visitor, channel=channel)


def bot_turn(session: Session, conversation: Conversation, text: str) -> Outcome:
    """The bot answers a visitor message in a conversation it holds; it may hand over."""
    outcome = Outcome()
    if conversation.handler != BOT_HANDLER:
        return outcome
    reply = bot.respond(session, text, session.get(Visitor, conversation.visitor_id).language)
    turn = bot.record_turn(session, conversation, text, reply)
    mode = reception.mode_for(session, conversation.channel, department_of(session, conversation))
    if reply.wants_human and mode == BOT_ONLY:
        turn.outcome = FALLBACK_OUTCOME  # nobody to hand over to: a question left unanswered
        _say(session, conversation, bot.NO_HUMANS, outcome)
        return outcome
    if conversation.waiting_since is None and not reply.wants_human:
        if not reply.answered:
            conversation.bot_unanswered += 1
        if mode == BOT_FIRST and conversation.bot_unanswered >= reception.settings(session).bot_handoff_after:
            reply = bot.BotReply(bot.HANDING_OVER, HANDED_OVER_OUTCOME)
    if not reply.wants_human or conversation.waiting_since is not None:
        # Answering; or already waiting for a person, and the bot helps meanwhile.
        extras = {**reply.extras, "rate_turn": turn.id} if reply.outcome == ANSWERED_OUTCOME else reply.extras
        turn.message_id = _say(session, conversation, reply.text, outcome, extras).message.id
        session.commit()
        return outcome
    turn.outcome = HANDED_OVER_OUTCOME
    return outcome.merge(_hand_over(session, conversation, BOT_ACTOR, None))


def _hand_over(session: Session, conversation: Conversation, actor_type: str, actor_id: int | None) -> Outcome:
    outcome = Outcome()
    _say(session, conversation, bot.HANDING_OVER, outcome)
    _wait_for_human(session, conversation, "handed_over", actor_type, actor_id, outcome)
    session.commit()
    outcome.merge(assign_waiting(session, conversation.department_id))
    session.refresh(conversation)
    _bot_keeps_company(session, conversation, outcome)
    session.commit()
    return outcome


def request_human(session: Session, visitor: Visitor) -> Outcome:
    """The visitor pressed "talk to a human" while the bot holds their conversation."""
    conversation = conversations.latest_for_visitor(session, visitor)
    if conversation is None or conversation.status != OPEN:
        raise Invalid("no_conversation", "Start a conversation first.")
    if conversation.handler == AGENT_HANDLER or conversation.waiting_since is not None:
        return Outcome()  # already with, or waiting for, a person
    mode = reception.mode_for(session, conversation.channel, department_of(session, conversation))
    if mode == BOT_ONLY:
        outcome = Outcome()
        _say(session, conversation, bot.NO_HUMANS, outcome)
        return outcome
    return _hand_over(session, conversation, VISITOR_ACTOR, visitor.id)


def _may_handle(agent: User, conversation: Conversation) -> None:
    if conversation.assigned_agent_id not in (None, agent.id) and not agent.is_admin:
        raise Forbidden("not_your_conversation", "This conversation is assigned to someone else.")


def pick(session: Session, agent: User, conversation_id) -> Outcome:
    """An agent takes a waiting conversation (manual assignment, or answering from the queue)."""
    outcome = Outcome()
    conversation = session.scalar(
        select(Conversation).where(Conversation.id == conversations.valid_id(conversation_id))
        .with_for_update(of=Conversation))
    if conversation is None:
        raise NotFound("conversation_not_found", "No such conversation.")
    if conversation.status != OPEN:
        raise Invalid("conversation_closed", "This conversation is closed.")
    if conversation.handler == AGENT_HANDLER:
        if conversation.assigned_agent_id == agent.id:
            return outcome
        raise Conflict("already_assigned", "Someone else has taken this conversation.")
    if conversation.department_id is not None and not agent.is_admin and session.get(
            DepartmentMember, (conversation.department_id, agent.id)) is None:
        raise Forbidden("not_in_department", "You are not in this conversation's department.")
    locked = session.scalar(select(User).where(User.id == agent.id).with_for_update())
    if load(session, locked.id) >= capacity(session, locked):
        raise Conflict("at_capacity", "You are at your maximum number of conversations.")
    _assign(session, conversation, locked, AGENT_ACTOR, agent.id, outcome)
    session.commit()
    return outcome


def _departments_of(session: Session, agent_id: int) -> set[int | None]:
    return {None, *session.scalars(select(DepartmentMember.department_id).where(DepartmentMember.user_id == agent_id))}


def _refill(session: Session, agent_id: int | None, outcome: Outcome) -> Outcome:
    """A slot freed up: pull the next waiting visitors into every department the agent serves."""
    for department_id in sorted(_departments_of(session, agent_id) if agent_id else {None},
                                key=lambda d: (d is not None, d or 0)):
        outcome.merge(assign_waiting(session, department_id))
    return outcome


def transfer(session: Session, actor: User, conversation_id, *, to_agent_id=None, to_department_id=None,
             note: str = "") -> Outcome:
    if (to_agent_id is None) == (to_department_id is None):
        raise Invalid("invalid_transfer", "Transfer to exactly one agent or one department.")
    note = (note or "").strip()
    if len(note) > 2000:
        raise Invalid("note_too_long", "An internal note is at most 2000 characters.")
    outcome = Outcome()
    conversation = conversations.get_conversation(session, conversation_id)
    if conversation.status != OPEN:
        raise Invalid("conversation_closed", "This conversation is closed.")
    _may_handle(actor, conversation)
    previous_agent_id = conversation.assigned_agent_id
    if to_agent_id is not None:
        target = session.scalar(select(User).where(User.id == conversations.valid_id(to_agent_id)).with_for_update())
        if target is None or not target.is_enabled:
            raise NotFound("agent_not_found", "No such agent in this workspace.")
        if target.presence != ONLINE:
            raise Invalid("agent_not_online", "%(agent)s is not online.", agent=target.display_name)
        if target.id != previous_agent_id and load(session, target.id) >= capacity(session, target):
            raise Conflict("agent_at_capacity", "%(agent)s has no free slot.", agent=target.display_name)
        record(session, conversation, "transferred", AGENT_ACTOR, actor.id, from_agent_id=previous_agent_id,
               to_agent_id=target.id, note=note)
        conversation.waiting_since = None
        _assign(session, conversation, target, AGENT_ACTOR, actor.id, outcome)
    else:
        department = session.get(Department, conversations.valid_id(to_department_id))
        if department is None:
            raise NotFound("department_not_found", "No such department in this workspace.")
        record(session, conversation, "transferred", AGENT_ACTOR, actor.id, from_agent_id=previous_agent_id,
               to_department_id=department.id, note=note)
        conversation.department_id = department.id
        _wait_for_human(session, conversation, "queued", AGENT_ACTOR, actor.id, outcome)
    session.commit()
    if to_department_id is not None:
        outcome.merge(assign_waiting(session, conversation.department_id))
    if previous_agent_id and previous_agent_id != conversation.assigned_agent_id:
        _refill(session, previous_agent_id, outcome)
    return outcome


def close(session: Session, actor: User, conversation_id) -> Outcome:
    outcome = Outcome()
    conversation = conversations.get_conversation(session, conversation_id)
    if conversation.status == CLOSED:
        return outcome
    _may_handle(actor, conversation)
    return finish(session, conversation, AGENT_ACTOR, actor.id)


def finish(session: Session, conversation: Conversation, actor_type: str, actor_id: int | None) -> Outcome:
    """Close an open conversation (by an agent, or by the system for an idle visitor)."""
    outcome = Outcome()
    held_by = conversation.assigned_agent_id if conversation.handler == AGENT_HANDLER else None
    conversation.status, conversation.closed_at, conversation.waiting_since = CLOSED, utcnow(), None
    record(session, conversation, "closed", actor_type, actor_id)
    auto_replies.closed(session, conversation)
    outcome.changed(conversation)
    outcome.queues.add(conversation.department_id)
    session.commit()
    if held_by:
        _refill(session, held_by, outcome)
    return outcome


def rebalance(session: Session) -> Outcome:
    """Capacities, memberships or modes changed: waiting visitors may have an agent now."""
    outcome = assign_waiting(session, None)
    for department_id in session.scalars(select(Department.id).order_by(Department.id)).all():
        outcome.merge(assign_waiting(session, department_id))
    return outcome


def agent_available(session: Session, agent: User) -> Outcome:
    """The agent came online or got more room: fill their free slots."""
    return _refill(session, agent.id, Outcome())


def agent_left(session: Session, agent: User) -> Outcome:
    """The agent went away or offline. Where nobody else is online, the bot (if the mode allows)
    keeps waiting visitors company; they keep their place in the queue."""
    outcome = Outcome()
    for department_id in _departments_of(session, agent.id):
        if online_agents(session, department_id):
            continue
        for conversation in queue(session, department_id):
            _bot_keeps_company(session, conversation, outcome)
        outcome.queues.add(department_id)
    session.commit()
    return outcome


def start_with_agent(session: Session, visitor: Visitor, agent_id: int) -> tuple[Conversation, Outcome]:
    """An accepted invitation: the visitor's open conversation (queued or with the bot), or a new
    one, goes to the inviting agent if they are online with a free slot; otherwise it is routed
    like any other (the queue keeps the visitor's place)."""
    _claim_visitor(session, visitor)
    current = conversations.latest_for_visitor(session, visitor)
    if current is not None and current.status == OPEN and current.handler == AGENT_HANDLER:
        return current, Outcome()
    agent = session.scalar(select(User).where(User.id == agent_id).with_for_update())
    if agent is None or not agent.is_enabled or agent.presence != ONLINE or load(session, agent.id) >= capacity(
            session, agent):
        session.rollback()
        if current is not None and current.status == OPEN:
            return current, Outcome()
        return open_conversation(session, visitor)
    outcome = Outcome()
    if current is not None and current.status == OPEN:
        conversation = session.scalar(select(Conversation).where(Conversation.id == current.id)
                                      .with_for_update(of=Conversation))
        if conversation.handler == AGENT_HANDLER:  # assigned meanwhile
            session.rollback()
            return conversation, outcome
    else:
        visit = tracking.latest_visit(session, visitor)
        channel = visit.channel if visit else "web"
        conversation = Conversation(visitor_id=visitor.id, channel=channel, status=OPEN, handler=QUEUE_HANDLER,
                                    visit_session_id=visit.id if visit else None)
        session.add(conversation)
        session.flush()
        record(session, conversation, "created", VISITOR_ACTOR, visitor.id, channel=channel, department_id=None,
               invited_by=agent.id)
    _assign(session, conversation, agent, VISITOR_ACTOR, visitor.id, outcome)
    session.commit()
    return conversation, outcome


def visitor_says(session: Session, visitor: Visitor | int, *, client_id, body, max_length: int,
                 attachment: dict | None = None, channel: str | None = None):
    """A visitor message: stored in the right conversation, then the bot's turn if it holds it
    (not for a file: the bot cannot read one). Returns (the visitor's Posted, Outcome). A resend
    is answered with the stored message. ``visitor``: the row, or just its id (a socket event's:
    the row is then read with its lock). ``channel``: see ``_conversation_for_claimed``."""
    client_id = conversations.clean_client_id(client_id)
    body = conversations.clean_body(body, max_length)
    # Locked before the resend check, so the conversation read for it is the one the message joins
    # (the lock ends with the session when this is a resend).
    visitor, latest, stored, replies_version = _claim_visitor_for(session, visitor, client_id)
    if stored is not None:
        return conversations.Posted(latest, stored, is_new=False), Outcome()
    conversation, outcome = _conversation_for_claimed(session, visitor, latest, channel)
    rules = auto_replies.timed_rules(session, replies_version)
    # A reopened or new conversation cannot hold the client id; the latest one was checked above.
    posted = conversations.post_visitor_message(
        session, visitor, conversation, client_id=client_id, body=body, attachment=attachment,
        resend_checked=True, then=lambda staging: auto_replies.visitor_spoke(staging, conversation, rules))
    outcome.posted.append(posted)
    if posted.is_new and attachment is None:
        outcome.merge(bot_turn(session, conversation, body))
    return posted, outcome


def agent_reply(session: Session, agent: User, conversation_id, *, client_id, body, max_length: int,
                attachment: dict | None = None):
    """An agent message. Answering a waiting conversation takes it (as ``pick``); admins may also
    write into a colleague's conversation. Returns (the agent's Posted, Outcome)."""
    client_id = conversations.clean_client_id(client_id)
    body = conversations.clean_body(body, max_length)
    conversation, resent, replies_version = conversations.get_with_resent(
        session, conversation_id, client_id, auto_replies.SETTINGS_VERSION)
    if resent is not None:
        return resent, Outcome()
    if conversation.status != OPEN:
        raise Invalid("conversation_closed", "This conversation is closed.")
    _may_handle(agent, conversation)
    outcome = Outcome()
    if conversation.handler != AGENT_HANDLER:
        outcome.merge(pick(session, agent, conversation.id))
        session.refresh(conversation)
    rules = auto_replies.timed_rules(session, replies_version)
    posted = conversations.post_agent_message(
        session, agent, conversation, client_id=client_id, body=body, attachment=attachment,
        resend_checked=True, then=lambda staging: auto_replies.agent_spoke(staging, conversation, rules))
    if posted.is_new:
        outbound.after_agent_message(session, conversation, posted.message)
    outcome.posted.append(posted)
    return posted, outcome
