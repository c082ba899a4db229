"""The visit rollup (hours, and days with their visitor and first-touch sets and visitor days): on
SQLite and PostgreSQL, the source reports per visit (distinct visitors included) and per visitor
(first touch) and the custom report's visit metrics equal the raw queries before, between and after
folds, while visits grow (page views, a long visit still going on at a fold) and gain conversations
after they were folded, after an erasure, in whole-hour zones (one crossing a daylight-saving
change) and in a half-hour zone, which reads raw."""
import random
from dataclasses import replace
from datetime import timedelta

import pytest
from pyroaring import BitMap
from sqlalchemy import func, select

from saas.models import Conversation, PageView, User, Visitor, VisitSession
from saas.models.rollups import RollupWatermark, VisitDay, VisitHour, VisitorDay
from saas.services import erasure, tracking
from saas.services.reports import custom, rollups, sources
from saas.services.reports import period as periods
from tenants import provisioning, tenant_context, tenant_session
from tests.test_reports_rollups import FIRST_INSTANT, RANGES, SPAN_MINUTES, ZONES, fold_concurrently

VISIT_METRICS = ("visits", "page_views", "chat_conversion_rate")
DEFINITIONS = [
    ((), VISIT_METRICS, ()),
    (("time",), VISIT_METRICS, ()),
    (("channel",), ("visits", "chat_conversion_rate"), ()),
    (("time", "landing_page"), ("page_views", "visits"), ()),
    (("time",), ("visits", "chat_conversion_rate"), (("source_kind", "search"),)),
    (("referrer_domain",), ("visits",), (("referrer_domain", "a.example"),)),
]
SOURCE_DIMENSIONS = ("channel", "source_kind", "referrer_domain", "landing_page", "search_terms", "visited_page")
PAGES = ("https://shop.example/", "https://shop.example/a", "https://shop.example/b", "https://shop.example/c")
ATTRIBUTES = {"channel": ("web", "mobile_web", "app"), "source_kind": ("direct", "search", "referral"),
              "referrer_domain": (None, "a.example", "b.example"), "search_terms": (None, "shoes", "red shoes"),
              "landing_page": ("https://shop.example/", "https://shop.example/a", "https://shop.example/b", None)}


def one_visitor(session) -> Visitor:
    visitor = Visitor(public_id="vr", nickname="V")
    session.add(visitor)
    session.flush()
    return visitor


def seed_visits(session, rng: random.Random, visits: int, visitors: list) -> list:
    """Visits at random minutes of the span, lasting up to an hour, a third with a conversation."""
    made = []
    for _ in range(visits):
        started = FIRST_INSTANT + timedelta(minutes=rng.randrange(SPAN_MINUTES))
        visit = VisitSession(visitor_id=rng.choice(visitors).id, started_at=started,
                             last_seen_at=started + timedelta(minutes=rng.randrange(60)),
                             page_count=rng.randrange(1, 6),
                             **{name: rng.choice(values) for name, values in ATTRIBUTES.items()})
        session.add(visit)
        made.append(visit)
    session.flush()
    for visit in made:
        view_pages(session, rng, visit, visit.page_count)
        if rng.random() < 0.33:
            converse(session, visit, visit.started_at + timedelta(minutes=rng.randrange(30)))
    session.commit()
    return made


def view_pages(session, rng: random.Random, visit, views: int) -> None:
    session.add_all(PageView(session_id=visit.id, url=rng.choice(PAGES), started_at=visit.started_at)
                    for _ in range(views))


def converse(session, visit, at) -> None:
    session.add(Conversation(visitor_id=visit.visitor_id, channel=visit.channel, visit_session_id=visit.id,
                             created_at=at, updated_at=at))
    session.flush()


def custom_rows(rows: list[dict], totals: dict, dimensions, metrics):
    names = [name for metric in metrics for name in (metric, f"{metric}__numerator")
             if name in totals]
    by_key = {tuple(row[name] for name in dimensions): tuple(int(row.get(name) or 0) for name in names)
              for row in rows}
    return by_key, tuple(int(totals[name] or 0) for name in names)


def check_every_report_equals_raw(session) -> int:
    """Every definition and source dimension x range x zone; returns how many the rollup served."""
    served = 0
    for zone in ZONES:
        for first, last, granularity in RANGES:
            period = periods.parse_period({"from": first, "to": last, "granularity": granularity}, zone)
            for dimensions, metrics, filters in DEFINITIONS:
                definition = custom.Definition(dimensions, metrics, filters)
                fact = custom.FACTS["visits"]
                raw = [dict(row._mapping) for row in session.execute(
                    custom._query(fact, definition, period, list(metrics), grouped=True))]
                raw_totals = dict(session.execute(
                    custom._query(fact, definition, period, list(metrics), grouped=False)).one()._mapping)
                if not rollups.covers("visits", dimensions, filters, period, metrics):
                    assert zone == "Asia/Kolkata", (zone, dimensions, filters)
                    continue
                served += 1
                rolled = rollups.report(session, "visits", dimensions, filters, period, metrics)
                assert custom_rows(*rolled, dimensions, metrics) == custom_rows(raw, raw_totals, dimensions, metrics), \
                    (zone, first, last, granularity, dimensions, metrics, filters)
            for dimension in SOURCE_DIMENSIONS:
                for unit in sources.UNITS:
                    query = sources.SourceQuery(period, dimension, unit)
                    if sources.rolled_up(query):
                        served += 1
                        assert sources._rolled_up(session, query) == sources._raw(session, query), \
                            (zone, first, dimension, unit)
                    # The report itself, whichever way it reads: the raw answer.
                    assert sources.source_report(session, query).rows == sources._raw(session, query)[0]
    return served


