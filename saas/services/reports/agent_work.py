"""Agent work: what each agent and each department did in a period, from the routing events, the
messages, the ratings and the presence history.

Definitions (also in the README):
- a *wait* is a visitor waiting for a person: it starts when a conversation is queued, handed over
  by the bot or reopened, and ends with the first agent message (its *first response time*) or
  unanswered when the conversation closes first (*missed*);
- a department (and everyone) *receives* its waits; an agent receives *assignments*: from an
  ``assigned`` event until the conversation is assigned again, queued, handed over or closed,
  *missed by the agent* when it ended without a message from that agent, its length the
  *handling time*;
- a *response* is an agent message after visitor messages no agent message answered yet, its time
  counted from the first of them.
Everything is attributed to the period by when it started (waits, assignments) or happened
(responses, messages, ratings); departments are the conversation's at that moment, channels its
only channel. A channel filter keeps that channel's conversations and ratings; presence, which
belongs to no conversation, is the same whatever the channel. Medians and
p90 are computed here over the sorted values, so SQLite and PostgreSQL give the same numbers.
"""
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...i18n import N_
from ...models import (
    AgentPresenceInterval, Conversation, ConversationEvent, ConversationRating, Department, Message, User, utcnow,
)
from ...models.conversations import AGENT, VISITOR
from ...models.engagement import LEVELS3
from ...models.reception import AWAY, CHANNELS, ONLINE
from .period import Period, parse_channel, parse_period, tenant_time_zone
from .table import NUMBER, TEXT, Column, ExportRows

# The figures of a row, in the order pages and exports show them; the durations are seconds.
WORK_COLUMNS = [
    Column("received", N_("Received")), Column("missed", N_("Missed")),
    Column("first_response_mean", N_("First response, mean (s)"), NUMBER),
    Column("first_response_median", N_("First response, median (s)"), NUMBER),
    Column("first_response_p90", N_("First response, p90 (s)"), NUMBER),
    Column("response_mean", N_("Response, mean (s)"), NUMBER),
    Column("handling_mean", N_("Handling, mean (s)"), NUMBER),
    Column("messages_sent", N_("Messages sent")), Column("satisfaction_mean", N_("Satisfaction (%)"), NUMBER),
    Column("ratings", N_("Ratings")),
]
# The per-channel table: how much came in by each channel, how fast it was answered, how it was rated.
CHANNEL_COLUMNS = [column for column in WORK_COLUMNS if column.key in (
    "received", "missed", "first_response_median", "satisfaction_mean", "ratings")]
PRESENCE_COLUMNS = [Column("online_seconds", N_("Online (s)"), NUMBER),
                    Column("away_seconds", N_("Away (s)"), NUMBER)]
DURATIONS = {column.key for column in WORK_COLUMNS + PRESENCE_COLUMNS if column.label.endswith("(s)")}
WAIT_STARTS = ("queued", "handed_over", "reopened")
ASSIGNMENT_ENDS = ("assigned", "queued", "handed_over", "closed")
NO_DEPARTMENT = N_("No department")


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def satisfaction_percent(scale: str, score: int) -> float:
    """A rating on its own scale as 0-100, so 5-star and 3-level ratings average together."""
    top = 3 if scale == LEVELS3 else 5
    return (score - 1) * 100 / (top - 1)


@dataclass
class WorkFigures:
    """One row of the report: an agent, a department, or everyone."""

    label: str
    received: int = 0
    missed: int = 0
    first_responses: list = field(default_factory=list)  # seconds
    responses: list = field(default_factory=list)  # seconds
    handling: list = field(default_factory=list)  # seconds, finished assignments
    messages_sent: int = 0
    ratings: list = field(default_factory=list)  # 0-100
    tags: Counter = field(default_factory=Counter)
    online_seconds: float = 0.0
    away_seconds: float = 0.0

    def as_dict(self) -> dict:
        def mean(values):
            return round(statistics.fmean(values), 1) if values else None

        return {
            "label": self.label,
            "received": self.received,
            "missed": self.missed,
            "first_response_mean": mean(self.first_responses),
            "first_response_median": (round(statistics.median(self.first_responses), 1)
                                      if self.first_responses else None),
            "first_response_p90": percentile(self.first_responses, 0.9),
            "response_mean": mean(self.responses),
            "handling_mean": mean(self.handling),
            "handling_total": round(sum(self.handling), 1),
            "messages_sent": self.messages_sent,
            "satisfaction_mean": mean(self.ratings),
            "ratings": len(self.ratings),
            "tags": dict(self.tags.most_common()),
            "online_seconds": round(self.online_seconds),
            "away_seconds": round(self.away_seconds),
        }


@dataclass
class AgentWorkReport:
    period: Period
    agents: list[dict]  # as_dict() rows with "id"
    departments: list[dict]  # as_dict() rows with "id" (None: no department)
    channels: list[dict]  # as_dict() rows with "id" (the channel), in CHANNELS order
    total: dict


