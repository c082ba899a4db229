"""Exports of any report (and, through the same job, of conversation records) to CSV and XLSX.

An export is a row in ``report_exports`` naming a *kind* and its validated parameters; a background
job (``workers.enqueue``: RQ with Redis, a greenlet without) writes the file under the tenant's
files root, counting rows as it goes so the page can show progress. CSV is written row by row and
XLSX through openpyxl's write-only mode, so memory stays flat whatever the size. Text cells that a
spreadsheet would run as a formula get a leading apostrophe."""
import csv
import importlib
import json
import logging
import secrets
from dataclasses import replace
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from saas.models import ReportExport, User, utcnow
from saas.models.reports import EXPORT_DONE, EXPORT_FAILED, EXPORT_QUEUED, EXPORT_RUNNING
from saas.i18n import translate
from saas.services import audit, languages
from saas.services.errors import NotFound
from saas.services.knowledge_base import _spreadsheet_safe as spreadsheet_safe
from tenants import TenantRef, current_tenant, tenant_session
from workers import enqueue

from .period import ReportError
from .table import ExportRows

log = logging.getLogger(__name__)
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PROGRESS_EVERY = 5000  # rows between progress commits: often enough for the bar, rare enough to be cheap
EXPORTS_FOLDER = "exports"
RECENT_EXPORTS = 20
# kind -> module with ``export_parameters(session, args) -> dict`` (checks a page's query string)
# and ``export_rows(session, parameters) -> ExportRows`` (what the job writes).
KINDS = {
    "sources": "saas.services.reports.sources",
    "custom": "saas.services.reports.custom",
    "agent_work": "saas.services.reports.agent_work",
    "records": "saas.services.reports.records",
}


def _kind(kind: str):
    if kind not in KINDS:
        raise ReportError("unknown_export", "Unknown export %(kind)r.", kind=str(kind)[:40])
    return importlib.import_module(KINDS[kind])


def parameters_for(session: Session, kind: str, args) -> dict:
    """The validated parameters of ``kind`` from the query string of the page being exported."""
    return _kind(kind).export_parameters(session, args)


def rows_for(session: Session, kind: str, parameters: dict) -> ExportRows:
    return _kind(kind).export_rows(session, parameters)


def export_path(tenant: TenantRef, export: ReportExport) -> Path:
    root = current_app.extensions["switchboard_tenants"].files_root(tenant)
    return root / EXPORTS_FOLDER / f"{export.public_id}.{export.file_format}"


def create_export(session: Session, user_id: int, kind: str, parameters: dict, file_format: str, *,
                  address: str | None = None) -> ReportExport:
    """The export's row, for ``parameters`` from ``parameters_for``, audited with what it exports;
    ``start_export`` also queues it."""
    if file_format not in FORMATS:
        raise ReportError("invalid_format", "Export as csv or xlsx.")
    export = ReportExport(public_id=secrets.token_hex(16), kind=kind, parameters=parameters,
                          file_format=file_format, status=EXPORT_QUEUED, created_by_id=user_id)
    session.add(export)
    audit.record(session, audit.EXPORT_REQUESTED, actor=session.get(User, user_id), address=address,
                 target=f"report export {export.public_id} ({kind}, {file_format})",
                 detail=json.dumps(parameters, sort_keys=True, default=str))
    session.commit()
    return export


def start_export(session: Session, tenant: TenantRef, user_id: int, kind: str, parameters: dict,
                 file_format: str, *, address: str | None = None) -> ReportExport:
    export = create_export(session, user_id, kind, parameters, file_format, address=address)
    enqueue("saas.services.reports.exports.run_export", tenant, export.id)
    return export


def run_export(export_id: int) -> None:
    """The job: write the file, then mark the export done (or failed, and fail the job)."""
    session = tenant_session()
    export = session.get(ReportExport, export_id)
    export.status = EXPORT_RUNNING
    session.commit()
    path = export_path(current_tenant, export)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    try:
        source = rows_for(session, export.kind, export.parameters)
        export.rows_total = source.total
        session.commit()
        writer = _write_xlsx if export.file_format == "xlsx" else _write_csv
        written = writer(partial, _headed_for_asker(session, export, source),
                         lambda count: _progress(session, export_id, count))
        partial.replace(path)
        session.execute(update(ReportExport).where(ReportExport.id == export_id)
                        .values(status=EXPORT_DONE, rows_written=written, rows_total=written, finished_at=utcnow()))
        session.commit()
    except Exception as exc:
        session.rollback()
        partial.unlink(missing_ok=True)
        session.execute(update(ReportExport).where(ReportExport.id == export_id)
                        .values(status=EXPORT_FAILED, error=str(exc)[:500], finished_at=utcnow()))
        session.commit()
        raise


def _progress(session: Session, export_id: int, count: int) -> None:
    session.execute(update(ReportExport).where(ReportExport.id == export_id).values(rows_written=count))
    session.commit()


def _cells(columns: list, row: dict) -> list:
    return [spreadsheet_safe(value) if isinstance(value, str) else value
            for value in (row.get(column.key) for column in columns)]


def _headed_for_asker(session: Session, export: ReportExport, source: ExportRows) -> ExportRows:
    """``source`` with its column names in the language of the admin who asked: their profile's,
    else the workspace's (the job has no browser to ask). Cells stay as stored, whoever asked."""
    asker = session.get(User, export.created_by_id) if export.created_by_id is not None else None
    language = languages.staff_language(session, asker, ())
    columns = [replace(column, label=translate(language, column.label)) for column in source.columns]
    return replace(source, columns=columns)


def _write_csv(path: Path, source: ExportRows, progress) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([column.label for column in source.columns])
        for count, row in enumerate(source.rows, start=1):
            writer.writerow(_cells(source.columns, row))
            if count % PROGRESS_EVERY == 0:
                progress(count)
    return count


def _write_xlsx(path: Path, source: ExportRows, progress) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    sheet.append([column.label for column in source.columns])
    count = 0
    for count, row in enumerate(source.rows, start=1):
        sheet.append(_cells(source.columns, row))
        if count % PROGRESS_EVERY == 0:
            progress(count)
    workbook.save(path)
    return count


def find_export(session: Session, public_id) -> ReportExport:
    export = session.scalar(select(ReportExport).where(ReportExport.public_id == str(public_id)[:32]))
    if export is None:
        raise NotFound("export_not_found", "No such export in this workspace.")
    return export


def recent_exports(session: Session) -> list[ReportExport]:
    return list(session.scalars(select(ReportExport).order_by(ReportExport.id.desc()).limit(RECENT_EXPORTS)))


def status_dict(export: ReportExport) -> dict:
    return {"id": export.public_id, "kind": export.kind, "format": export.file_format, "status": export.status,
            "rows_written": export.rows_written, "rows_total": export.rows_total, "error": export.error}
