"""Exports: CSV and XLSX read back equal the report on screen, formula cells are defused, the job
runs through the queue (a real RQ worker on PostgreSQL) with progress, and files stay in their tenant."""
import csv
import json
import time
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from saas.models import AuditEvent, VisitSession
from saas.services.reports import exports, sources
from saas.services.reports import period as periods
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT, csrf_token, login
from tests.report_helpers import MARCH, seed_sources
from tests.rq_helpers import drain_queue

SOURCES_ARGS = {**MARCH, "dimension": "utm_campaign"}


def _export(app, tenant, kind: str, args: dict, file_format: str, rows: int) -> tuple[Path, object]:
    """Create and run an export in this process, as the worker would; returns the file and the table."""
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        parameters = exports.parameters_for(session, kind, MultiDict(args))
        export = exports.create_export(session, tenant.owner.id, kind, parameters, file_format)
        exports.run_export(export.id)
        session.refresh(export)
        assert (export.status, export.rows_written) == ("done", rows)
        return exports.export_path(tenant.ref, export), exports.rows_for(session, kind, parameters)


@pytest.fixture
def shop(app, make_tenant):
    tenant = make_tenant(agents=0)
    visits = seed_sources(app, tenant)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(VisitSession, visits["s2"]).utm_campaign = '=HYPERLINK("http://evil.example","click")'
        session.commit()
    return tenant


def test_csv_and_xlsx_hold_the_report_as_shown_with_formulas_defused(app, shop):
    csv_path, shown = _export(app, shop, "sources", SOURCES_ARGS, "csv", rows=4)  # 3 campaigns (one is none), total
    with open(csv_path, newline="", encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[0] == [column.label for column in shown.columns]
    expected = [[("'" + value if isinstance(value, str) and value.startswith("=") else
                  "" if value is None else str(value)) for value in (row[c.key] for c in shown.columns)]
                for row in shown.rows]
    assert written[1:] == expected
    assert written[-1][:3] == ["Total", "3", "5"]
    assert ["'=HYPERLINK(\"http://evil.example\",\"click\")", "1", "1", "1", "0", "0.0"] in written

    xlsx_path, _ = _export(app, shop, "sources", SOURCES_ARGS, "xlsx", rows=4)
    sheet = load_workbook(xlsx_path, read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == [column.label for column in shown.columns]
    assert cells[1:] == [[("'" + v if isinstance(v, str) and v.startswith("=") else v)
                          for v in (row[c.key] for c in shown.columns)] for row in shown.rows]


def test_custom_report_export_and_bad_requests(app, shop):
    path, shown = _export(app, shop, "custom", {**MARCH, "dimension": "channel", "metric": "conversations"}, "csv", rows=3)
    assert path.read_text().splitlines() == ["Channel,Conversations", "web,2", "mobile_web,1", "Total,3"]
    with app.app_context(), tenant_context(shop.ref):
        session = tenant_session()
        for kind, args, code in [("passwords", MARCH, "unknown_export"),
                                 ("sources", {"from": "2026-03-31", "to": "2026-03-01"}, "inverted_range"),
                                 ("custom", {**MARCH, "metric": "revenue"}, "unknown_metric")]:
            with pytest.raises(periods.ReportError) as refused:
                exports.parameters_for(session, kind, MultiDict(args))
            assert refused.value.code == code
        with pytest.raises(periods.ReportError):
            exports.create_export(session, shop.owner.id, "sources", {}, "pdf")
        with pytest.raises(periods.ReportError):  # a tampered row is checked again by the job
            sources.export_rows(session, {"from": "2026-03-01", "filters": {"password_hash": "x"}})


def _drain_queue(backend) -> None:
    """On PostgreSQL the server queues the job in Redis: a real RQ worker runs it, as in production."""
    if backend.name == "postgresql":
        drain_queue(backend.env)


def test_export_over_http_with_progress_download_and_tenant_walls(app, backend, server, shop, make_tenant):
    other = make_tenant(agents=1)
    base = f"{server.url}/t/{shop.slug}/reports"
    http = login(server.url, shop.slug, shop.owner.email, shop.owner.password)
    page = http.get(f"{base}/sources", params=SOURCES_ARGS, timeout=TIMEOUT)
    assert page.status_code == 200 and "spring" in page.text and "data-figure" in page.text
    bad = http.get(f"{base}/sources", params={"from": "2026-03-31", "to": "2026-03-01"}, timeout=TIMEOUT)
    assert bad.status_code == 400 and "after it ends" in bad.text
    assert http.get(f"{base}/sources", params={"dimension": "nope"}, timeout=TIMEOUT).status_code == 400

    started = http.post(f"{base}/exports", data={"csrf_token": csrf_token(page.text), "kind": "sources",
                                                 "format": "csv", "query": "from=2026-03-01&to=2026-03-31&dimension=utm_campaign"},
                        allow_redirects=False, timeout=TIMEOUT)
    assert started.status_code == 303
    export_page = started.headers["Location"]
    public_id = export_page.rstrip("/").rsplit("/", 1)[1]
    _drain_queue(backend)
    deadline = time.monotonic() + 20
    while True:
        status = http.get(f"{base}/exports/{public_id}/status", timeout=TIMEOUT).json()
        if status["export"]["status"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["export"]["status"] == "done" and status["export"]["rows_written"] == 4
    download = http.get(server.url + status["download"] if status["download"].startswith("/") else status["download"],
                        timeout=TIMEOUT)
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.text.splitlines()[-1].startswith("Total,3,5,8,3,")
    with app.app_context(), tenant_context(shop.ref):
        audited = list(tenant_session().scalars(select(AuditEvent).order_by(AuditEvent.id)))
    [requested, downloaded] = [e for e in audited if e.kind in ("export_requested", "export_downloaded")]
    assert (requested.kind, requested.actor_id, requested.address) == ("export_requested", shop.owner.id, "127.0.0.1")
    assert requested.target == f"report export {public_id} (sources, csv)"
    assert json.loads(requested.detail)["dimension"] == "utm_campaign"
    assert downloaded.kind == "export_downloaded" and public_id in downloaded.target

    # An agent of the tenant, and an admin of another tenant, get nothing.
    agent_http = login(server.url, other.slug, other.agents[0].email, other.agents[0].password)
    assert agent_http.get(f"{server.url}/t/{other.slug}/reports/sources", timeout=TIMEOUT).status_code == 403
    stranger = login(server.url, other.slug, other.owner.email, other.owner.password)
    assert stranger.get(f"{server.url}/t/{other.slug}/reports/exports/{public_id}/download",
                        timeout=TIMEOUT).status_code == 404
    assert stranger.get(f"{base}/exports/{public_id}/download", timeout=TIMEOUT,
                        allow_redirects=False).status_code in (302, 403)
    anonymous = requests.get(f"{base}/exports/{public_id}/download", timeout=TIMEOUT, allow_redirects=False)
    assert anonymous.status_code in (302, 401)
