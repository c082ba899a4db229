"""The business-hours calculation: time zones, DST days, holidays, overnight ranges, bad input."""
from datetime import datetime, timezone

import pytest

from saas.services.business_hours import (
    clean_time_zone, is_open, parse_holidays, parse_schedule, schedule_text,
)
from saas.services.errors import Invalid

WEEKDAYS = parse_schedule("mon-fri 09:00-17:00")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_the_schedule_is_read_in_its_own_time_zone():
    # Wednesday 2026-01-14, 08:30 UTC: 09:30 in Paris (open), 03:30 in New York (closed).
    now = utc(2026, 1, 14, 8, 30)
    assert is_open(WEEKDAYS, [], "Europe/Paris", now)
    assert not is_open(WEEKDAYS, [], "America/New_York", now)
    assert not is_open(WEEKDAYS, [], "UTC", now)
    # Ranges include their start and exclude their end.
    assert is_open(WEEKDAYS, [], "UTC", utc(2026, 1, 14, 9, 0))
    assert not is_open(WEEKDAYS, [], "UTC", utc(2026, 1, 14, 17, 0))
    assert is_open(WEEKDAYS, [], "UTC", utc(2026, 1, 14, 16, 59))


def test_the_local_day_decides_the_weekday():
    # Friday 23:30 UTC is already Saturday in Tokyo: closed there, though Friday in UTC.
    friday_late = utc(2026, 1, 16, 23, 30)
    everyday_evening = parse_schedule("mon-fri 20:00-24:00")
    assert is_open(everyday_evening, [], "UTC", friday_late)
    assert not is_open(everyday_evening, [], "Asia/Tokyo", friday_late)


def test_dst_days_keep_the_wall_clock_hours():
    # Europe/Paris springs forward on Sunday 2026-03-29 and falls back on Sunday 2026-10-25.
    sundays = parse_schedule("sun 09:00-17:00")
    assert not is_open(sundays, [], "Europe/Paris", utc(2026, 3, 29, 6, 30))  # 08:30 CEST
    assert is_open(sundays, [], "Europe/Paris", utc(2026, 3, 29, 7, 0))  # 09:00 CEST (+2)
    assert is_open(sundays, [], "Europe/Paris", utc(2026, 10, 25, 8, 0))  # 09:00 CET (+1)
    assert not is_open(sundays, [], "Europe/Paris", utc(2026, 10, 25, 7, 30))  # 08:30 CET
    assert not is_open(sundays, [], "Europe/Paris", utc(2026, 10, 25, 16, 0))  # 17:00 CET


def test_holidays_close_the_whole_local_day():
    holidays = parse_holidays("2026-12-25\n2026-01-01")
    assert holidays == ["2026-01-01", "2026-12-25"]
    christmas_noon = utc(2026, 12, 25, 11, 0)  # a Friday
    assert is_open(WEEKDAYS, [], "Europe/Paris", christmas_noon)
    assert not is_open(WEEKDAYS, holidays, "Europe/Paris", christmas_noon)
    # The holiday is a local date: 23:30 UTC on the 24th is already the 25th in Berlin.
    late = parse_schedule("thu 20:00-24:00\nfri 00:00-24:00")
    assert is_open(late, holidays, "UTC", utc(2026, 12, 24, 23, 30))
    assert not is_open(late, holidays, "Europe/Berlin", utc(2026, 12, 24, 23, 30))


def test_overnight_ranges_run_past_midnight_and_belong_to_their_first_day():
    nights = parse_schedule("fri 22:00-06:00")
    assert nights == {"fri": [["22:00", "06:00"]]}
    assert is_open(nights, [], "UTC", utc(2026, 1, 16, 23, 0))  # Friday 23:00
    assert is_open(nights, [], "UTC", utc(2026, 1, 17, 5, 59))  # Saturday 05:59, Friday's night
    assert not is_open(nights, [], "UTC", utc(2026, 1, 17, 6, 0))
    assert not is_open(nights, [], "UTC", utc(2026, 1, 16, 5, 0))  # Friday early: Thursday had no night
    assert not is_open(nights, [], "UTC", utc(2026, 1, 16, 21, 59))
    # A holiday on the Friday closes its whole night, even the Saturday-morning part.
    assert not is_open(nights, ["2026-01-16"], "UTC", utc(2026, 1, 17, 2, 0))
    # A holiday on the Saturday does not cut Friday's night short.
    assert is_open(nights, ["2026-01-17"], "UTC", utc(2026, 1, 17, 2, 0))


def test_the_schedule_text_format():
    schedule = parse_schedule("Mon-Wed 09:00-12:00 13:00-17:00\nfri,sat 10:00-14:00\n\nsun-mon 20:00-22:00")
    assert schedule["mon"] == [["09:00", "12:00"], ["13:00", "17:00"], ["20:00", "22:00"]]
    assert schedule["wed"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert "thu" not in schedule and schedule["sat"] == [["10:00", "14:00"]]
    assert schedule["sun"] == [["20:00", "22:00"]]  # a day range may wrap around the week
    assert parse_schedule(schedule_text(schedule)) == schedule
    assert parse_schedule("") == {}  # closed every day
    assert not is_open({}, [], "UTC", utc(2026, 1, 14, 12, 0))


@pytest.mark.parametrize("text, where", [
    ("mon-fri", "Line 1"),
    ("monday 09:00-17:00", "Line 1"),
    ("mon 9:00-17:00", "Line 1"),
    ("mon 09:00-25:00", "Line 1"),
    ("mon 24:00-02:00", "Line 1"),
    ("mon 09:00-09:00", "same time"),
    ("mon 09:00-17:00\ntue 09:00", "Line 2"),
    ("mon " + " ".join(f"{h:02d}:00-{h:02d}:30" for h in range(7)), "At most"),
])
def test_bad_schedules_are_refused_with_where(text, where):
    with pytest.raises(Invalid) as refused:
        parse_schedule(text)
    assert refused.value.code == "invalid_schedule" and where in refused.value.message


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "europe/paris", " ", None, 5])
def test_unknown_time_zones_are_refused(name):
    with pytest.raises(Invalid) as refused:
        clean_time_zone(name)
    assert refused.value.code == "invalid_time_zone"


def test_time_zone_names_are_trimmed():
    assert clean_time_zone(" America/Sao_Paulo ") == "America/Sao_Paulo"


@pytest.mark.parametrize("text", ["2026-13-01", "25/12/2026", "tomorrow", "2026-02-30"])
def test_bad_holidays_are_refused(text):
    with pytest.raises(Invalid) as refused:
        parse_holidays(text)
    assert refused.value.code == "invalid_holidays"
