"""Bot report: resolved alone, hand-off rate, outcomes and unanswered questions, exact on both databases."""
from saas.services.reports import bot
from tenants import tenant_context, tenant_session
from tests.agent_report_helpers import PERIOD, at, records_history


def test_bot_report_by_hand(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        records_history(tenant_session(), tenant.agents[0].id)
        report = bot.report(tenant_session(), PERIOD)
    # Bot conversations started on the day: bot_alone (closed, never handed over), both (handed over),
    # bot_open (still open: not resolved). Yesterday's does not count.
    assert (report["conversations"], report["resolved_alone"], report["resolved_rate"]) == (3, 1, 33.3)
    assert (report["handed_over"], report["handoff_rate"]) == (1, 33.3)
    assert report["series"] == [{"bucket": "2026-03-10", "conversations": 3, "handed_over": 1, "resolved_alone": 1}]
    assert report["channels"] == [
        {"channel": "web", "conversations": 2, "resolved_alone": 0, "resolved_rate": 0.0, "handed_over": 1,
         "handoff_rate": 50.0},
        {"channel": "app", "conversations": 1, "resolved_alone": 1, "resolved_rate": 100.0, "handed_over": 0,
         "handoff_rate": 0.0}]
    assert report["outcomes"] == {"answered": 1, "suggested": 1, "fallback": 3, "handed_over": 1}
    assert report["turns"] == 6 and report["ratings"] == {"helpful": 1, "not_helpful": 1}
    # The same question in other case and spacing is one row, shown as last asked.
    assert [(row["question"], row["times"], row["last_asked"]) for row in report["unanswered"]] == [
        ("do you  ship to mars?", 2, at(201)), ("Where is my parcel", 1, at(401))]


def test_bot_report_of_one_channel(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        records_history(tenant_session(), tenant.agents[0].id)
        report = bot.report(tenant_session(), PERIOD, channel="app")
    # Only bot_alone came by the app: its two turns, and its one unanswered question.
    assert (report["conversations"], report["resolved_alone"], report["handed_over"]) == (1, 1, 0)
    assert [row["channel"] for row in report["channels"]] == ["app"]
    assert report["outcomes"] == {"answered": 1, "suggested": 0, "fallback": 1, "handed_over": 0}
    assert report["turns"] == 2 and report["ratings"] == {"helpful": 1, "not_helpful": 0}
    assert [(row["question"], row["times"]) for row in report["unanswered"]] == [("Do you ship to Mars?", 1)]


def test_bot_report_of_an_empty_period_is_zeros(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        report = bot.report(tenant_session(), PERIOD)
    assert (report["conversations"], report["resolved_rate"], report["handoff_rate"], report["unanswered"]) == \
        (0, None, None, [])
    assert report["series"][0]["conversations"] == 0
