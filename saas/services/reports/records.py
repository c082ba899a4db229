"""Conversation records: search the workspace's conversations by date, channel, agent, department,
who handled them (bot, human, both), rating, evaluation tag and text; open one's full transcript.

*Handled by*: ``bot`` when the bot sent messages and no agent did, ``human`` when agents did and
the bot did not, ``both``, or ``nobody`` (neither: left messages, abandoned queues)."""
import json
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from ...i18n import NP_, N_
from ...models import (
    BotTurn, Conversation, ConversationEvent, ConversationRating, Department, Message, PageView, User,
    VisitSession,
)
from ...models.conversations import AGENT, BOT
from .. import conversations, tracking
from .period import Period, ReportError, parse_channel, parse_period, tenant_time_zone
from .table import TEXT, Column, ExportRows

HANDLED_BY = ("bot", "human", "both", "nobody")
PAGE_SIZE = 50
MAX_PAGE = 10_000
TEXT_MAX, TAG_MAX = 200, 40
TRANSCRIPT_MESSAGES = 10_000
TRAIL_PAGES = 200
EXPORT_BATCH = 1000
EXPORT_COLUMNS = [
    Column("id", N_("Conversation")), Column("created_at", N_("Started"), TEXT),
    Column("closed_at", NP_("time", "Closed"), TEXT), Column("status", N_("Status"), TEXT),
    Column("channel", N_("Channel"), TEXT), Column("department", N_("Department"), TEXT),
    Column("agent", N_("Agent"), TEXT), Column("visitor", N_("Visitor"), TEXT),
    Column("handled_by", N_("Handled by"), TEXT), Column("messages", N_("Messages")), Column("rating", N_("Rating")),
    Column("rating_scale", N_("Rating scale"), TEXT),
    Column("tags", N_("Evaluation tags"), TEXT),
]


@dataclass(frozen=True)
class RecordFilters:
    channel: str | None = None
    agent_id: int | None = None
    department_id: int | None = None
    handled_by: str | None = None
    score: int | None = None
    tag: str | None = None
    text: str | None = None
    page: int = 1

    def query_args(self) -> dict:
        """As the query string that asked for them (for links to the next page and exports)."""
        return {name: value for name, value in (
            ("channel", self.channel), ("agent", self.agent_id), ("department", self.department_id),
            ("handled_by", self.handled_by), ("rating", self.score), ("tag", self.tag), ("q", self.text),
        ) if value is not None}


