"""Report pages. Each page validates its query string, calls a service in saas/services/reports/ and renders."""
from urllib.parse import parse_qsl

from flask import abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from tenants import current_tenant, tenant_session

from ..auth.sessions import role_required
from ..file_responses import json_errors
from ..models import ADMIN_ROLES
from ..models.reports import EXPORT_DONE
from ..services.errors import ServiceError
from ..services.reports import custom, exports, sources
from ..services.reports.period import GRANULARITIES, parse_period, tenant_time_zone
from . import bp


def _refused(exc: ServiceError):
    abort(exc.status, description=exc.message)


def _posted_query() -> MultiDict:
    """The query string of the report page a form was posted from (its hidden ``query`` field)."""
    return MultiDict(parse_qsl(request.form.get("query", "")[:8192]))


@bp.route("/")
@role_required(*ADMIN_ROLES)
def index():
    return redirect(url_for("reports.sources_report"))


@bp.route("/sources")
@role_required(*ADMIN_ROLES)
def sources_report():
    session = tenant_session()
    try:
        period = parse_period(request.args, tenant_time_zone(session))
        query = sources.parse_query(request.args, period)
    except ServiceError as exc:
        _refused(exc)
    table = sources.source_report(session, query)
    title = gettext("Visits and conversations by %(dimension)s",
                    dimension=gettext(sources.DIMENSIONS[query.dimension]).lower())
    return render_template("reports/sources.html", period=period, query=query, table=table,
                           figure=table.chart(title), title=title, dimensions=sources.DIMENSIONS,
                           filter_names=sources.SESSION_ATTRIBUTES, export_query=request.query_string.decode())


@bp.route("/custom")
@role_required(*ADMIN_ROLES)
def custom_report():
    session = tenant_session()
    table = figure = definition = None
    try:
        period = parse_period(request.args, tenant_time_zone(session))
        if request.args.getlist("metric"):
            definition = custom.definition_from_args(request.args)
    except ServiceError as exc:
        _refused(exc)
    if definition is not None:
        table = custom.run_report(session, definition, period)
        title = ", ".join(gettext(column.label) for column in table.metric_columns)
        figure = custom.chart(table, definition, title)
    return render_template("reports/custom.html", period=period, definition=definition, table=table, figure=figure,
                           dimensions=custom.DIMENSIONS, metrics=custom.METRICS, granularities=GRANULARITIES,
                           saved=custom.saved_reports(session), export_query=request.query_string.decode())


@bp.route("/custom/saved", methods=["POST"])
@role_required(*ADMIN_ROLES)
def save_custom_report():
    args = _posted_query()
    try:
        definition = custom.definition_from_args(args)
        custom.save_report(tenant_session(), current_user.id, request.form.get("name"),
                           {**definition.as_dict(), "granularity": args.get("granularity")})
    except ServiceError as exc:
        _refused(exc)
    return redirect(url_for("reports.custom_report", **args.to_dict(flat=False)), 303)


@bp.route("/custom/saved/<int:report_id>")
@role_required(*ADMIN_ROLES)
def saved_custom_report(report_id: int):
    try:
        report = custom.saved_report(tenant_session(), report_id)
    except ServiceError as exc:
        _refused(exc)
    definition = report.definition
    args = MultiDict([("dimension", name) for name in definition["dimensions"]]
                     + [("metric", name) for name in definition["metrics"]]
                     + [(f"f.{name}", value) for name, value in definition["filters"].items()]
                     + [("granularity", definition.get("granularity") or "day")]
                     + [(name, request.args[name]) for name in ("from", "to") if request.args.get(name)])
    return redirect(url_for("reports.custom_report", **args.to_dict(flat=False)))


@bp.route("/custom/saved/<int:report_id>/delete", methods=["POST"])
@role_required(*ADMIN_ROLES)
def delete_custom_report(report_id: int):
    try:
        custom.delete_report(tenant_session(), report_id)
    except ServiceError as exc:
        _refused(exc)
    return redirect(url_for("reports.custom_report"), 303)


@bp.route("/exports", methods=["GET"])
@role_required(*ADMIN_ROLES)
def export_list():
    return render_template("reports/exports.html", exports=exports.recent_exports(tenant_session()), highlight=None)


@bp.route("/exports", methods=["POST"])
@role_required(*ADMIN_ROLES)
def start_export():
    """The export form of a report page: its kind, the page's query string and the format."""
    session = tenant_session()
    kind = request.form.get("kind", "")
    try:
        parameters = exports.parameters_for(session, kind, _posted_query())
        export = exports.start_export(session, current_tenant, current_user.id, kind, parameters,
                                      request.form.get("format", ""), address=request.remote_addr)
    except ServiceError as exc:
        _refused(exc)
    return redirect(url_for("reports.export_page", public_id=export.public_id), 303)


@bp.route("/exports/<public_id>")
@role_required(*ADMIN_ROLES)
def export_page(public_id: str):
    session = tenant_session()
    try:
        export = exports.find_export(session, public_id)
    except ServiceError as exc:
        _refused(exc)
    return render_template("reports/exports.html", exports=exports.recent_exports(session), highlight=export)


@bp.route("/exports/<public_id>/status")
@role_required(*ADMIN_ROLES)
@json_errors
def export_status(public_id: str):
    export = exports.find_export(tenant_session(), public_id)
    return jsonify({"ok": True, "export": exports.status_dict(export),
                    "download": url_for("reports.export_download", public_id=public_id)
                    if export.status == EXPORT_DONE else None})


@bp.route("/exports/<public_id>/download")
@role_required(*ADMIN_ROLES)
def export_download(public_id: str):
    try:
        export = exports.find_export(tenant_session(), public_id)
    except ServiceError as exc:
        _refused(exc)
    path = exports.export_path(current_tenant, export)
    if export.status != EXPORT_DONE or not path.is_file():
        abort(409, description="This export is not ready yet.")
    name = f"{current_tenant.slug}-{export.kind}-{export.created_at:%Y%m%d-%H%M}.{export.file_format}"
    response = send_file(path, mimetype=exports.FORMATS[export.file_format], as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
