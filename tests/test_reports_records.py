"""Conversation records: every filter on a hand-made history (both databases), the transcript page,
and bad input: bad filters, another tenant's conversation, agents."""
import pytest

from saas.services.reports import records
from saas.services.reports.period import ReportError
from tenants import tenant_context, tenant_session
from tests.agent_report_helpers import PERIOD, records_history
from tests.clients import TIMEOUT, login


@pytest.fixture
def history(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        ids = records_history(tenant_session(), tenant.agents[0].id)
    return tenant, ids


def _found(app, tenant, **args):
    with app.app_context(), tenant_context(tenant.ref):
        result = records.search(tenant_session(), PERIOD, records.parse_filters(args))
    return [row["id"] for row in result["records"]]


def test_filters_by_hand(app, history):
    tenant, ids = history
    newest_first = [ids[k] for k in ("bot_open", "nobody", "both", "bot_alone", "human")]
    assert _found(app, tenant) == newest_first  # not yesterday's
    assert _found(app, tenant, handled_by="bot") == [ids["bot_open"], ids["bot_alone"]]
    assert _found(app, tenant, handled_by="human") == [ids["human"]]
    assert _found(app, tenant, handled_by="both") == [ids["both"]]
    assert _found(app, tenant, handled_by="nobody") == [ids["nobody"]]
    assert _found(app, tenant, channel="app") == [ids["bot_alone"]]
    assert _found(app, tenant, agent=str(tenant.agents[0].id)) == [ids["both"], ids["human"]]
    assert _found(app, tenant, department=str(ids["support"])) == [ids["human"]]
    assert _found(app, tenant, rating="5") == [ids["human"]]
    assert _found(app, tenant, tag="Slow") == [ids["both"]]
    assert _found(app, tenant, tag="Quick", rating="5") == [ids["human"]]
    assert _found(app, tenant, tag="Qu") == []  # whole tags only
    assert _found(app, tenant, q="invoice") == [ids["human"]]
    assert _found(app, tenant, q="50%") == [ids["nobody"]]
    assert _found(app, tenant, q="%") == [ids["nobody"]]  # a literal percent sign, not a wildcard
    assert _found(app, tenant, q="_") == [ids["both"]]  # only the bot message "(bot) handed_over"
    with app.app_context(), tenant_context(tenant.ref):
        page = records.search(tenant_session(), PERIOD, records.parse_filters({"page": "2"}), page_size=2)
    assert ([r["id"] for r in page["records"]], page["total"], page["pages"]) == (newest_first[2:4], 5, 3)
    assert [r["handled_by"] for r in page["records"]] == ["both", "bot"]


@pytest.mark.parametrize("args", [{"channel": "fax"}, {"handled_by": "robots"}, {"rating": "6"}, {"rating": "x"},
                                  {"agent": "-1"}, {"page": "0"}, {"q": "x" * 201}, {"tag": "t" * 41},
                                  {"department": "99999999999"}])
def test_bad_filters_are_refused(args):
    with pytest.raises(ReportError):
        records.parse_filters(args)


def test_records_pages_transcript_and_refusals(server, app, make_tenant, history):
    tenant, ids = history
    other = make_tenant()
    with app.app_context(), tenant_context(other.ref):
        foreign = records_history(tenant_session(), other.agents[0].id)["human"] + 1000
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    base = f"{server.url}/t/{tenant.slug}/reports"
    page = owner.get(base + "/records?from=2026-03-10&to=2026-03-10&handled_by=human", timeout=TIMEOUT)
    assert page.status_code == 200 and f"#{ids['human']}</a>" in page.text and "1 conversation<" in page.text
    assert f"#{ids['both']}</a>" not in page.text
    empty = owner.get(base + "/records?from=2026-03-11&to=2026-03-11", timeout=TIMEOUT)
    assert "No conversation matches" in empty.text

    transcript = owner.get(base + f"/records/{ids['human']}", timeout=TIMEOUT)
    assert transcript.status_code == 200
    for shown in ("My INVOICE is wrong", "Let me check", "Needs a refund &lt;b&gt;today&lt;/b&gt;", "transferred",
                  "5 stars", "Helpful, Quick", "https://shop.test/pricing", "Ada Visitor"):
        assert shown in transcript.text, shown
    bot_page = owner.get(base + f"/records/{ids['both']}", timeout=TIMEOUT).text
    assert "do you  ship to mars?" in bot_page and "handed over" in bot_page and "unsatisfied" in bot_page

    for path in ("/records/999999", f"/records/{foreign}"):
        assert owner.get(base + path, timeout=TIMEOUT).status_code == 404, path
    assert owner.get(base + "/records?channel=fax", timeout=TIMEOUT).status_code == 400
    assert owner.get(base + "/records?from=yesterday", timeout=TIMEOUT).status_code == 400
    agent = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent.get(base + "/records", timeout=TIMEOUT).status_code == 403
    assert agent.get(base + f"/records/{ids['human']}", timeout=TIMEOUT).status_code == 403
    bot_report = owner.get(base + "/bot?from=2026-03-10&to=2026-03-10", timeout=TIMEOUT)
    assert bot_report.status_code == 200 and "Where is my parcel" in bot_report.text
    assert agent.get(base + "/bot", timeout=TIMEOUT).status_code == 403
    day = "?from=2026-03-10&to=2026-03-10"
    work = owner.get(base + "/agents" + day, timeout=TIMEOUT)
    assert work.status_code == 200 and "Support" in work.text and 'class="chart"' in work.text
    detail = owner.get(base + f"/agents/{tenant.agents[0].id}" + day, timeout=TIMEOUT)
    assert detail.status_code == 200 and "Reception status" in detail.text and "19 s" in detail.text  # mean response: 1 s to 20 s


def test_records_and_agent_work_exports_write_every_match(app, history):
    from saas.services.reports import exports

    tenant, ids = history
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        parameters = exports.parameters_for(session, "records", {"from": "2026-03-10", "to": "2026-03-10",
                                                                 "handled_by": "human", "page": "3"})
        assert parameters == {"from": "2026-03-10", "to": "2026-03-10", "granularity": "day", "handled_by": "human"}
        written = exports.rows_for(session, "records", parameters)
        rows = list(written.rows)
        assert written.total == 1 and [(r["id"], r["created_at"], r["closed_at"], r["tags"]) for r in rows] == \
            [(ids["human"], "2026-03-10 10:00:00", "2026-03-10 10:00:40", "Helpful, Quick")]
        with pytest.raises(ReportError):
            exports.parameters_for(session, "records", {"channel": "fax"})
        work = exports.rows_for(session, "agent_work", exports.parameters_for(
            session, "agent_work", {"from": "2026-03-10", "to": "2026-03-10"}))
        by_name = {(r["row"], r["label"]): r for r in work.rows}
        # Waits: "human" queued, queued again by its transfer (then closed unanswered), "both" handed over.
        assert (by_name[("total", "All agents")]["received"], by_name[("total", "All agents")]["missed"]) == (3, 1)
        assert by_name[("agent", "Agent 0")]["received"] == 2
        assert by_name[("department", "Support")]["tags"] == "Helpful (1), Quick (1)"
