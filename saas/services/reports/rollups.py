"""Report rollups (issue 8): per-UTC-hour counts of facts that never change once written, so a
custom report over a year reads about 9,000 rollup rows instead of ten million messages.

A rollup is an optimisation, never a different answer:
- **What is rolled up.** Conversations by (hour started, channel) and messages by (hour sent,
  conversation channel, sender type). None of these change after insert and neither table loses
  rows (erasure blanks a message's body, it does not delete it). Anything that does change is left
  raw: a conversation's status, agent and department, a visit's page count and its conversations,
  visits themselves (erasure deletes them), ratings (a visitor can change their score), and
  distinct visitors, which no sum of hourly counts gives.
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, literal_column, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from saas.models import Conversation, Message, utcnow
from saas.models.base import UTCDateTime
from saas.models.rollups import ConversationHour, MessageHour, RollupWatermark

from .period import Period

LAG = timedelta(minutes=5)
CHUNK = 250_000


class UTCHour(ColumnElement):
    """The UTC hour a timestamp falls in, as a timestamp of the same type."""

    inherit_cache = False
    type = UTCDateTime()

    def __init__(self, column):
        self.column = column


@compiles(UTCHour, "postgresql")
def _hour_postgresql(element: UTCHour, compiler, **kw):
    # Constants inline: GROUP BY must repeat the selected expression's text (see period.py).
    return compiler.process(func.date_trunc(literal_column("'hour'"), element.column, literal_column("'UTC'")), **kw)


@compiles(UTCHour, "sqlite")
def _hour_sqlite(element: UTCHour, compiler, **kw):
    # The text SQLAlchemy stores SQLite datetimes as, so rollup hours compare with bound datetimes.
    return compiler.process(func.strftime(literal_column("'%Y-%m-%d %H:00:00.000000'"), element.column), **kw)


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
    per transaction (a first fold of a large tenant holds no lock for long); returns how many
    facts of each table were folded."""
    cutoff = (now or utcnow()) - LAG
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
    return folded


def _fold_chunk(session: Session, rollup: Rollup, settled: int) -> tuple[int, int]:
    """Fold the facts past the watermark up to ``settled`` (at most ``CHUNK`` ids) in one
    transaction; returns how many and the new watermark."""
    mark = RollupWatermark.fact == rollup.fact
    claimed = session.execute(update(RollupWatermark).where(mark).values(last_id=RollupWatermark.last_id))
    if claimed.rowcount == 0:  # a schema made without the migration's rows
        session.add(RollupWatermark(fact=rollup.fact, last_id=0))
        session.flush()
    after = session.scalar(select(RollupWatermark.last_id).where(mark))
    upto = min(settled, after + CHUNK)
    count = 0
    if upto > after:  # else another fold took these facts while this one waited for the lock
        in_chunk = (rollup.fact_id > after, rollup.fact_id <= upto)
        hour = UTCHour(rollup.time_column)
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
    rollup = ROLLUPS[fact]
    while True:
        last_id = watermark(session, fact)
        rows = [dict(row._mapping) for row in session.execute(
            _statement(rollup, dimensions, filters, period, metrics, last_id, grouped=True))]
        totals = dict(session.execute(
            _statement(rollup, dimensions, filters, period, metrics, last_id, grouped=False)).one()._mapping)
        if watermark(session, fact) == last_id:  # no fold committed meanwhile
            return rows, totals