def marks(session):
    return session.execute(select(RollupWatermark.last_id, RollupWatermark.folded_until)
                           .where(RollupWatermark.fact == "visits")).one()


def test_visit_reports_equal_the_raw_queries_while_visits_change_and_after_erasure(app, make_tenant, monkeypatch):
    monkeypatch.setattr(rollups, "CHUNK", 7)  # conversation folds of several transactions
    monkeypatch.setattr(rollups, "VISIT_STEP", timedelta(days=2))  # and visit folds too
    tenant = make_tenant(agents=0)
    rng = random.Random(19)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitors = [Visitor(public_id=f"vr{n}", nickname=f"V{n}") for n in range(6)]
        session.add_all(visitors)
        session.flush()
        visits = seed_visits(session, rng, 80, visitors)
        # A visit from the first day still going on at the mid-span fold: it holds the mark back.
        long_visit = min(visits, key=lambda visit: visit.started_at)
        long_visit.last_seen_at = FIRST_INSTANT + timedelta(days=6)
        session.commit()
        everything = check_every_report_equals_raw(session)  # nothing folded: rollup rows empty, all raw

        middle = FIRST_INSTANT + timedelta(days=5)
        assert rollups.fold(session, now=middle)["visits"] == 0  # the long visit started first
        last_id, until = marks(session)
        assert until == rollups._whole_hour(long_visit.started_at) and last_id > 0
        check_every_report_equals_raw(session)
        long_visit.last_seen_at = FIRST_INSTANT + timedelta(hours=3)  # it ended after all
        session.commit()
        folded = rollups.fold(session, now=middle)["visits"]
        # Up to the hour of the first visit not over by then (seen within the timeout + LAG).
        over = middle - tracking.visit_timeout() - rollups.LAG
        ongoing = min(visit.started_at for visit in visits if visit.last_seen_at >= over)
        assert folded == sum(visit.started_at < rollups._whole_hour(min(over, ongoing)) for visit in visits) > 20
        assert check_every_report_equals_raw(session) == everything

        # Visits change after they started: page views on one not yet folded, conversations on
        # folded visits with and without one, and on visits not yet folded.
        last_id, until = marks(session)
        unfolded = [visit for visit in visits if visit.started_at >= until]
        folded_visits = [visit for visit in visits if visit.started_at < until]
        unfolded[0].page_count += 4
        view_pages(session, rng, unfolded[0], 4)
        with_chat = {conversation.visit_session_id for conversation in session.scalars(select(Conversation))}
        for visit in ([next(v for v in folded_visits if v.id in with_chat), next(v for v in folded_visits
                                                                                 if v.id not in with_chat)]
                      + unfolded[:2]):
            converse(session, visit, middle)
        session.commit()
        check_every_report_equals_raw(session)
        rollups.fold(session, now=middle + timedelta(minutes=10))  # takes the new conversations
        assert marks(session)[0] > last_id
        check_every_report_equals_raw(session)

        rollups.fold(session)  # today: every visit is over
        assert marks(session)[1] > max(visit.started_at for visit in visits)
        assert rollups.fold(session) == {"conversations": 0, "messages": 0, "visits": 0}
        check_every_report_equals_raw(session)
        # Each visit once per dimension: the long visit was folded once.
        for rows in (VisitHour, VisitDay):
            assert session.scalar(select(func.sum(rows.visits)).where(rows.dimension == "landing_page")) == 80
        assert sum(int(rollups._visitor_arrays(BitMap.deserialize(bytes(row.visitors)), row.counts)[1][:, 0].sum())
                   for row in session.execute(select(VisitorDay.visitors, VisitorDay.counts))) == 80
        # The day sets hold every visitor, each under every one of their visits' channels.
        channel_sets = session.execute(select(VisitDay.value, VisitDay.visitors)
                                       .where(VisitDay.dimension == "channel")).all()
        assert {(channel, visitor_id) for channel, visitors in channel_sets
                for visitor_id in BitMap.deserialize(bytes(visitors))} == \
            {tuple(row) for row in session.execute(select(VisitSession.channel, VisitSession.visitor_id))}
        converse(session, long_visit, middle + timedelta(days=10))  # a late conversation, not folded yet
        session.commit()
        check_every_report_equals_raw(session)

        owner = session.get(User, tenant.owner.id)
        erased = visitors[0]
        erasure.erase_visitor(session, tenant.ref, owner, erased.public_id)
        remaining = session.scalar(select(func.count(VisitSession.id)))
        assert remaining < 80
        for rows in (VisitHour, VisitDay):
            assert session.scalar(select(func.sum(rows.visits)).where(rows.dimension == "channel")) == remaining
        assert session.scalar(select(func.count()).where(VisitHour.visits == 0)) == 0
        check_every_report_equals_raw(session)
        rollups.fold(session)
        check_every_report_equals_raw(session)


