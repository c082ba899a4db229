"""Source analytics: exact figures on a hand-counted dataset, by visit and by visitor, on SQLite and
PostgreSQL; the tenant's time zone; filters; bad input; nothing from another tenant."""
import pytest

from saas.services.reports import period as periods
from saas.services.reports import sources
from tenants import tenant_context, tenant_session
from tests.report_helpers import MARCH, seed_sources

SHOP = "https://shop.example.com"


def run(app, tenant, **args):
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        period = periods.parse_period({**MARCH, **args}, periods.tenant_time_zone(session))
        return sources.source_report(session, sources.parse_query(args, period))


def figures(table):
    return {row["value"]: (row["visitors"], row["sessions"], row["page_views"], row["conversations"],
                           round(row["conversion_rate"], 4)) for row in table.rows}


@pytest.fixture
def shop(app, make_tenant):
    tenant = make_tenant(agents=0)
    seed_sources(app, tenant)
    return tenant


def check_by_channel_per_visit(app, shop):
    table = run(app, shop, dimension="channel")
    # web: s1, s2, s4, s6 (s5 is before 1 March in Paris); mobile_web: s3. Visits with a chat: s1, s3.
    assert figures(table) == {"web": (3, 4, 6, 2, 0.25), "mobile_web": (1, 1, 2, 1, 1.0)}
    assert [row["value"] for row in table.rows] == ["web", "mobile_web"]
    assert table.totals | {"conversion_rate": round(table.totals["conversion_rate"], 4)} == {
        "value": None, "visitors": 3, "sessions": 5, "page_views": 8, "conversations": 3, "conversion_rate": 0.4}


def check_by_source_per_visit_and_per_visitor(app, shop):
    per_visit = run(app, shop, dimension="source_kind", unit="session")
    assert figures(per_visit) == {"search": (2, 2, 4, 2, 0.5), "direct": (2, 2, 2, 0, 0.0),
                                  "referral": (1, 1, 2, 1, 1.0)}
    # By visitor, each counts under their first visit of the range: A and C came by search, B directly
    # (s6, 00:30 Paris time on 1 March); B's later referral visit and its chat are credited to direct.
    per_visitor = run(app, shop, dimension="source_kind", unit="visitor")
    assert figures(per_visitor) == {"search": (2, 3, 5, 2, 0.5), "direct": (1, 2, 3, 1, 1.0)}
    assert round(per_visitor.totals["conversion_rate"], 4) == 0.6667  # A and B of 3 visitors chatted
    assert "visitors" in per_visitor.columns[-1].label


def check_by_visited_page_counts_a_visit_under_each_page_but_once_in_the_total(app, shop):
    table = run(app, shop, dimension="visited_page")
    assert figures(table) == {f"{SHOP}/home": (3, 3, 4, 2, 0.3333), f"{SHOP}/pricing": (2, 3, 3, 3, 0.6667),
                              f"{SHOP}/blog": (1, 1, 1, 1, 1.0)}
    assert (table.totals["sessions"], table.totals["conversations"], table.totals["page_views"]) == (5, 3, 8)


def check_search_terms_campaigns_and_filters(app, shop):
    assert figures(run(app, shop, dimension="search_terms", channel="web")) == {
        None: (2, 2, 2, 0, 0.0), "chat": (1, 1, 3, 2, 1.0), "help": (1, 1, 1, 0, 0.0)}
    assert figures(run(app, shop, dimension="utm_campaign", source_kind="referral")) == {"spring": (1, 1, 2, 1, 1.0)}
    assert figures(run(app, shop, dimension="landing_page", search_engine="nobody")) == {}


def test_figures_on_the_hand_counted_dataset(app, shop):
    """One tenant for every view of the same dataset: a tenant per check would cost more than the checks."""
    check_by_channel_per_visit(app, shop)
    check_by_source_per_visit_and_per_visitor(app, shop)
    check_by_visited_page_counts_a_visit_under_each_page_but_once_in_the_total(app, shop)
    check_search_terms_campaigns_and_filters(app, shop)


def test_time_zone_decides_which_visits_are_in_the_range(app, make_tenant):
    tenant = make_tenant(agents=0)
    seed_sources(app, tenant, time_zone="UTC")
    # In UTC, s6 (23:30 on 28 February) is outside March.
    assert run(app, tenant, dimension="channel").totals["sessions"] == 4


def test_another_tenants_data_is_not_counted(app, shop, make_tenant):
    other = make_tenant(agents=0)
    assert run(app, other, dimension="channel").rows == []
    assert run(app, other, dimension="channel").totals["sessions"] == 0
    assert run(app, shop, dimension="channel").totals["sessions"] == 5


BAD_INPUT = [
    ({"from": "2026-03-31", "to": "2026-03-01"}, "inverted_range"),
    ({"from": "2020-01-01", "to": "2026-03-01"}, "range_too_long"),
    ({"from": "yesterday"}, "invalid_date"),
    ({"granularity": "fortnight"}, "invalid_granularity"),
    ({"from": "2025-01-01", "to": "2026-03-01", "granularity": "hour"}, "too_many_buckets"),
    ({"dimension": "password_hash"}, "unknown_dimension"),
    ({"unit": "household"}, "unknown_unit"),
    ({"channel": "x" * 3000}, "invalid_filter"),
]


def test_bad_input_is_a_clear_error(app, make_tenant):
    tenant = make_tenant(agents=0)
    for args, code in BAD_INPUT:
        with pytest.raises(periods.ReportError) as refused:
            run(app, tenant, **args)
        assert (refused.value.code, refused.value.status) == (code, 400), args


def test_buckets_follow_the_tenant_clock_across_daylight_saving():
    period = periods.parse_period({"from": "2026-03-29", "to": "2026-03-29", "granularity": "hour"}, "Europe/Paris")
    labels = period.bucket_labels()
    assert len(labels) == 23 and "2026-03-29 02:00" not in labels  # the hour that does not exist
    weeks = periods.parse_period({"from": "2026-03-01", "to": "2026-03-31", "granularity": "week"}, "UTC")
    assert weeks.bucket_labels() == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23",
                                     "2026-03-30"]
