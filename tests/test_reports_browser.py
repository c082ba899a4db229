"""The report builder in a real browser: pick a dimension and a metric, see the Plotly chart and the
table, save the report, export it and download the file; no script errors (the CSP allows no inline
script, so the chart must come from the static module)."""
import pytest

from tests.conftest import browser_log_in
from tests.report_helpers import seed_sources
from tests.test_reports_export import _drain_queue

pytestmark = pytest.mark.browser


def test_build_chart_save_and_export(app, backend, server, make_tenant, page_for):
    tenant = make_tenant(agents=0)
    seed_sources(app, tenant)
    page = page_for()
    page.set_default_timeout(30_000)  # plotly.min.js is 4.8 MB, parsed on every report page
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    browser_log_in(page, server, tenant, tenant.owner)

    page.goto(f"{server.url}/t/{tenant.slug}/reports/custom?from=2026-03-01&to=2026-03-31")
    page.select_option("select[name=dimension] >> nth=0", "channel")
    page.check("input[name=metric][value=conversations]")
    page.select_option("select.filter-name >> nth=0", "source_kind")
    page.fill("input.filter-value >> nth=0", "search")
    page.click("text=Show report")
    page.wait_for_selector(".chart[data-drawn] .main-svg")
    assert "f.source_kind=search" in page.url
    cells = page.locator(".report-table tbody tr").all_inner_texts()
    assert [" ".join(cell.split()) for cell in cells] == ["Website 2"]  # the channel by its name
    assert page.locator(".chart .xtick text").all_text_contents() == ["Website"]

    page.fill("input[name=name]", "Search chats by channel")
    page.click("text=Save report")
    page.wait_for_selector(".chart[data-drawn]")
    assert page.locator(".saved-reports a").all_inner_texts() == ["Search chats by channel"]

    page.click("button[value=csv]")
    page.wait_for_selector(".export-progress")
    _drain_queue(backend)
    with page.expect_download() as download:
        page.click(".export-progress a.button")
    assert open(download.value.path(), encoding="utf-8").read().splitlines() == [
        "Channel,Conversations", "web,2", "Total,2"]
    assert problems == []
