"""Report rollups: on SQLite and PostgreSQL, every report a rollup serves gives exactly the raw
query's figures, before, between and after folds, with new facts in folded hours, in whole-hour
zones (one crossing a daylight-saving change) and in a half-hour zone, which reads raw."""
import random
import threading
import traceback
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from saas.models import Conversation, Message, Visitor
from saas.models.rollups import MessageHour
from saas.services.reports import custom, rollups
from saas.services.reports import period as periods
from tenants import tenant_context, tenant_session
from workers.rollups import fold_tenant

CHANNELS = ("web", "mobile_web", "sms")
SENDERS = ("visitor", "agent", "bot", "system")
# Ten days around the night Paris moves its clocks forward (29 March 2026).
FIRST_INSTANT = datetime(2026, 3, 24, 17, tzinfo=timezone.utc)
SPAN_MINUTES = 10 * 24 * 60
DEFINITIONS = [
    ((), ("conversations",), ()),
    (("time",), ("conversations", "messages"), ()),
    (("channel",), ("messages", "visitor_messages", "agent_messages", "bot_messages"), ()),
    (("time", "sender"), ("messages",), (("channel", "web"),)),
    (("time", "channel"), ("conversations",), (("channel", "sms"),)),
    (("sender",), ("agent_messages", "messages"), (("sender", "agent"),)),
]
# (from, to, granularity): whole weeks, a range starting mid-week and mid-month, hours over the change.
RANGES = [("2026-03-23", "2026-04-05", "week"), ("2026-03-26", "2026-04-02", "day"),
          ("2026-03-28", "2026-03-30", "hour"), ("2026-03-25", "2026-04-03", "month")]
ZONES = ["UTC", "Europe/Paris", "Asia/Kolkata"]


def seed(session, rng: random.Random, conversations: int, in_time_order: bool = False) -> None:
    """Conversations with messages at random minutes of the span; ids follow time only if asked."""
    visitor = session.scalar(select(Visitor).limit(1))
    if visitor is None:
        visitor = Visitor(public_id=f"rollups{rng.randrange(10**9)}", nickname="V")
        session.add(visitor)
        session.flush()
    minutes = [rng.randrange(SPAN_MINUTES) for _ in range(conversations)]
    for minute in sorted(minutes) if in_time_order else minutes:
        started = FIRST_INSTANT + timedelta(minutes=minute)
        conversation = Conversation(visitor_id=visitor.id, channel=rng.choice(CHANNELS), created_at=started,
                                    updated_at=started)
        session.add(conversation)
        session.flush()
        session.add_all(Message(conversation_id=conversation.id, seq=seq, client_id=f"m{seq}",
                                sender_type=rng.choice(SENDERS), sender_name="x", body="hi",
                                created_at=started + timedelta(minutes=rng.randrange(-30, 600)))
                        for seq in range(1, rng.randrange(1, 6) + 1))
    session.commit()


def normalised(rows: list[dict], totals: dict, dimensions, metrics):
    by_key = {tuple(row[name] for name in dimensions): tuple(int(row[name] or 0) for name in metrics)
              for row in rows}
    return by_key, tuple(int(totals[name] or 0) for name in metrics)


def raw(session, fact: str, dimensions, filters, period, metrics):
    definition = custom.Definition(dimensions, metrics, filters)
    rows = [dict(row._mapping) for row in session.execute(
        custom._query(custom.FACTS[fact], definition, period, list(metrics), grouped=True))]
    totals = session.execute(custom._query(custom.FACTS[fact], definition, period, list(metrics),
                                           grouped=False)).one()._mapping
    return normalised(rows, totals, dimensions, metrics)


def each_fact(definitions):
    """(dimensions, metrics of one fact table, filters, that fact), as the report runs them."""
    for dimensions, metrics, filters in definitions:
        by_fact = {}
        for name in metrics:
            by_fact.setdefault(custom.METRICS[name].fact, []).append(name)
        for fact, fact_metrics in by_fact.items():
            yield dimensions, tuple(fact_metrics), filters, fact


