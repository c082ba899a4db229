"""Business hours: a weekly schedule of local wall-clock ranges in a time zone, plus holidays.

Written by admins as text, one line per rule (``mon-fri 09:00-17:00``, ``sat 10:00-12:00 13:00-16:00``;
a range that ends before it starts runs past midnight, ``fri 22:00-02:00``), stored as
``{"mon": [["09:00", "17:00"]], …}``. A range belongs to the day it starts on: a holiday closes
the ranges starting that day, including the part of an overnight range after midnight. Comparing
local wall-clock times makes DST days come out right: 09:00 is 09:00 whatever the offset.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import BusinessHours, utcnow
from . import scopes
from .errors import Forbidden, Invalid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
MAX_HOLIDAYS = 366
MAX_RANGES_PER_DAY = 6


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def clean_time_zone(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    # available_timezones() keeps out paths and odd spellings ZoneInfo would also accept.
    if name not in available_timezones():
        raise Invalid("invalid_time_zone", "Unknown time zone %(zone)r: use a name such as Europe/Paris or UTC.",
                      zone=name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("invalid_time_zone", "Unknown time zone %(zone)r.", zone=name) from exc
    return name


def _days(token: str, line_no: int) -> list[str]:
    chosen = []
    for part in token.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise Invalid("invalid_schedule", "Line %(line)s: days are mon, tue, wed, thu, fri, sat, sun "
                                              "(a range like mon-fri, or a list like mon,wed).", line=line_no)
        start, end = DAYS.index(first), DAYS.index(last or first)
        span = range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
        chosen += [DAYS[i] for i in span]
    return chosen


def parse_schedule(text) -> dict:
    """The schedule text as admins write it, checked, as stored. Empty: closed every day."""
    if not isinstance(text, str):
        raise Invalid("invalid_schedule", "The schedule is text.")
    schedule: dict[str, list[list[str]]] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        words = line.lower().split()
        if not words:
            continue
        if len(words) < 2:
            raise Invalid("invalid_schedule", "Line %(line)s: write days, then one or more ranges, "
                                              "e.g. mon-fri 09:00-17:00.", line=line_no)
        days = _days(words[0], line_no)
        for word in words[1:]:
            start, _, end = word.partition("-")
            if not (TIME_PATTERN.match(start) and start != "24:00" and TIME_PATTERN.match(end)):
                raise Invalid("invalid_schedule", "Line %(line)s: %(word)r is not a range like 09:00-17:30.",
                              line=line_no, word=word)
            if start == end:
                raise Invalid("invalid_schedule", "Line %(line)s: %(word)r starts and ends at the same time.",
                              line=line_no, word=word)
            for day in days:
                schedule.setdefault(day, []).append([start, end])
    for day, ranges in schedule.items():
        if len(ranges) > MAX_RANGES_PER_DAY:
            raise Invalid("invalid_schedule", "At most %(limit)s ranges a day (%(day)s).",
                          limit=MAX_RANGES_PER_DAY, day=day)
        ranges.sort()
    return schedule


def schedule_text(schedule: dict) -> str:
    return "\n".join(f"{day} " + " ".join(f"{a}-{b}" for a, b in schedule[day]) for day in DAYS if schedule.get(day))


def parse_holidays(text) -> list[str]:
    if not isinstance(text, str):
        raise Invalid("invalid_holidays", "Holidays are text: one date (YYYY-MM-DD) a line.")
    holidays = set()
    for line_no, line in enumerate(text.split(), start=1):
        try:
            holidays.add(date.fromisoformat(line).isoformat())
        except ValueError as exc:
            raise Invalid("invalid_holidays", "Holiday %(number)s: %(line)r is not a date like 2026-12-25.",
                          number=line_no, line=line) from exc
    if len(holidays) > MAX_HOLIDAYS:
        raise Invalid("invalid_holidays", "At most %(limit)s holidays.", limit=MAX_HOLIDAYS)
    return sorted(holidays)


def is_open(schedule: dict, holidays: list[str], time_zone: str, now: datetime) -> bool:
    """Whether ``now`` (aware) falls in the schedule, in the schedule's own time zone."""
    local = now.astimezone(ZoneInfo(time_zone))
    minute = local.hour * 60 + local.minute
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    closed = set(holidays or ())
    if today.isoformat() not in closed:
        for start, end in schedule.get(DAYS[today.weekday()], ()):
            start_m, end_m = _minutes(start), _minutes(end)
            if start_m <= minute < (end_m if end_m > start_m else 24 * 60):
                return True
    if yesterday.isoformat() not in closed:
        for start, end in schedule.get(DAYS[yesterday.weekday()], ()):
            if _minutes(end) < _minutes(start) and minute < _minutes(end):
                return True  # the overnight range that started yesterday
    return False


def hours_for(session: Session, department_id: int | None) -> BusinessHours | None:
    """The department's own hours if it has any, else the workspace's."""
    rows = {row.department_id: row for row in session.scalars(
        select(BusinessHours).where(BusinessHours.department_id.is_(None)
                                    | (BusinessHours.department_id == department_id)))}
    return rows.get(department_id) or rows.get(None)


@dataclass(frozen=True)
class Hours:
    """Enabled business hours, as plain values a process may keep (saas.services.visitor_offer)."""

    schedule: dict
    holidays: list[str]
    time_zone: str

    def open_at(self, now: datetime) -> bool:
        return is_open(self.schedule, self.holidays, self.time_zone, now)


def enabled_hours(session: Session, department_id: int | None) -> Hours | None:
    """The hours that apply (``hours_for``) if they are enabled; None: always open."""
    hours = hours_for(session, department_id)
    if hours is None or not hours.is_enabled:
        return None
    return Hours(hours.schedule, hours.holidays, hours.time_zone)


def open_now(session: Session, department_id: int | None, now: datetime | None = None) -> bool:
    """Open unless enabled business hours say otherwise: no hours set means always open."""
    hours = enabled_hours(session, department_id)
    return hours is None or hours.open_at(now or utcnow())


def check_hours(session: Session, actor, hours: BusinessHours, schedule: str, holidays: str) -> None:
    """Validate business hours an admin is saving and store the parsed schedule and holidays."""
    if not actor.is_admin:
        raise Forbidden("forbidden", "Only owners and admins set business hours.")
    hours.time_zone = clean_time_zone(hours.time_zone)
    hours.schedule, hours.holidays = parse_schedule(schedule), parse_holidays(holidays)
    if scopes.taken(session, hours):
        raise Invalid("duplicate_hours", "That scope already has business hours: edit those.")