class _Tally:
    """Rows by agent, by department and by channel, plus the total, filled in one pass over the facts."""

    def __init__(self, agent_names: dict[int, str], department_names: dict[int, str]):
        self.agent_names, self.department_names = agent_names, department_names
        self.agents: dict[int, WorkFigures] = {}
        self.departments: dict[int | None, WorkFigures] = {}
        self.channels: dict[str, WorkFigures] = {}
        self.total = WorkFigures(N_("All agents"))

    def agent(self, agent_id: int) -> WorkFigures:
        if agent_id not in self.agents:
            self.agents[agent_id] = WorkFigures(self.agent_names.get(agent_id, f"Former agent #{agent_id}"))
        return self.agents[agent_id]

    def department(self, department_id: int | None) -> WorkFigures:
        if department_id not in self.departments:
            name = self.department_names.get(department_id, NO_DEPARTMENT if department_id is None
                                             else f"Deleted department #{department_id}")
            self.departments[department_id] = WorkFigures(name)
        return self.departments[department_id]

    def channel(self, channel: str) -> WorkFigures:
        return self.channels.setdefault(channel, WorkFigures(channel))

    def rows(self, agent_id: int | None, department_id: int | None, channel: str) -> list[WorkFigures]:
        rows = [self.total, self.department(department_id), self.channel(channel)]
        if agent_id is not None:
            rows.append(self.agent(agent_id))
        return rows


def _conversations_active_in(session: Session, period: Period, channel: str | None) -> dict[int, str]:
    """The channel of each conversation with an event or a message in the period (of ``channel`` only)."""
    with_events = select(ConversationEvent.conversation_id).where(period.contains(ConversationEvent.created_at))
    with_messages = select(Message.conversation_id).where(period.contains(Message.created_at))
    query = select(Conversation.id, Conversation.channel).where(Conversation.id.in_(with_events.union(with_messages)))
    if channel is not None:
        query = query.where(Conversation.channel == channel)
    return dict(session.execute(query).all())


def _timelines(session: Session, conversation_ids: list[int], until: datetime) -> dict[int, list]:
    """Per conversation, its events and messages up to ``until`` in time order (events first on a tie:
    an assignment precedes the reply it allows)."""
    timelines: dict[int, list] = defaultdict(list)
    for chunk_start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[chunk_start:chunk_start + 500]
        for event in session.execute(
                select(ConversationEvent.conversation_id, ConversationEvent.kind, ConversationEvent.detail,
                       ConversationEvent.created_at, ConversationEvent.id)
                .where(ConversationEvent.conversation_id.in_(chunk), ConversationEvent.created_at < until)):
            timelines[event.conversation_id].append((event.created_at, 0, event.id, "event", event))
        for message in session.execute(
                select(Message.conversation_id, Message.sender_type, Message.sender_id, Message.created_at,
                       Message.seq)
                .where(Message.conversation_id.in_(chunk), Message.created_at < until,
                       Message.sender_type.in_((VISITOR, AGENT)))):
            timelines[message.conversation_id].append((message.created_at, 1, message.seq, "message", message))
    for timeline in timelines.values():
        timeline.sort(key=lambda item: item[:3])
    return timelines


def _within(period: Period, instant: datetime) -> bool:
    return period.start <= instant < period.end


def _replay(timeline: list, period: Period, tally: _Tally, channel: str) -> None:
    """Walk one conversation's life and add its waits, assignments, responses and messages."""
    department_id = None
    wait_started = None  # a visitor waiting for a person since then
    holder = None  # (agent id, assigned at, department id, whether the agent wrote)
    unanswered_since = None  # first visitor message no agent has answered yet

    def end_assignment(at):
        nonlocal holder
        if holder is None:
            return
        agent_id, started, held_department, wrote = holder
        if _within(period, started):
            agent = tally.agent(agent_id)
            agent.received += 1
            agent.missed += 0 if wrote else 1
            if at is not None:
                for row in tally.rows(agent_id, held_department, channel):
                    row.handling.append((at - started).total_seconds())
        holder = None

    for at, _order, _tiebreak, kind, fact in timeline:
        if kind == "event":
            detail = fact.detail or {}
            if "department_id" in detail:
                department_id = detail["department_id"]
            if fact.kind in ASSIGNMENT_ENDS:
                end_assignment(at)
            if fact.kind == "assigned":
                holder = (detail.get("agent_id"), at, department_id, False)
            elif fact.kind in WAIT_STARTS and wait_started is None:
                wait_started = (at, department_id)
                if _within(period, at):
                    for row in tally.rows(None, department_id, channel):
                        row.received += 1
            elif fact.kind == "closed":
                if wait_started is not None and _within(period, wait_started[0]):
                    for row in tally.rows(None, wait_started[1], channel):
                        row.missed += 1
                wait_started = unanswered_since = None
            continue
        if fact.sender_type == VISITOR:
            unanswered_since = unanswered_since or at
            continue
        agent_id = fact.sender_id
        if holder is not None and holder[0] == agent_id:
            holder = (*holder[:3], True)
        in_period = _within(period, at)
        rows = tally.rows(agent_id, department_id, channel)
        if in_period:
            for row in rows:
                row.messages_sent += 1
        if wait_started is not None:
            if _within(period, wait_started[0]):
                for row in tally.rows(agent_id, wait_started[1], channel):
                    row.first_responses.append((at - wait_started[0]).total_seconds())
            wait_started = None
        if unanswered_since is not None:
            if in_period:
                for row in rows:
                    row.responses.append((at - unanswered_since).total_seconds())
            unanswered_since = None
    end_assignment(None)


