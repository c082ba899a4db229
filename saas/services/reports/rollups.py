"""Report rollups (issue 8): per-UTC-hour counts of facts that never change once written, so a
custom report over a year reads about 9,000 rollup rows instead of ten million messages.

A rollup is an optimisation, never a different answer:
- **What is rolled up.** Conversations by (hour started, channel) and messages by (hour sent,
  conversation channel, sender type). None of these change after insert and neither table loses
  rows (erasure blanks a message's body, it does not delete it). Visits, which do change, have their
  own rollup and rules (the *Visits* part below), per hour and per day; the day rows carry sets of
  visitor ids for distinct visitors, which no sum of counts gives. Left raw: a conversation's status, agent and
  department, ratings (a visitor can change their score).
- **Watermark.** ``report_rollup_watermarks.last_id`` per fact table: the rollup holds exactly the
  facts with ``id <= last_id``. A report adds the rollup's hours inside the range to the raw facts
  of the range with ``id > last_id`` (the few since the last fold), so new facts count at once.
- **Which facts a fold takes.** Ids are handed out before commit, so an uncommitted fact may have a
  lower id than a committed one. A fold therefore stops at the highest id written more than
  ``LAG`` ago: every fact is written with ``created_at`` = its request's clock and committed within
  that request, long before ``LAG`` passes, so no fact below the new watermark can still appear.
- **Concurrency.** A fold first updates its watermark row, which locks it (a row lock on
  PostgreSQL, the write lock on SQLite) until commit: two folds run one after the other and the
  second starts from the first's watermark. A report reads the watermark, runs, and reads it again;
  if a fold committed in between it runs again, so it never counts a fact both raw and rolled up.
- **Time zones.** UTC hours are whole hours of every zone whose offsets over the range are whole
  hours. A range in another zone (Asia/Kolkata, +05:30) reads the raw facts, as do metrics,
  dimensions and filters the rollups do not carry (``covers``).
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
from pyroaring import BitMap
from sqlalchemy import (and_, case, delete, exists, func, insert, literal, literal_column, not_, or_, select, text,
                        union_all, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from saas.models import Conversation, Message, PageView, VisitSession, utcnow
from saas.models.base import UTCDateTime
from saas.models.rollups import ConversationHour, MessageHour, RollupWatermark, VisitDay, VisitHour, VisitorDay
from saas.services import tracking

from .period import Period

LAG = timedelta(minutes=5)
CHUNK = 250_000


class UTCStart(ColumnElement):
    """The start of the UTC hour (or day) a timestamp falls in, as a timestamp of the same type."""

    inherit_cache = False
    type = UTCDateTime()

    def __init__(self, column, unit: str = "hour"):
        self.column = column
        self.unit = unit


@compiles(UTCStart, "postgresql")
def _start_postgresql(element: UTCStart, compiler, **kw):
    # Constants inline: GROUP BY must repeat the selected expression's text (see period.py).
    unit = literal_column(f"'{element.unit}'")
    return compiler.process(func.date_trunc(unit, element.column, literal_column("'UTC'")), **kw)


# The text SQLAlchemy stores SQLite datetimes as, so rollup hours compare with bound datetimes.
_SQLITE_STARTS = {"hour": "'%Y-%m-%d %H:00:00.000000'", "day": "'%Y-%m-%d 00:00:00.000000'"}


@compiles(UTCStart, "sqlite")
def _start_sqlite(element: UTCStart, compiler, **kw):
    return compiler.process(func.strftime(literal_column(_SQLITE_STARTS[element.unit]), element.column), **kw)


@dataclass(frozen=True)
class Rollup:
    """A fact table's rollup: its rows, and how a raw fact maps to a rollup row."""
    fact: str  # the custom report's fact name, and the watermark's key
    table: type
    source: object  # the fact table joined to what its dimensions need
    fact_id: object
    time_column: object
    dimensions: dict  # rollup column name -> expression over ``source``
    metrics: dict = field(default_factory=dict)  # custom metric -> the sender type it counts, None: all


ROLLUPS = {
    "conversations": Rollup("conversations", ConversationHour, Conversation.__table__, Conversation.id,
                            Conversation.created_at, {"channel": Conversation.channel}, {"conversations": None}),
    "messages": Rollup("messages", MessageHour,
                       Message.__table__.join(Conversation.__table__, Conversation.id == Message.conversation_id),
                       Message.id, Message.created_at,
                       {"channel": Conversation.channel, "sender_type": Message.sender_type},
                       {"messages": None, "visitor_messages": "visitor", "agent_messages": "agent",
                        "bot_messages": "bot"}),
}
# Custom report dimension (and filter) -> rollup column; "time" is the rollup's hour.
DIMENSIONS = {"channel": "channel", "sender": "sender_type"}


