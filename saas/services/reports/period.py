"""The time side of every report: a validated date range in the tenant's time zone, its buckets
(hour, day, week, month) and the SQL that puts a timestamp in its bucket on PostgreSQL and SQLite.

Dates in the query string are local dates of the tenant (``from`` and ``to`` both included);
storage is UTC. A bucket is labelled by the local wall-clock time it starts at, as text
(``2026-03-29``, ``2026-03-29 14:00``), identically on both databases, so rows from SQL and the
empty buckets made here line up."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import String

from saas.models import BusinessHours
from saas.models.reception import CHANNELS
from saas.services.errors import Invalid

GRANULARITIES = ("hour", "day", "week", "month")
MAX_DAYS = 731  # two years, a leap day included
MAX_BUCKETS = 5000  # a chart and a table a person can still read; hours over a long range are refused
DEFAULT_DAYS = 30
LABEL_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}


class ReportError(Invalid):
    """Bad report parameters: shown to the person as a 400 with ``message``."""


def tenant_time_zone(session: Session) -> str:
    """The workspace's business-hours time zone: reports count days as the tenant's staff do."""
    name = session.scalar(select(BusinessHours.time_zone).where(BusinessHours.department_id.is_(None)))
    return name or "UTC"


def _parse_date(text, field: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ReportError("invalid_date", "%(field)r must be a date such as 2026-03-31, not %(text)r.",
                          field=field, text=str(text)[:40])


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    time_zone: str
    granularity: str = "day"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start(self) -> datetime:
        """First instant (UTC) of ``first_day`` in the tenant's zone."""
        return datetime.combine(self.first_day, time(), self.zone).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        """First instant (UTC) after ``last_day``: ranges are half-open, ``start <= t < end``."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.zone).astimezone(timezone.utc)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def contains(self, column) -> ColumnElement:
        return (column >= self.start) & (column < self.end)

    def query_args(self) -> dict:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(),
                "granularity": self.granularity}

    def bucket_labels(self) -> list[str]:
        """Every bucket of the range in order, so a day with nothing still shows as 0."""
        labels, day = [], self.first_day
        fmt = LABEL_FORMATS[self.granularity]
        if self.granularity == "hour":
            instant = self.start
            while instant < self.end:
                label = instant.astimezone(self.zone).strftime(fmt)
                if not labels or labels[-1] != label:  # the repeated hour when clocks go back
                    labels.append(label)
                instant += timedelta(hours=1)
            return labels
        while day <= self.last_day:
            if self.granularity == "week":
                label = (day - timedelta(days=day.weekday())).strftime(fmt)
            else:
                label = day.strftime(fmt)
            if not labels or labels[-1] != label:
                labels.append(label)
            day += timedelta(days=1)
        return labels

    def bucket(self, column) -> ColumnElement:
        """SQL text label of the local bucket ``column`` (a UTC timestamp) falls in."""
        return LocalBucket(column, self.granularity, self.time_zone, self.utc_offsets())

    def utc_offsets(self) -> list[tuple[datetime, int]]:
        """(from this UTC instant, offset in seconds) for the range: SQLite has no time zones, so
        its bucket adds the offset in force, found with a CASE over the range's DST changes."""
        offsets, instant = [], self.start - timedelta(days=1)
        while instant <= self.end + timedelta(days=1):
            seconds = int(instant.astimezone(self.zone).utcoffset().total_seconds())
            if not offsets or offsets[-1][1] != seconds:
                offsets.append((instant, seconds))
            instant += timedelta(hours=1)
        return offsets


class LocalBucket(ColumnElement):
    inherit_cache = False
    type = String()

    def __init__(self, column, granularity: str, time_zone: str, offsets: list[tuple[datetime, int]]):
        self.column, self.granularity, self.time_zone, self.offsets = column, granularity, time_zone, offsets


_PG_FORMATS = {"hour": "YYYY-MM-DD HH24:00", "day": "YYYY-MM-DD", "week": "YYYY-MM-DD", "month": "YYYY-MM"}


@compiles(LocalBucket, "postgresql")
def _bucket_postgresql(element: LocalBucket, compiler, **kw):
    # Inline constants, not parameters: PostgreSQL only matches a GROUP BY expression to the selected
    # one when they are the same text, and two bound parameters are two different $n.
    def constant(text: str):
        return literal_column("'" + text.replace("'", "''") + "'")

    local = func.timezone(constant(element.time_zone), element.column)
    expression = func.to_char(func.date_trunc(constant(element.granularity), local),
                              constant(_PG_FORMATS[element.granularity]))
    return compiler.process(expression, **kw)


@compiles(LocalBucket, "sqlite")
def _bucket_sqlite(element: LocalBucket, compiler, **kw):
    later_offsets = [(element.column >= since, f"{seconds:+d} seconds") for since, seconds in element.offsets[1:]]
    first = f"{element.offsets[0][1]:+d} seconds"
    # Newest change first: the first WHEN that holds is the offset in force at that instant.
    modifier = case(*reversed(later_offsets), else_=first) if later_offsets else literal(first)
    local = func.datetime(element.column, modifier)
    if element.granularity == "week":
        expression = func.date(local, "weekday 0", "-6 days")  # back to Monday
    else:
        expression = func.strftime(LABEL_FORMATS[element.granularity], local)
    return compiler.process(expression, **kw)


def parse_channel(args) -> str | None:
    """``channel``: empty for every channel, else one of ``CHANNELS``."""
    channel = (args.get("channel") or "").strip()
    if channel and channel not in CHANNELS:
        raise ReportError("invalid_channel", "A channel is one of: %(channels)s.", channels=", ".join(CHANNELS))
    return channel or None


def parse_period(args, time_zone: str, *, today: date | None = None) -> Period:
    """``from``/``to`` (local dates, both included; default the last 30 days) and ``granularity``."""
    today = today or datetime.now(ZoneInfo(time_zone)).date()
    last_day = _parse_date(args.get("to"), "to") if args.get("to") else today
    first_day = (_parse_date(args.get("from"), "from") if args.get("from")
                 else last_day - timedelta(days=DEFAULT_DAYS - 1))
    if first_day > last_day:
        raise ReportError("inverted_range", "The range starts (%(first)s) after it ends (%(last)s).",
                          first=first_day, last=last_day)
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise ReportError("range_too_long",
                          "A report covers at most %(limit)s days (two years); this range has %(days)s.",
                          limit=MAX_DAYS, days=(last_day - first_day).days + 1)
    granularity = args.get("granularity") or "day"
    if granularity not in GRANULARITIES:
        raise ReportError("invalid_granularity", "Granularity must be one of %(choices)s.",
                          choices=", ".join(GRANULARITIES))
    period = Period(first_day, last_day, time_zone, granularity)
    if granularity == "hour" and period.days * 24 > MAX_BUCKETS:
        raise ReportError("too_many_buckets", "Hourly reports cover at most %(limit)s days; choose day, week or month.",
                          limit=MAX_BUCKETS // 24)
    return period