def _whole_number(args, name: str, low: int, high: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ReportError(f"invalid_{name}", "%(name)r must be a whole number from %(low)s to %(high)s.",
                          name=name, low=low, high=high)
    return int(raw)


def _text(args, name: str, longest: int) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > longest:
        raise ReportError(f"invalid_{name}", "%(name)r is at most %(limit)s characters.", name=name, limit=longest)
    return value or None


def parse_filters(args) -> RecordFilters:
    """The search form's query string, checked: a bad value is a ReportError (400), never a guess."""
    channel = parse_channel(args)
    handled_by = _text(args, "handled_by", 8)
    if handled_by is not None and handled_by not in HANDLED_BY:
        raise ReportError("invalid_handled_by", "Handled by is one of: %(choices)s.", choices=", ".join(HANDLED_BY))
    return RecordFilters(
        channel=channel, agent_id=_whole_number(args, "agent", 1, 2**31 - 1),
        department_id=_whole_number(args, "department", 1, 2**31 - 1), handled_by=handled_by,
        score=_whole_number(args, "rating", 1, 5), tag=_text(args, "tag", TAG_MAX), text=_text(args, "q", TEXT_MAX),
        page=_whole_number(args, "page", 1, MAX_PAGE) or 1,
    )


def _sent_by(sender_type: str):
    return exists().where(Message.conversation_id == Conversation.id, Message.sender_type == sender_type)


def _like_pattern(fragment: str) -> str:
    escaped = fragment.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _handled_by_condition(handled_by: str):
    bot, agent = _sent_by(BOT), _sent_by(AGENT)
    return {"bot": and_(bot, ~agent), "human": and_(agent, ~bot), "both": and_(bot, agent),
            "nobody": and_(~bot, ~agent)}[handled_by]


def _conditions(period: Period, filters: RecordFilters) -> list:
    conditions = [period.contains(Conversation.created_at)]
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.department_id:
        conditions.append(Conversation.department_id == filters.department_id)
    if filters.agent_id:
        conditions.append(or_(Conversation.assigned_agent_id == filters.agent_id, exists().where(
            Message.conversation_id == Conversation.id, Message.sender_type == AGENT,
            Message.sender_id == filters.agent_id)))
    if filters.handled_by:
        conditions.append(_handled_by_condition(filters.handled_by))
    if filters.score:
        conditions.append(ConversationRating.score == filters.score)
    if filters.tag:
        # Tags are a JSON list stored as text; the tag's own JSON spelling (quotes included) matches
        # whole tags only, and the same way on both databases.
        conditions.append(cast(ConversationRating.tags, Text).like(_like_pattern(json.dumps(filters.tag)),
                                                                   escape="/"))
    if filters.text:
        conditions.append(exists().where(Message.conversation_id == Conversation.id,
                                         Message.body.ilike(_like_pattern(filters.text), escape="/")))
    return conditions


def handled_by(bot_wrote: bool, agent_wrote: bool) -> str:
    return {(True, False): "bot", (False, True): "human", (True, True): "both"}.get((bot_wrote, agent_wrote),
                                                                                     "nobody")


def search(session: Session, period: Period, filters: RecordFilters, page_size: int = PAGE_SIZE) -> dict:
    """One page of matching conversations, newest first, and how many match in all."""
    conditions = _conditions(period, filters)
    base = select(Conversation.id).outerjoin(ConversationRating,
                                             ConversationRating.conversation_id == Conversation.id)
    total = session.scalar(select(func.count()).select_from(base.where(*conditions).subquery()))
    rows = session.execute(
        select(Conversation, _sent_by(BOT).label("bot_wrote"), _sent_by(AGENT).label("agent_wrote"),
               ConversationRating.score, ConversationRating.scale, ConversationRating.tags,
               User.display_name, Department.name)
        .outerjoin(ConversationRating, ConversationRating.conversation_id == Conversation.id)
        .outerjoin(User, User.id == Conversation.assigned_agent_id)
        .outerjoin(Department, Department.id == Conversation.department_id)
        .where(*conditions)
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
        .offset((filters.page - 1) * page_size).limit(page_size)
    ).all()
    records = [{
        "id": conversation.id, "created_at": conversation.created_at, "closed_at": conversation.closed_at,
        "status": conversation.status, "channel": conversation.channel, "department": department_name,
        "agent": agent_name, "visitor": conversation.visitor.name or conversation.visitor.nickname,
        "messages": conversation.last_seq, "handled_by": handled_by(bool(bot_wrote), bool(agent_wrote)),
        "rating": score, "rating_scale": scale, "tags": tags or [],
    } for conversation, bot_wrote, agent_wrote, score, scale, tags, agent_name, department_name in rows]
    return {"records": records, "total": total, "page": filters.page,
            "pages": max(1, -(-total // page_size))}


def _page_trail(session: Session, conversation: Conversation) -> list[PageView]:
    """The pages the visitor saw in the visits around the conversation, oldest first."""
    ended = conversation.closed_at or conversation.updated_at
    return list(session.scalars(
        select(PageView).join(VisitSession, VisitSession.id == PageView.session_id)
        .where(VisitSession.visitor_id == conversation.visitor_id,
               VisitSession.last_seen_at >= conversation.created_at - tracking.visit_timeout(),
               VisitSession.started_at <= ended + timedelta(seconds=1))
        .order_by(PageView.started_at, PageView.id).limit(TRAIL_PAGES)))


def transcript(session: Session, conversation_id) -> dict:
    """Everything about one conversation of this workspace; another tenant's id is simply not found."""
    conversation = conversations.get_conversation(session, conversation_id)
    messages = conversations.messages_after(session, conversation, 0, limit=TRANSCRIPT_MESSAGES)
    turns = list(session.scalars(select(BotTurn).where(BotTurn.conversation_id == conversation.id)
                                 .order_by(BotTurn.id)))
    events = list(session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation.id)
                                  .order_by(ConversationEvent.created_at, ConversationEvent.id)))
    people = dict(session.execute(select(User.id, User.display_name)).all())
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    bot_wrote = any(m.sender_type == BOT for m in messages)
    agent_wrote = any(m.sender_type == AGENT for m in messages)
    return {
        "conversation": conversation,
        "visitor": conversation.visitor,
        "department": departments.get(conversation.department_id),
        "agent": people.get(conversation.assigned_agent_id),
        "handled_by": handled_by(bot_wrote, agent_wrote),
        "messages": messages,
        "turns_by_message": {turn.message_id: turn for turn in turns if turn.message_id is not None},
        "turns": turns,
        "events": [_event_dict(event, people, departments) for event in events],
        "notes": [event.detail["note"] for event in events
                  if event.kind == "transferred" and (event.detail or {}).get("note")],
        "rating": session.scalar(select(ConversationRating)
                                 .where(ConversationRating.conversation_id == conversation.id)),
        "trail": _page_trail(session, conversation),
    }


def _event_dict(event: ConversationEvent, people: dict, departments: dict) -> dict:
    """An event as a person reads it: names instead of ids."""
    detail = event.detail or {}
    words = []
    for key, names in (("agent_id", people), ("from_agent_id", people), ("to_agent_id", people),
                       ("department_id", departments), ("to_department_id", departments)):
        if detail.get(key) is not None:
            label = key.removesuffix("_id").replace("_", " ")
            words.append(f"{label}: {names.get(detail[key], '#' + str(detail[key]))}")
    if detail.get("waited_seconds") is not None:
        words.append(f"waited {round(detail['waited_seconds'])} s")
    actor = people.get(event.actor_id) if event.actor_type == "agent" else event.actor_type
    return {"at": event.created_at, "kind": event.kind.replace("_", " "), "actor": actor,
            "detail": ", ".join(words), "note": detail.get("note") or ""}


def export_parameters(session: Session, args) -> dict:
    period = parse_period(args, tenant_time_zone(session))
    return {**period.query_args(), **parse_filters(args).query_args()}


def export_rows(session: Session, parameters: dict) -> ExportRows:
    """Every matching conversation (not one page), dates in the tenant's time zone."""
    period = parse_period(parameters, tenant_time_zone(session))
    filters = parse_filters({name: str(value) for name, value in parameters.items()})
    total = search(session, period, filters, page_size=1)["total"]

    def rows():
        for page in range(1, -(-total // EXPORT_BATCH) + 1):
            for record in search(session, period, replace(filters, page=page), EXPORT_BATCH)["records"]:
                local = {key: record[key].astimezone(period.zone).strftime("%Y-%m-%d %H:%M:%S")
                         for key in ("created_at", "closed_at") if record[key] is not None}
                yield {**record, "closed_at": None, **local, "tags": ", ".join(record["tags"])}

    return ExportRows(EXPORT_COLUMNS, rows(), total)