def test_the_source_report_reads_raw_what_the_rollup_does_not_carry(app, make_tenant):
    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = one_visitor(session)
        seed_visits(session, random.Random(4), 20, [visitor])
        rollups.fold(session)
        period = periods.parse_period({"from": "2026-03-20", "to": "2026-04-10"}, "UTC")
        query = sources.SourceQuery(period, "channel")
        for other in (replace(query, dimension="visited_page", unit="visitor"),
                      replace(query, filters=(("source_kind", "search"),)),
                      replace(query, period=replace(period, time_zone="Asia/Kolkata"))):
            assert not sources.rolled_up(other)
            table = sources.source_report(session, other)
            assert table.rows == sources._raw(session, other)[0]
        assert rollups.covers("visits", ("time",), (), period, ["visitors"]) is False
        assert rollups.covers("visits", ("channel", "landing_page"), (), period, ["visits"]) is False


def test_a_conversation_written_during_a_fold_counts_once(app, make_tenant):
    """A visit is folded before its newest conversation is settled: the conversation fold adds it
    later, the visit fold must not have taken it already (even with no conversation folded yet)."""
    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = one_visitor(session)
        visit = seed_visits(session, random.Random(1), 1, [visitor])[0]
        session.execute(Conversation.__table__.delete())  # none settled: the visit mark alone moves
        now = FIRST_INSTANT + timedelta(days=20)
        converse(session, visit, now - timedelta(minutes=1))  # the visitor's latest visit, long over
        session.commit()
        period = periods.parse_period({"from": "2026-03-20", "to": "2026-04-10"}, "UTC")
        query = sources.SourceQuery(period, "channel")
        expected = sources._raw(session, query)
        assert rollups.fold(session, now=now)["visits"] == 1 and marks(session)[0] == 0
        assert sources._rolled_up(session, query) == expected
        rollups.fold(session, now=now + timedelta(minutes=10))
        assert marks(session)[0] > 0
        assert sources._rolled_up(session, query) == expected
        assert expected[1]["conversations"] == 1


def test_concurrent_visit_folds_fold_each_visit_once(app, make_tenant, monkeypatch):
    monkeypatch.setattr(rollups, "VISIT_STEP", timedelta(days=1))
    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = one_visitor(session)
        visits = seed_visits(session, random.Random(6), 60, [visitor])
        conversations = session.scalar(select(func.count(Conversation.id)))
    # On SQLite a fold may give up on the file's write lock under CI load (embedded mode folds from
    # one greenlet, so only tests contend): what it left is taken by the next fold, never twice.
    sqlite = app.extensions["switchboard_tenants"].is_sqlite
    folded = sum(result["visits"] for result in fold_concurrently(app, tenant, give_up_on_lock=sqlite))
    with app.app_context(), tenant_context(tenant.ref):
        assert folded + rollups.fold(tenant_session())["visits"] == len(visits)
        for rows in (VisitHour, VisitDay):
            sums = tenant_session().execute(select(func.sum(rows.visits), func.sum(rows.conversations))
                                            .where(rows.dimension == "source_kind")).one()
            assert tuple(sums) == (len(visits), conversations)


@pytest.mark.parametrize("before", ["0019", "0020"])
def test_the_day_rows_migrations_fold_the_visits_again(app, make_tenant, before):
    """Migrations 0020 (day rows) and 0021 (first-touch sets, visitor days) add what visits folded
    before them lack, so they empty the rollup rows and reset the marks, and the next fold builds
    them all."""
    tenant = make_tenant(agents=0)
    period = periods.parse_period({"from": "2026-03-20", "to": "2026-04-10"}, "UTC")
    with app.app_context():
        with tenant_context(tenant.ref):
            session = tenant_session()
            visitors = [Visitor(public_id=f"vm{n}", nickname=f"M{n}") for n in range(3)]
            session.add_all(visitors)
            session.flush()
            seed_visits(session, random.Random(7), 30, visitors)
            rollups.fold(session)
            hours = session.scalar(select(func.count()).select_from(VisitHour))
            assert hours > 0
            session.close()
        provisioning.downgrade_tenant(tenant.ref, before)
        provisioning.migrate_tenant(tenant.ref)
        with tenant_context(tenant.ref):
            session = tenant_session()
            assert tuple(marks(session)) == (0, None)
            assert session.scalar(select(func.count()).select_from(VisitHour)) == 0
            rollups.fold(session)
            assert session.scalar(select(func.count()).select_from(VisitHour)) == hours
            for dimension in SOURCE_DIMENSIONS:
                for unit in sources.UNITS:
                    query = sources.SourceQuery(period, dimension, unit)
                    if sources.rolled_up(query):
                        assert sources._rolled_up(session, query) == sources._raw(session, query), (dimension, unit)
