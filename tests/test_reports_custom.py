"""Custom reports: dimensions x metrics from several fact tables, exact figures on the hand-counted
dataset on SQLite and PostgreSQL, saved definitions, bad input, tenants kept apart."""
import pytest
from werkzeug.datastructures import MultiDict

from saas.services.errors import NotFound
from saas.services.reports import custom
from saas.services.reports import period as periods
from tenants import tenant_context, tenant_session
from tests.report_helpers import MARCH, seed_sources


def run(app, tenant, granularity="day", **definition):
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        period = periods.parse_period({**MARCH, "granularity": granularity}, periods.tenant_time_zone(session))
        return custom.run_report(session, custom.parse_definition(definition), period)


@pytest.fixture
def shop(app, make_tenant):
    tenant = make_tenant(agents=1)
    seed_sources(app, tenant)
    return tenant


def check_metrics_of_several_facts_by_channel(app, shop):
    table = run(app, shop, dimensions=["channel"],
                metrics=["conversations", "messages", "visits", "chat_conversion_rate"])
    # March in Paris: conversations 1-3 (the fourth started at 23:40 on 28 February), their 5 messages.
    assert table.rows == [
        {"channel": "web", "conversations": 2, "messages": 3, "visits": 4, "chat_conversion_rate": 0.25},
        {"channel": "mobile_web", "conversations": 1, "messages": 2, "visits": 1, "chat_conversion_rate": 1.0}]
    assert table.totals == {"channel": None, "conversations": 3, "messages": 5, "visits": 5,
                            "chat_conversion_rate": 0.4}


def check_time_buckets_in_the_tenants_zone_with_empty_buckets(app, shop):
    weekly = run(app, shop, granularity="week", dimensions=["time"], metrics=["conversations"])
    assert [(row["time"], row["conversations"]) for row in weekly.rows] == [
        ("2026-02-23", 0), ("2026-03-02", 3), ("2026-03-09", 0), ("2026-03-16", 0), ("2026-03-23", 0),
        ("2026-03-30", 0)]
    daily = run(app, shop, dimensions=["time"], metrics=["visits"])
    assert len(daily.rows) == 31
    assert {row["time"]: row["visits"] for row in daily.rows if row["visits"]} == {
        "2026-03-01": 1, "2026-03-02": 1, "2026-03-03": 1, "2026-03-04": 1, "2026-03-05": 1}
    figure = custom.chart(daily, custom.parse_definition({"dimensions": ["time"], "metrics": ["visits"]}), "Visits")
    assert figure["data"][0]["type"] == "scatter" and figure["data"][0]["x"][0] == "2026-03-01"


def check_agents_ratings_and_filters(app, shop):
    table = run(app, shop, dimensions=["agent"], metrics=["conversations", "ratings", "average_rating"])
    assert table.rows == [
        {"agent": None, "conversations": 2, "ratings": 1, "average_rating": 3.0},
        {"agent": "Agent 0", "conversations": 1, "ratings": 1, "average_rating": 5.0}]
    assert table.totals["average_rating"] == 4.0
    sales = run(app, shop, dimensions=["sender"], metrics=["messages"], filters={"department": "Sales"})
    assert sorted((row["sender"], row["messages"]) for row in sales.rows) == [("agent", 1), ("visitor", 1)]
    searched = run(app, shop, dimensions=["search_engine"], metrics=["conversations", "visitors"],
                   filters={"source_kind": "search"})
    assert searched.rows == [{"search_engine": "google", "conversations": 2, "visitors": 1},
                             {"search_engine": "bing", "conversations": 0, "visitors": 1}]


def test_figures_on_the_hand_counted_dataset(app, shop):
    """One tenant for every report of the same dataset: a tenant per check would cost more than the checks."""
    check_metrics_of_several_facts_by_channel(app, shop)
    check_time_buckets_in_the_tenants_zone_with_empty_buckets(app, shop)
    check_agents_ratings_and_filters(app, shop)


def test_builder_query_string_is_parsed():
    args = MultiDict([("dimension", "time"), ("dimension", "channel"), ("metric", "messages"), ("f.agent", "Ada"),
                      ("f.status", "")])
    assert custom.definition_from_args(args) == custom.Definition(("time", "channel"), ("messages",),
                                                                  (("agent", "Ada"),))


@pytest.mark.parametrize("definition, code", [
    ({"dimensions": ["password_hash"], "metrics": ["messages"]}, "unknown_dimension"),
    ({"dimensions": [], "metrics": ["revenue"]}, "unknown_metric"),
    ({"dimensions": [], "metrics": []}, "metrics_needed"),
    ({"dimensions": ["time", "channel", "agent"], "metrics": ["messages"]}, "too_many_dimensions"),
    ({"dimensions": ["agent"], "metrics": ["visits"]}, "incompatible"),
    ({"dimensions": [], "metrics": ["messages"], "filters": {"time": "x"}}, "unknown_filter"),
    ({"dimensions": "channel", "metrics": ["messages"]}, "invalid_dimensions"),
    ([], "invalid_definition"),
])
def test_bad_definitions_are_clear_errors(definition, code):
    with pytest.raises(periods.ReportError) as refused:
        custom.parse_definition(definition)
    assert refused.value.code == code


def test_saved_reports_stay_in_their_tenant(app, shop, make_tenant):
    other = make_tenant(agents=0)
    with app.app_context(), tenant_context(shop.ref):
        session = tenant_session()
        saved = custom.save_report(session, shop.owner.id, "Chats by channel",
                                   {"dimensions": ["channel"], "metrics": ["conversations"], "granularity": "week"})
        saved_id = saved.id
        assert [report.name for report in custom.saved_reports(session)] == ["Chats by channel"]
        assert custom.saved_report(session, saved_id).definition == {
            "dimensions": ["channel"], "metrics": ["conversations"], "filters": {}, "granularity": "week"}
        with pytest.raises(periods.ReportError):
            custom.save_report(session, shop.owner.id, " ", {"dimensions": [], "metrics": ["messages"]})
    with app.app_context(), tenant_context(other.ref):
        session = tenant_session()
        assert custom.saved_reports(session) == []
        with pytest.raises(NotFound):
            custom.saved_report(session, saved_id)
        assert run(app, other, dimensions=[], metrics=["conversations", "messages"]).totals == {
            "conversations": 0, "messages": 0}