def check_every_report_equals_raw(session) -> int:
    """Every definition x range x zone; returns how many were served by the rollups."""
    served = 0
    for zone in ZONES:
        for first, last, granularity in RANGES:
            period = periods.parse_period({"from": first, "to": last, "granularity": granularity}, zone)
            for dimensions, metrics, filters, fact in each_fact(DEFINITIONS):
                if not rollups.covers(fact, dimensions, filters, period, metrics):
                    assert zone == "Asia/Kolkata", (zone, dimensions, metrics)
                    continue
                served += 1
                rolled = normalised(*rollups.report(session, fact, dimensions, filters, period, metrics),
                                    dimensions, metrics)
                assert rolled == raw(session, fact, dimensions, filters, period, metrics), \
                    (zone, first, last, granularity, dimensions, metrics, filters)
    return served


def test_rolled_up_reports_equal_the_raw_queries_before_between_and_after_folds(app, make_tenant, monkeypatch):
    monkeypatch.setattr(rollups, "CHUNK", 25)  # folds of several transactions each
    tenant = make_tenant(agents=0)
    rng = random.Random(8)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        seed(session, rng, 60)
        check_every_report_equals_raw(session)  # nothing folded: all raw
        first = rollups.fold(session)
        assert first["conversations"] == 60 and first["messages"] == session.scalar(select(func.count(Message.id)))
        assert check_every_report_equals_raw(session) == 2 * len(RANGES) * len(list(each_fact(DEFINITIONS)))
        seed(session, rng, 40, in_time_order=True)  # new facts, many in hours already folded
        check_every_report_equals_raw(session)
        # A fold whose clock is mid-way through the facts takes those up to the last written LAG before it.
        middle = FIRST_INSTANT + timedelta(days=5)
        partial = rollups.fold(session, now=middle)
        assert 0 < partial["conversations"] < 40
        assert rollups.watermark(session, "conversations") == session.scalar(
            select(func.max(Conversation.id)).where(Conversation.created_at < middle - rollups.LAG))
        check_every_report_equals_raw(session)
        assert rollups.fold(session)["conversations"] == 40 - partial["conversations"]
        assert rollups.fold(session) == {"conversations": 0, "messages": 0, "visits": 0}
        seed(session, rng, 20)
        check_every_report_equals_raw(session)
        assert session.scalar(select(func.sum(MessageHour.count))) < session.scalar(select(func.count(Message.id)))


def test_custom_report_in_a_half_hour_zone_reads_raw_and_stays_exact(app, make_tenant):
    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        seed(session, random.Random(5), 30)
        rollups.fold(session)
        definition = custom.parse_definition({"dimensions": ["time"], "metrics": ["conversations", "messages"]})
        by_zone = {}
        for zone in ("Asia/Kolkata", "Asia/Tokyo"):
            period = periods.parse_period({"from": "2026-03-20", "to": "2026-04-10"}, zone)
            assert rollups.covers("messages", definition.dimensions, (), period, ["messages"]) == (zone != "Asia/Kolkata")
            by_zone[zone] = custom.run_report(session, definition, period)
        for table in by_zone.values():
            assert table.totals == {"time": None, "conversations": 30,
                                    "messages": session.scalar(select(func.count(Message.id)))}
            assert sum(row["messages"] for row in table.rows) == table.totals["messages"]


def fold_concurrently(app, tenant, folds: int = 4, give_up_on_lock: bool = False) -> list[dict]:
    """``folds`` threads fold the tenant at once; what each folded. No thread may fail, except, if
    ``give_up_on_lock``, on SQLite's "database is locked" (the next fold takes what it left)."""
    folded, errors = [], []

    def fold():
        try:
            with app.app_context(), tenant_context(tenant.ref):
                folded.append(rollups.fold(tenant_session()))
        except Exception:  # reported below, with where the thread failed
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=fold) for _ in range(folds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [error for error in errors if not (give_up_on_lock and "database is locked" in error)]
    assert not failed, "\n".join(failed)
    return folded


def test_concurrent_folds_count_each_fact_once(app, make_tenant):
    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        seed(session, random.Random(3), 50)
        messages = session.scalar(select(func.count(Message.id)))
    folded = fold_concurrently(app, tenant)
    assert sum(result["messages"] for result in folded) == messages
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        assert session.scalar(select(func.sum(MessageHour.count))) == messages
        assert rollups.watermark(session, "messages") == session.scalar(select(func.max(Message.id)))


def test_the_background_job_folds_a_tenant(app, make_tenant):
    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        seed(tenant_session(), random.Random(2), 5)
    with app.app_context():
        fold_tenant(tenant.ref)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        assert rollups.watermark(session, "messages") == session.scalar(select(func.max(Message.id)))
