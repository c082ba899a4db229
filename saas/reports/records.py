"""Conversation records: the search page and one conversation's full transcript."""
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from sqlalchemy import select

from tenants import tenant_session

from ..auth.sessions import role_required
from ..models import ADMIN_ROLES, Department, User
from ..models.reception import CHANNELS
from ..services.errors import NotFound
from ..services.reports import records as records_service
from ..services.reports.period import ReportError, tenant_time_zone
from . import bp
from .agent_work import report_period


@bp.route("/records")
@role_required(*ADMIN_ROLES)
def records():
    session = tenant_session()
    period = report_period()
    try:
        filters = records_service.parse_filters(request.args)
    except ReportError as exc:
        abort(400, description=exc.message)
    found = records_service.search(session, period, filters)
    return render_template(
        "reports/records.html", period=period, filters=filters, found=found, channels=CHANNELS,
        handled_by_choices=records_service.HANDLED_BY,
        agents=session.execute(select(User.id, User.display_name).order_by(User.display_name)).all(),
        departments=session.execute(select(Department.id, Department.name).order_by(Department.name)).all(),
    )


@bp.route("/records/<int:conversation_id>")
@role_required(*ADMIN_ROLES)
def record(conversation_id: int):
    session = tenant_session()
    try:
        transcript = records_service.transcript(session, conversation_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    zone = ZoneInfo(tenant_time_zone(session))
    return render_template("reports/record.html", zone=zone, **transcript)