def fold(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Fold every fact written up to ``LAG`` before ``now`` into its rollup, at most ``CHUNK`` ids
    per transaction (a first fold of a large tenant holds no lock for long), and the visits over by
    then; returns how many facts of each table were folded."""
    now = now or utcnow()
    cutoff = now - LAG
    folded = {}
    for rollup in ROLLUPS.values():
        folded[rollup.fact] = 0
        settled = session.scalar(select(func.max(rollup.fact_id)).where(
            rollup.fact_id > watermark(session, rollup.fact), rollup.time_column < cutoff))
        session.commit()
        while settled is not None:
            count, upto = _fold_chunk(session, rollup, settled)
            folded[rollup.fact] += count
            if upto >= settled:
                break
    folded[VISITS] = fold_visits(session, now)
    return folded


def _claim(session: Session, fact: str) -> tuple[int, datetime | None]:
    """Lock ``fact``'s watermark row until commit and read it: (last_id, folded_until)."""
    mark = RollupWatermark.fact == fact
    claimed = session.execute(update(RollupWatermark).where(mark).values(last_id=RollupWatermark.last_id))
    if claimed.rowcount == 0:  # a schema made without the migration's rows
        session.add(RollupWatermark(fact=fact, last_id=0))
        session.flush()
    return _marks(session, fact)


def _marks(session: Session, fact: str) -> tuple[int, datetime | None]:
    """``fact``'s watermark row: (last_id, folded_until); (0, None) before its first fold."""
    return tuple(session.execute(select(RollupWatermark.last_id, RollupWatermark.folded_until)
                                 .where(RollupWatermark.fact == fact)).one_or_none() or (0, None))


def _fold_chunk(session: Session, rollup: Rollup, settled: int) -> tuple[int, int]:
    """Fold the facts past the watermark up to ``settled`` (at most ``CHUNK`` ids) in one
    transaction; returns how many and the new watermark."""
    mark = RollupWatermark.fact == rollup.fact
    after, _until = _claim(session, rollup.fact)
    upto = min(settled, after + CHUNK)
    count = 0
    if upto > after:  # else another fold took these facts while this one waited for the lock
        in_chunk = (rollup.fact_id > after, rollup.fact_id <= upto)
        hour = UTCStart(rollup.time_column)
        dimensions = list(rollup.dimensions.values())
        grouped = (select(hour, *dimensions, func.count()).select_from(rollup.source).where(*in_chunk)
                   .group_by(hour, *dimensions))
        keys = ["hour", *rollup.dimensions]
        upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = upsert(rollup.table).from_select([*keys, "count"], grouped)
        session.execute(statement.on_conflict_do_update(
            index_elements=keys, set_={"count": rollup.table.count + statement.excluded.count}))
        count = session.scalar(select(func.count()).select_from(rollup.fact_id.table).where(*in_chunk))
        session.execute(update(RollupWatermark).where(mark).values(last_id=upto, folded_at=utcnow()))
    session.commit()
    return count, upto


def aligned(period: Period) -> bool:
    """Whether the range and its buckets are made of whole UTC hours."""
    return all(seconds % 3600 == 0 for _since, seconds in period.utc_offsets())


def covers(fact: str, dimensions, filters, period: Period, metrics) -> bool:
    if fact == VISITS:  # by time and at most one visit attribute, which a filter may also name
        attributes = {name for name in [*dimensions, *(name for name, _value in filters)] if name != "time"}
        return (aligned(period) and all(name in VISIT_METRICS for name in metrics)
                and len(attributes) <= 1 and attributes <= set(VISIT_DIMENSIONS))
    rollup = ROLLUPS.get(fact)
    return (rollup is not None and aligned(period) and all(name in rollup.metrics for name in metrics)
            and all(name == "time" or DIMENSIONS.get(name) in rollup.dimensions for name in dimensions)
            and all(DIMENSIONS.get(name) in rollup.dimensions for name, _value in filters))


def _statement(rollup: Rollup, dimensions, filters, period: Period, metrics, last_id: int, grouped: bool):
    """The custom report's query for one fact table: rollup hours of the range plus raw facts past
    ``last_id``, under the same labels as the raw query."""
    table = rollup.table
    rolled = select(table.hour.label("at"), *(getattr(table, name) for name in rollup.dimensions),
                    table.count.label("n")).where(period.contains(table.hour))
    recent = (select(rollup.time_column.label("at"),
                     *(expression.label(name) for name, expression in rollup.dimensions.items()),
                     literal(1).label("n"))
              .select_from(rollup.source)
              # The time only through coalesce(): SQLite would otherwise walk the time index over the
              # whole range instead of the primary key's few ids past the watermark.
              .where(rollup.fact_id > last_id, period.contains(func.coalesce(rollup.time_column, None))))
    facts = union_all(rolled, recent).subquery()
    columns = [(period.bucket(facts.c.at) if name == "time" else facts.c[DIMENSIONS[name]]).label(name)
               for name in dimensions] if grouped else []
    selected = [func.sum(facts.c.n if rollup.metrics[name] is None
                         else case((facts.c.sender_type == rollup.metrics[name], facts.c.n))).label(name)
                for name in metrics]
    statement = select(*columns, *selected).where(*(facts.c[DIMENSIONS[name]] == value for name, value in filters))
    return statement.group_by(*columns) if columns else statement


def watermark(session: Session, fact: str) -> int:
    return session.scalar(select(RollupWatermark.last_id).where(RollupWatermark.fact == fact)) or 0


def report(session: Session, fact: str, dimensions, filters, period: Period, metrics) -> tuple[list[dict], dict]:
    """A custom report's grouped rows and totals for one fact table (``covers`` must hold)."""
    if fact == VISITS:
        return _visit_report(session, dimensions, filters, period, metrics)
    rollup = ROLLUPS[fact]
    while True:
        last_id = watermark(session, fact)
        rows = [dict(row._mapping) for row in session.execute(
            _statement(rollup, dimensions, filters, period, metrics, last_id, grouped=True))]
        totals = dict(session.execute(
            _statement(rollup, dimensions, filters, period, metrics, last_id, grouped=False)).one()._mapping)
        if watermark(session, fact) == last_id:  # no fold committed meanwhile
            return rows, totals


# Visits --------------------------------------------------------------------------------------------
# A visit changes after it starts: its page count grows while it lasts, and a conversation attaches
# to the visitor's latest visit however old (routing: ``tracking.latest_visit``). So the rollup holds
# the visits started before ``folded_until`` (a whole UTC hour) with their conversations of
# ``id <= last_id``, and moves both marks forward separately:
# - ``folded_until`` only past visits that are over: every visit started before it was last seen more
#   than the visit timeout + ``LAG`` before the fold, so no page view can join it (a long visit holds
#   the mark back until it ends; it is then folded once).
# - ``last_id`` over conversations as the other rollups fold facts: those past it whose visit is
#   already folded are added to that visit's rows (and make it converted if it had none before).
# A report adds, in the range, the rows plus the raw visits from ``folded_until`` on plus the raw
# conversations past ``last_id`` of folded visits. Erasure takes its visits out (``forget_visits``).
# The same rows per UTC day (``VisitDay``, folded with the hours) add each day's set of visitor ids:
# a long range reads its whole days from them and the hours around them from the hours, and its
# distinct visitors are the union of its days' sets and of the visitors of the hours around them.
# Visited pages have day rows only: a visit is in the row of every page it saw (its views of that
# page as page views), and the hours around a range's whole days are read from the page views. A
# folded visit's page views are final: it is folded once it is over.
# First touches (the visitor unit): a day row also holds the visitors whose first visit of the day
# has its value, and ``VisitorDay`` each visitor's visits, page views and conversations per day.
# Going through a range in time order, a visitor's first touch is the value of the first set they
# appear in before they were seen, and what they did in the range is the sum of their days
# (``first_touch_rows``).

VISITS = "visits"
VISITED_PAGE = "visited_page"
# Every visit attribute the source and custom reports split by.
VISIT_DIMENSIONS = ("channel", "source_kind", "referrer_domain", "search_engine", "search_terms", "landing_page",
                    "utm_campaign", "utm_source", "utm_medium", "device_type")
VISIT_COLUMNS = ("visits", "page_views", "conversations", "converted")
# Custom report metric -> (rollup column, its rate's numerator column)
VISIT_METRICS = {"visits": ("visits", None), "page_views": ("page_views", None),
                 "chat_conversion_rate": ("visits", "converted")}
# What ``VisitorDay.counts`` holds per visitor and day.
VISITOR_COUNTS = ("visits", "page_views", "conversations")
CONVERSATIONS = VISITOR_COUNTS.index("conversations")
VISIT_STEP = timedelta(days=30)  # of visits folded per transaction
DAY = timedelta(days=1)


def _without_jit(session: Session) -> None:
    """No JIT compilation for the rest of the transaction on PostgreSQL: the per-visit conversation
    counts of the raw visits make a plan look costly enough for it, and compiling took longer than
    running the query."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _whole_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _whole_day(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _whole_days(period: Period, until: datetime | None) -> tuple[datetime, datetime]:
    """The UTC days ``[first, end)`` of the range whose visits are all folded (none if equal)."""
    first = _whole_day(period.start)
    first = first if first == period.start else first + DAY
    return first, (max(first, _whole_day(min(period.end, until))) if until is not None else first)


def _visit_rows(visits, conversations: int, converted) -> list:
    """A per-visit select's columns: its id, start, visitor, attributes and ``VISIT_COLUMNS``."""
    return [VisitSession.id.label("session_id"), VisitSession.started_at.label("at"),
            VisitSession.visitor_id.label("visitor_id"),
            *(getattr(VisitSession, name).label(name) for name in VISIT_DIMENSIONS),
            literal(visits).label("visits"), (VisitSession.page_count if visits else literal(0)).label("page_views"),
            conversations.label("conversations"), converted.label("converted")]


def _folded_conversations(session_id, last_id: int | None):
    """A visit's conversations up to ``last_id`` (None: all): (how many, whether any)."""
    counted = [Conversation.visit_session_id == session_id,
               *([Conversation.id <= last_id] if last_id is not None else [])]
    count = select(func.count(Conversation.id)).where(*counted).scalar_subquery()
    # Not EXISTS: PostgreSQL hashed it over every conversation there is, for each fold step.
    return count, case((count > 0, 1), else_=0)


def _whole_visits(conditions, last_id: int | None):
    """Visits of ``conditions`` with their conversations up to ``last_id`` (None: all), one row each."""
    count, any_ = _folded_conversations(VisitSession.id, last_id)
    return select(*_visit_rows(1, count, any_)).where(*conditions)


def _late_conversations(conditions, after: int, upto: int | None = None):
    """Per visit of ``conditions``: its conversations past ``after`` (up to ``upto``), and 1 as
    converted if it had none before."""
    late = [Conversation.id > after] + ([Conversation.id <= upto] if upto is not None else [])
    per_visit = (select(Conversation.visit_session_id.label("session_id"), func.count().label("n"))
                 .where(*late, Conversation.visit_session_id.is_not(None)).group_by(Conversation.visit_session_id)
                 .subquery())
    earlier = exists().where(Conversation.visit_session_id == per_visit.c.session_id, Conversation.id <= after)
    return (select(*_visit_rows(0, per_visit.c.n, case((earlier, 0), else_=1)))
            .join(per_visit, per_visit.c.session_id == VisitSession.id).where(*conditions))


def _by_page(facts):
    """Per-visit rows (a subquery or CTE) once for each page the visit saw, the page as ``value``
    and the visit's views of it as ``page_views`` (none for a row of late conversations)."""
    keys = [facts.c.session_id, facts.c.at, *(facts.c[column] for column in VISIT_COLUMNS)]
    page_views = func.count(PageView.id) * facts.c.visits
    return (select(facts.c.at, PageView.url.label("value"), facts.c.visits, page_views.label("page_views"),
                   facts.c.conversations, facts.c.converted)
            .join(PageView, PageView.session_id == facts.c.session_id).group_by(*keys, PageView.url))


def _by_dimension(per_visit, unit: str = "hour"):
    """Rollup rows (``unit``, dimension, value, ``VISIT_COLUMNS`` summed) of per-visit rows; by day
    also by visited page."""
    facts = per_visit.cte()  # one pass over the visits and their conversations for every dimension
    sources = [(name, facts, func.coalesce(facts.c[name], "")) for name in VISIT_DIMENSIONS]
    if unit == "day":
        pages = _by_page(facts).subquery()
        sources.append((VISITED_PAGE, pages, pages.c.value))
    parts = []
    for name, rows, value in sources:
        start = UTCStart(rows.c.at, unit)
        parts.append(select(start.label(unit), literal(name).label("dimension"), value.label("value"),
                            *(func.sum(rows.c[column]).label(column) for column in VISIT_COLUMNS))
                     .group_by(start, value))
    return union_all(*parts).subquery()


ROW_TABLES = {"hour": VisitHour, "day": VisitDay}


def _add_to_rows(session: Session, per_visit, sign: int, units=("hour", "day")) -> None:
    """Add (``sign`` 1) or take out (-1) per-visit rows to the rollup rows they are already in."""
    for unit in units:
        table, delta = ROW_TABLES[unit], _by_dimension(per_visit, unit)
        session.execute(update(table)
                        .where(table.dimension == delta.c.dimension, getattr(table, unit) == delta.c[unit],
                               table.value == delta.c.value)
                        .values({column: getattr(table, column) + sign * delta.c[column] for column in VISIT_COLUMNS}))


def _fold_visit_conversations(session: Session, settled: int) -> int:
    """Move ``last_id`` up to ``settled`` (at most ``CHUNK`` ids) in one transaction, adding the
    conversations of folded visits; returns the new ``last_id``."""
    after, until = _claim(session, VISITS)
    upto = min(settled, after + CHUNK)
    if upto > after:
        if until is not None:
            late = _late_conversations([VisitSession.started_at < until], after, upto)
            _add_to_rows(session, late, 1)
            _add_to_visitor_days(session, late)
        session.execute(update(RollupWatermark).where(RollupWatermark.fact == VISITS)
                        .values(last_id=upto, folded_at=utcnow()))
    session.commit()
    return upto


def _fold_visit_hours(session: Session, over_before: datetime) -> tuple[int, bool]:
    """Fold the visits of at most ``VISIT_STEP`` past ``folded_until``, stopping at the first
    visit still going on (last seen at or after ``over_before``); returns how many, and whether
    the mark reached that visit."""
    last_id, until = _claim(session, VISITS)
    _without_jit(session)  # a step of 30,000 visits (scale 0.2 bench): 1.4 s with JIT, 0.5 s without
    if until is None:
        first = session.scalar(select(func.min(VisitSession.started_at)))
        until = _whole_hour(first) if first is not None else None
    ongoing = session.scalar(select(func.min(VisitSession.started_at)).where(VisitSession.last_seen_at >= over_before))
    limit = _whole_hour(min(over_before, ongoing or over_before))
    upto = min(limit, until + VISIT_STEP) if until is not None else None
    count = 0
    if upto is not None and upto > until:
        # Hours from ``until`` on have no rows yet: plain inserts.
        step = [VisitSession.started_at >= until, VisitSession.started_at < upto]
        rows = _by_dimension(_whole_visits(step, last_id))
        session.execute(insert(VisitHour).from_select(["hour", "dimension", "value", *VISIT_COLUMNS], select(rows)))
        # A day at a time: the fold holds one day's visitor ids in memory, not a step's.
        count = sum(_add_to_days(session, [VisitSession.started_at >= start, VisitSession.started_at < end], last_id)
                    for start, end in _day_slices(until, upto))
        until = upto
    session.execute(update(RollupWatermark).where(RollupWatermark.fact == VISITS)
                    .values(folded_until=until, folded_at=utcnow()))
    session.commit()
    return count, upto is None or upto >= limit


def _day_slices(start: datetime, end: datetime):
    """``[start, end)`` cut at UTC midnights."""
    while start < end:
        cut = min(end, _whole_day(start) + DAY)
        yield start, cut
        start = cut


@dataclass
class _DayRow:
    """A ``VisitDay`` row being summed: ``VISIT_COLUMNS``, visitor ids, first-touch visitor ids."""
    sums: list = field(default_factory=lambda: [0] * len(VISIT_COLUMNS))
    visitors: list = field(default_factory=list)
    first_visitors: list = field(default_factory=list)


def _add_to_days(session: Session, conditions, last_id: int) -> int:
    """Add the visits of ``conditions``, with their conversations up to ``last_id``, to the rows of
    their days, made if missing; returns how many."""
    rows, visitor_days, count = _day_sums(session, conditions, last_id)
    if not rows:
        return 0
    first, last = min(visitor_days), max(visitor_days)
    # Only the day a previous fold step ended in can have rows already, of visits before these: its
    # visitors seen then have their first touch of the day already.
    earlier = {row.day: row for row in session.execute(
        select(VisitorDay.id, VisitorDay.day, VisitorDay.visitors, VisitorDay.counts)
        .where(VisitorDay.day.in_(list(visitor_days))))}
    seen = {day: BitMap.deserialize(bytes(row.visitors)) for day, row in earlier.items()}

    def first_visitors(dimension, day, added: _DayRow, before: bytes | None = None):
        if dimension == VISITED_PAGE:
            return None
        firsts = BitMap(added.first_visitors) - seen.get(day, BitMap())
        return _serialized(firsts | BitMap.deserialize(bytes(before)) if before is not None else firsts)

    merged = []
    for row in session.execute(select(VisitDay.id, VisitDay.dimension, VisitDay.day, VisitDay.value, VisitDay.visitors,
                                      VisitDay.first_visitors, *(getattr(VisitDay, column) for column in VISIT_COLUMNS))
                               .where(VisitDay.day >= first, VisitDay.day <= last)).mappings():
        added = rows.pop((row["dimension"], row["day"], row["value"]), None)
        if added is not None:
            merged.append({"id": row["id"], **{column: row[column] + added.sums[index]
                                               for index, column in enumerate(VISIT_COLUMNS)},
                           "visitors": _serialized(BitMap.deserialize(bytes(row["visitors"])) | BitMap(added.visitors)),
                           "first_visitors": first_visitors(row["dimension"], row["day"], added,
                                                            row["first_visitors"])})
    if merged:
        session.execute(update(VisitDay), merged)
    if rows:
        # render_nulls: rows without first touches (visited pages) would otherwise be sent apart,
        # and the insert would split into a statement per run of rows (a fold 4 times slower).
        session.execute(insert(VisitDay).execution_options(render_nulls=True), [
            {"dimension": dimension, "day": day, "value": value, **dict(zip(VISIT_COLUMNS, added.sums)),
             "visitors": _serialized(BitMap(added.visitors)), "first_visitors": first_visitors(dimension, day, added)}
            for (dimension, day, value), added in rows.items()])
    for day, counts in visitor_days.items():
        if day in earlier:
            _add_to_visitor_day(session, earlier[day], counts)
        else:
            session.execute(insert(VisitorDay).values(day=day, **_visitor_day(counts)))
    return count


def _day_sums(session: Session, conditions, last_id: int) -> tuple[dict, dict, int]:
    """The visits of ``conditions`` summed per (dimension, UTC day, value) into ``_DayRow``s and per
    UTC day and visitor into ``VISITOR_COUNTS``; and how many visits."""
    rows = defaultdict(_DayRow)
    visitor_days = defaultdict(dict)

    def add(dimension, day, value, visit, page_views, first: bool):
        row = rows[(dimension, day, value)]
        for index, column in enumerate(VISIT_COLUMNS):
            row.sums[index] += page_views if column == "page_views" else visit[column]
        row.visitors.append(visit["visitor_id"])
        if first:
            row.first_visitors.append(visit["visitor_id"])

    pages = defaultdict(list)
    for session_id, url, views in session.execute(
            select(PageView.session_id, PageView.url, func.count()).join(VisitSession, VisitSession.id == PageView.session_id)
            .where(*conditions).group_by(PageView.session_id, PageView.url)):
        pages[session_id].append((url, views))
    count = 0
    # In time order: a visitor's first visit of a day comes first.
    for visit in session.execute(_whole_visits(conditions, last_id)
                                 .order_by(VisitSession.started_at, VisitSession.id)).mappings():
        count += 1
        day = _whole_day(visit["at"])
        counts = visitor_days[day].setdefault(visit["visitor_id"], [0] * len(VISITOR_COUNTS))
        first = counts[0] == 0
        for index, column in enumerate(VISITOR_COUNTS):
            counts[index] += visit[column]
        for name in VISIT_DIMENSIONS:
            add(name, day, visit[name] or "", visit, visit["page_views"], first)
        for url, views in pages[visit["session_id"]]:
            add(VISITED_PAGE, day, url, visit, views, first=False)
    return rows, visitor_days, count


def _visitor_day(counts: dict) -> dict:
    """``VisitorDay`` columns of {visitor id: ``VISITOR_COUNTS``}."""
    ids = sorted(counts)
    return {"visitors": _serialized(BitMap(ids)),
            "counts": np.array([counts[visitor_id] for visitor_id in ids], dtype="<u4")
            .reshape(-1, len(VISITOR_COUNTS)).tobytes()}


def _visitor_arrays(visitors: BitMap, counts: bytes) -> tuple:
    """A ``VisitorDay`` row's visitor ids (its ``visitors``, deserialized) and their ``VISITOR_COUNTS``,
    as aligned arrays."""
    return (np.array(visitors.to_array(), dtype=np.int64),
            np.frombuffer(bytes(counts), dtype="<u4").reshape(-1, len(VISITOR_COUNTS)).astype(np.int64))


def _add_to_visitor_day(session: Session, row, added: dict) -> None:
    """Add {visitor id: ``VISITOR_COUNTS``} to a ``VisitorDay`` row (its id, visitors and counts)."""
    ids, counts = _visitor_arrays(BitMap.deserialize(bytes(row.visitors)), row.counts)
    summed = dict(zip(ids.tolist(), counts.tolist()))
    for visitor_id, more in added.items():
        summed[visitor_id] = [a + b for a, b in zip(summed.get(visitor_id, [0] * len(VISITOR_COUNTS)), more)]
    session.execute(update(VisitorDay).where(VisitorDay.id == row.id).values(_visitor_day(summed)))


def _add_to_visitor_days(session: Session, late) -> None:
    """Add late conversations (``_late_conversations`` rows of folded visits) to their visitors' days."""
    facts = late.subquery()
    by_day = defaultdict(lambda: defaultdict(lambda: [0] * len(VISITOR_COUNTS)))
    for at, visitor_id, conversations in session.execute(select(facts.c.at, facts.c.visitor_id, facts.c.conversations)):
        by_day[_whole_day(at)][visitor_id][CONVERSATIONS] += conversations
    for row in session.execute(select(VisitorDay.id, VisitorDay.day, VisitorDay.visitors, VisitorDay.counts)
                               .where(VisitorDay.day.in_(list(by_day)))).all():
        _add_to_visitor_day(session, row, by_day[row.day])


def _serialized(visitors: BitMap) -> bytes:
    visitors.run_optimize()  # new visitors of a day have consecutive ids: runs take a few bytes
    return visitors.serialize()


def fold_visits(session: Session, now: datetime) -> int:
    """Fold the conversations written up to ``LAG`` before ``now`` and the visits over by then;
    returns how many visits were folded."""
    settled = session.scalar(select(func.max(Conversation.id)).where(
        Conversation.id > watermark(session, VISITS), Conversation.created_at < now - LAG))
    session.commit()
    while settled is not None and _fold_visit_conversations(session, settled) < settled:
        pass
    folded, done = 0, False
    while not done:
        count, done = _fold_visit_hours(session, now - tracking.visit_timeout() - LAG)
        folded += count
    return folded


def forget_visits(session: Session, visit_ids) -> None:
    """Erasure: take the visits of ``visit_ids`` (a select of ids) out of the rollup, in the
    caller's transaction (call before their conversations are detached)."""
    last_id, until = _claim(session, VISITS)
    if until is None:
        return
    conditions = [VisitSession.id.in_(visit_ids), VisitSession.started_at < until]
    _add_to_rows(session, _whole_visits(conditions, last_id), -1, units=("hour",))
    hours = select(UTCStart(VisitSession.started_at)).where(*conditions)
    session.execute(delete(VisitHour).where(VisitHour.visits == 0, VisitHour.hour.in_(hours)))
    # A visitor set cannot lose one visit (its visitor may have another that day): the days are made again.
    for day in {_whole_day(started) for started in session.scalars(select(VisitSession.started_at).where(*conditions))}:
        session.execute(delete(VisitDay).where(VisitDay.day == day))
        session.execute(delete(VisitorDay).where(VisitorDay.day == day))
        _add_to_days(session, [VisitSession.started_at >= day, VisitSession.started_at < min(day + DAY, until),
                               VisitSession.id.not_in(visit_ids)], last_id)


def visit_rows(session: Session, dimension: str, period: Period, by_time: bool = False, value=None) -> list[dict]:
    """Visits of the range (and of ``value`` of ``dimension`` if given) grouped by their value of
    ``dimension`` (None for none) and, ``by_time``, the period's bucket ("time"): ``VISIT_COLUMNS``
    summed, most visits first, ties by value (the raw source report's order). ``aligned(period)``
    must hold. Whole folded UTC days come from the day rows unless ``by_time``."""
    _without_jit(session)  # a year by visited page (scale 0.5 bench): 1.05 s with JIT, 0.55 s without
    while True:
        last_id, until = _marks(session, VISITS)
        started = VisitSession.started_at
        in_range = [period.contains(started)]
        # By time, hours only: a day of the tenant's zone is not a UTC day.
        first_day, days_end = (period.start, period.start) if by_time else _whole_days(period, until)
        parts = [select(VisitDay.day.label("at"), VisitDay.value, *(getattr(VisitDay, c) for c in VISIT_COLUMNS))
                 .where(VisitDay.dimension == dimension, VisitDay.day >= first_day, VisitDay.day < days_end)]
        if dimension == VISITED_PAGE:  # no hour rows: the visits around the whole days are read whole
            in_days = [started >= first_day, started < days_end]
            raw, folded = [*in_range, not_(and_(*in_days))], [*in_range, *in_days]
        else:
            parts.append(select(VisitHour.hour.label("at"), VisitHour.value, *(getattr(VisitHour, c) for c in VISIT_COLUMNS))
                         .where(VisitHour.dimension == dimension, period.contains(VisitHour.hour),
                                or_(VisitHour.hour < first_day, VisitHour.hour >= days_end)))
            raw, folded = ([*in_range, started >= until], [*in_range, started < until]) if until else (in_range, None)
        for per_visit in [_whole_visits(raw, None)] + ([_late_conversations(folded, last_id)] if until else []):
            facts = per_visit.subquery()
            parts.append(_by_page(facts) if dimension == VISITED_PAGE else
                         select(facts.c.at, func.coalesce(facts.c[dimension], "").label("value"),
                                *(facts.c[c] for c in VISIT_COLUMNS)))
        facts = union_all(*parts).subquery()
        keys = [func.nullif(facts.c.value, "").label("value")] + ([period.bucket(facts.c.at).label("time")] if by_time else [])
        statement = (select(*keys, *(func.sum(facts.c[c]).label(c) for c in VISIT_COLUMNS))
                     .where(*([facts.c.value == value] if value is not None else [])).group_by(*keys)
                     .order_by(func.sum(facts.c.visits).desc(), *keys))
        rows = [{**row._mapping, **{column: int(row._mapping[column]) for column in VISIT_COLUMNS}}
                for row in session.execute(statement)]
        if _marks(session, VISITS) == (last_id, until):  # no fold committed meanwhile
            return rows


def visitor_counts(session: Session, dimension: str, period: Period, values: list) -> tuple[dict, int]:
    """Distinct visitors of the range's visits with each of ``values`` (None: none) of ``dimension``,
    and of all its visits. ``aligned(period)`` must hold."""
    wanted = {"" if value is None else value for value in values}
    valued = (select(VisitSession.visitor_id, PageView.url).join(PageView, PageView.session_id == VisitSession.id)
              if dimension == VISITED_PAGE else
              select(VisitSession.visitor_id, func.coalesce(getattr(VisitSession, dimension), "")))
    while True:
        marks = _marks(session, VISITS)
        first_day, days_end = _whole_days(period, marks[1])
        in_days = [VisitDay.day >= first_day, VisitDay.day < days_end]
        by_value, everyone = defaultdict(BitMap), BitMap()
        # Every visit has one channel: the channels' sets give the total.
        for visitors in session.scalars(select(VisitDay.visitors).where(VisitDay.dimension == "channel", *in_days)):
            everyone |= BitMap.deserialize(bytes(visitors))
        for value, visitors in session.execute(select(VisitDay.value, VisitDay.visitors).where(
                VisitDay.dimension == dimension, *in_days, VisitDay.value.in_(wanted))):
            by_value[value] |= BitMap.deserialize(bytes(visitors))
        # The hours around the whole days, folded or not, from the visits.
        started = VisitSession.started_at
        around = (or_(and_(started >= period.start, started < first_day), and_(started >= days_end, started < period.end))
                  if days_end > first_day else period.contains(started))
        everyone.update(session.scalars(select(VisitSession.visitor_id).where(around)))
        for visitor_id, value in session.execute(valued.where(around)):
            if value in wanted:
                by_value[value].add(visitor_id)
        if _marks(session, VISITS) == marks:  # no fold committed meanwhile
            return {value: len(by_value["" if value is None else value]) for value in values}, len(everyone)


def first_touch_rows(session: Session, dimension: str, period: Period) -> tuple[list[dict], dict]:
    """The visitor unit by a visit attribute: each visitor of the range under the value of their
    first visit in it, with everything they did in the range (visitors, visits, page views,
    conversations, converted visitors), most visits first, ties by value as the raw report orders
    them; and the totals. ``aligned(period)`` must hold."""
    started = VisitSession.started_at
    while True:
        last_id, until = marks = _marks(session, VISITS)
        first_day, days_end = _whole_days(period, until)
        seen, touched = BitMap(), defaultdict(BitMap)
        ids, counts = [], []

        def take_visits(conditions, late_after=None):
            """Visits of ``conditions`` in time order (of folded ones, the conversations past ``late_after``)."""
            per_visit = (_late_conversations(conditions, late_after) if late_after is not None
                         else _whole_visits(conditions, None)).subquery()
            rows = session.execute(select(per_visit.c.visitor_id, per_visit.c[dimension],
                                          *(per_visit.c[column] for column in VISITOR_COUNTS))
                                   .order_by(per_visit.c.at, per_visit.c.session_id)).all()
            for visitor_id, value, *_counts in rows:
                if visitor_id not in seen:
                    seen.add(visitor_id)
                    touched[value or ""].add(visitor_id)
            ids.append(np.array([row[0] for row in rows], dtype=np.int64))
            counts.append(np.array([row[2:] for row in rows], dtype=np.int64).reshape(-1, len(VISITOR_COUNTS)))

        if days_end > first_day:
            take_visits([started >= period.start, started < first_day])
            firsts = defaultdict(list)
            for day, value, visitors in session.execute(
                    select(VisitDay.day, VisitDay.value, VisitDay.first_visitors)
                    .where(VisitDay.dimension == dimension, VisitDay.day >= first_day, VisitDay.day < days_end)):
                firsts[day].append((value, visitors))
            for row in session.execute(select(VisitorDay.day, VisitorDay.visitors, VisitorDay.counts).where(
                    VisitorDay.day >= first_day, VisitorDay.day < days_end).order_by(VisitorDay.day)):
                for value, visitors in firsts[row.day]:
                    touched[value] |= BitMap.deserialize(bytes(visitors)) - seen
                day_visitors = BitMap.deserialize(bytes(row.visitors))
                seen |= day_visitors
                day_ids, day_counts = _visitor_arrays(day_visitors, row.counts)
                ids.append(day_ids)
                counts.append(day_counts)
            take_visits([started >= first_day, started < days_end], last_id)
            take_visits([started >= days_end, started < period.end])
        else:
            take_visits([period.contains(started)])
        if _marks(session, VISITS) == marks:  # no fold committed meanwhile
            return _credited(session, touched, np.concatenate(ids), np.concatenate(counts))


def _credited(session: Session, touched: dict, ids, counts) -> tuple[list[dict], dict]:
    """``first_touch_rows`` from each value's first-touch visitors and (visitor id, ``VISITOR_COUNTS``)
    rows of their activity."""
    values = [value for value, visitors in touched.items() if visitors]  # a day's first set can be all seen before
    touched_ids = np.concatenate([np.array(touched[value].to_array(), dtype=np.int64) for value in values] or
                                 [np.zeros(0, dtype=np.int64)])
    touched_by = np.repeat(np.arange(len(values)), [len(touched[value]) for value in values])
    order = np.argsort(touched_ids)
    touched_ids, touched_by = touched_ids[order], touched_by[order]
    visitor = np.searchsorted(touched_ids, ids)  # every visitor with activity has a first touch
    per_visitor = np.stack([np.bincount(visitor, weights=counts[:, index], minlength=len(touched_ids))
                            for index in range(len(VISITOR_COUNTS))], axis=1)
    converted = per_visitor[:, CONVERSATIONS] > 0
    sums = np.stack([np.bincount(touched_by, weights=weights, minlength=len(values))
                     for weights in (np.ones(len(touched_ids)), *per_visitor.T, converted)], axis=1)
    names = ("visitors", "sessions", "page_views", "conversations", "converted_visitors")
    rows = [{"value": value or None, **dict(zip(names, map(int, sums[index])))} for index, value in enumerate(values)]
    # As the raw query orders: NULL (no value) sorts last on PostgreSQL and first on SQLite.
    none_first = session.get_bind().dialect.name == "sqlite"
    rows.sort(key=lambda row: (-row["sessions"], (row["value"] is None) != none_first, row["value"] or ""))
    totals = {"value": None,
              **dict(zip(names, map(int, [len(touched_ids), *per_visitor.sum(axis=0), converted.sum()])))}
    return rows, totals


def _visit_report(session: Session, dimensions, filters, period: Period, metrics) -> tuple[list[dict], dict]:
    """``report`` for the visit metrics: the rows of the one attribute named (channel if none, as
    every visit has exactly one), summed per group and in total."""
    attribute = next((name for name in [*dimensions, *dict(filters)] if name != "time"), "channel")
    value = dict(filters).get(attribute)
    rows = visit_rows(session, attribute, period, by_time="time" in dimensions, value=value)

    def metric_values(row: dict) -> dict:
        values = {}
        for name in metrics:
            column, numerator = VISIT_METRICS[name]
            values[name] = row[column]
            if numerator is not None:
                values[f"{name}__numerator"] = row[numerator]
        return values

    grouped = {}
    for row in rows:
        key = tuple(row["value"] if name == attribute else row[name] for name in dimensions)
        grouped.setdefault(key, dict.fromkeys(VISIT_COLUMNS, 0))
        for column in VISIT_COLUMNS:
            grouped[key][column] += row[column]
    totals = {column: sum(row[column] for row in rows) for column in VISIT_COLUMNS}
    return ([{**dict(zip(dimensions, key)), **metric_values(values)} for key, values in grouped.items()],
            metric_values(totals))