def _add_ratings(session: Session, period: Period, tally: _Tally, channel: str | None) -> None:
    query = (select(ConversationRating, Conversation.channel)
             .join(Conversation, Conversation.id == ConversationRating.conversation_id)
             .where(period.contains(ConversationRating.created_at)))
    if channel is not None:
        query = query.where(Conversation.channel == channel)
    for rating, rated_channel in session.execute(query):
        for row in tally.rows(rating.agent_id, rating.department_id, rated_channel):
            row.ratings.append(satisfaction_percent(rating.scale, rating.score))
            row.tags.update(rating.tags or [])


def presence_intervals(session: Session, period: Period, agent_id: int | None = None) -> list[AgentPresenceInterval]:
    query = select(AgentPresenceInterval).where(
        AgentPresenceInterval.started_at < period.end,
        or_(AgentPresenceInterval.ended_at.is_(None), AgentPresenceInterval.ended_at > period.start),
    ).order_by(AgentPresenceInterval.started_at, AgentPresenceInterval.id)
    if agent_id is not None:
        query = query.where(AgentPresenceInterval.user_id == agent_id)
    return list(session.scalars(query))


def clipped_seconds(interval: AgentPresenceInterval, period: Period, now: datetime) -> float:
    start = max(interval.started_at, period.start)
    end = min(interval.ended_at or now, period.end, now)
    return max(0.0, (end - start).total_seconds())


def _add_presence(session: Session, period: Period, tally: _Tally, now: datetime) -> None:
    for interval in presence_intervals(session, period):
        seconds = clipped_seconds(interval, period, now)
        for row in (tally.total, tally.agent(interval.user_id)):
            if interval.state == ONLINE:
                row.online_seconds += seconds
            elif interval.state == AWAY:
                row.away_seconds += seconds


def report(session: Session, period: Period, now: datetime | None = None,
           channel: str | None = None) -> AgentWorkReport:
    """The period's figures; with ``channel``, of that channel's conversations only."""
    now = now or utcnow()
    agent_names = dict(session.execute(select(User.id, User.display_name)).all())
    department_names = dict(session.execute(select(Department.id, Department.name)).all())
    tally = _Tally(agent_names, department_names)
    # Every enabled agent has a row, even with nothing to show: "0" is an answer.
    for agent_id in session.scalars(select(User.id).where(User.is_enabled.is_(True)).order_by(User.id)):
        tally.agent(agent_id)
    channels = _conversations_active_in(session, period, channel)
    for conversation_id, timeline in _timelines(session, list(channels), period.end).items():
        _replay(timeline, period, tally, channels[conversation_id])
    _add_ratings(session, period, tally, channel)
    _add_presence(session, period, tally, now)
    agents = sorted(({"id": agent_id, **figures.as_dict()} for agent_id, figures in tally.agents.items()),
                    key=lambda row: row["label"].lower())
    departments = sorted(({"id": department_id, **figures.as_dict()}
                          for department_id, figures in tally.departments.items()),
                         key=lambda row: (row["id"] is None, row["label"].lower()))
    by_channel = [{"id": name, **tally.channels[name].as_dict()} for name in CHANNELS if name in tally.channels]
    return AgentWorkReport(period, agents, departments, by_channel, tally.total.as_dict())


def query_args(period: Period, channel: str | None) -> dict:
    """The report's parameters as a query string asks for them (links, exports)."""
    return {**period.query_args(), **({"channel": channel} if channel else {})}


def export_parameters(session: Session, args) -> dict:
    return query_args(parse_period(args, tenant_time_zone(session)), parse_channel(args))


def export_rows(session: Session, parameters: dict) -> ExportRows:
    """Agents, departments, channels, then everyone: the tables of the page in one sheet."""
    work = report(session, parse_period(parameters, tenant_time_zone(session)), channel=parse_channel(parameters))
    columns = [Column("row", N_("Row"), TEXT), Column("label", N_("Name"), TEXT), *WORK_COLUMNS, *PRESENCE_COLUMNS,
               Column("tags", N_("Evaluation tags"), TEXT)]
    rows = ([{**row, "row": "agent"} for row in work.agents]
            + [{**row, "row": row_kind, "online_seconds": None, "away_seconds": None}
               for row_kind, group in (("department", work.departments), ("channel", work.channels)) for row in group]
            + [{**work.total, "row": "total"}])
    for row in rows:
        row["tags"] = ", ".join(f"{tag} ({count})" for tag, count in row["tags"].items())
    return ExportRows(columns, rows, len(rows))
