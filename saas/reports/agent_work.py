"""Agent work pages: the per-agent and per-department table, one agent's drill-down, and the
real-time board (its live part is the /agent socket event ``board:watch``)."""
from flask import abort, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from tenants import tenant_session

from ..auth.sessions import role_required
from ..i18n import translated
from ..models import ADMIN_ROLES, Conversation, User, utcnow
from ..models.conversations import AGENT_HANDLER, OPEN
from ..models.reception import CHANNELS
from ..services import routing
from ..services.reports import agent_work
from ..services.reports.period import ReportError, parse_channel, parse_period, tenant_time_zone
from . import bp

def duration(seconds) -> str:
    """Seconds as a person reads them: 45 s, 3 min 20 s, 2 h 05 min."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def show(column, value) -> str:
    """A figure as the page shows it: durations in minutes and hours, percentages with their sign."""
    if value is None or column.key not in agent_work.DURATIONS | {"satisfaction_mean"}:
        return column.display(value)
    return f"{value:.1f}%" if column.key == "satisfaction_mean" else duration(value)


def count_axis(title: str, values) -> dict:
    """A y axis of whole numbers: small counts get a tick per unit instead of 0.5 steps."""
    axis = {"title": {"text": title}, "rangemode": "tozero", "tickformat": ",d"}
    if max(values, default=0) <= 10:
        axis["dtick"] = 1
    return axis


def report_period():
    """The page's period from its query string, in the tenant's time zone; bad input is a 400 page."""
    session = tenant_session()
    try:
        return parse_period(request.args, tenant_time_zone(session))
    except ReportError as exc:
        abort(400, description=exc.message)


def report_channel() -> str | None:
    """The page's channel filter (none: every channel); an unknown channel is a 400 page."""
    try:
        return parse_channel(request.args)
    except ReportError as exc:
        abort(400, description=exc.message)


def work_chart(rows: list[dict], title: str) -> dict:
    """Received and missed per row, with the mean first response on a second axis."""
    # The row without an id is "No department" (a msgid); the others are names as stored.
    labels = [translated(row["label"]) if row["id"] is None else row["label"] for row in rows]
    return {
        "data": [
            {"type": "bar", "name": gettext("Received"), "x": labels, "y": [row["received"] for row in rows]},
            {"type": "bar", "name": gettext("Missed"), "x": labels, "y": [row["missed"] for row in rows]},
            {"type": "scatter", "mode": "markers", "name": gettext("First response, mean (s)"), "x": labels,
             "y": [row["first_response_mean"] for row in rows], "yaxis": "y2", "marker": {"size": 10}},
        ],
        "layout": {
            "title": {"text": title}, "barmode": "group", "legend": {"orientation": "h"},
            "xaxis": {"type": "category", "automargin": True},
            "yaxis": count_axis(gettext("conversations"), [row["received"] for row in rows]),
            "yaxis2": {"title": {"text": gettext("seconds")}, "overlaying": "y", "side": "right",
                       "rangemode": "tozero"},
            "margin": {"t": 50},
        },
    }


@bp.route("/agents")
@role_required(*ADMIN_ROLES)
def agents():
    period, channel = report_period(), report_channel()
    report = agent_work.report(tenant_session(), period, channel=channel)
    return render_template(
        "reports/agents.html", period=period, report=report, work_columns=agent_work.WORK_COLUMNS,
        presence_columns=agent_work.PRESENCE_COLUMNS, channel_columns=agent_work.CHANNEL_COLUMNS, show=show,
        export_query=request.query_string.decode(), channel=channel, channels=CHANNELS,
        filter_args=agent_work.query_args(period, channel),
        agents_chart=work_chart(report.agents, gettext("Conversations per agent")),
        departments_chart=work_chart(report.departments, gettext("Conversations per department")),
    )


@bp.route("/agents/<int:agent_id>")
@role_required(*ADMIN_ROLES)
def agent_detail(agent_id: int):
    """One agent: their figures, their presence over the period, and what they hold now."""
    session = tenant_session()
    agent = session.get(User, agent_id)
    if agent is None:
        abort(404, description="No such agent in this workspace.")
    period, channel = report_period(), report_channel()
    report = agent_work.report(session, period, channel=channel)
    row = next((r for r in report.agents if r["id"] == agent_id), None)
    intervals = agent_work.presence_intervals(session, period, agent_id)
    zone, now = period.zone, utcnow()
    stretches = [{"state": i.state, "start": max(i.started_at, period.start).astimezone(zone),
                  "end": (min(i.ended_at, period.end).astimezone(zone) if i.ended_at else None),
                  "seconds": agent_work.clipped_seconds(i, period, now)} for i in intervals]
    holding = session.scalars(select(Conversation).where(
        Conversation.assigned_agent_id == agent_id, Conversation.status == OPEN,
        Conversation.handler == AGENT_HANDLER).order_by(Conversation.created_at)).all()
    return render_template(
        "reports/agent_detail.html", period=period, agent=agent, row=row, stretches=stretches,
        holding=holding, load=len(holding), capacity=routing.capacity(session, agent),
        work_columns=agent_work.WORK_COLUMNS + agent_work.PRESENCE_COLUMNS, show=show, duration=duration,
        presence_chart=_presence_chart(stretches, period), channel=channel, channels=CHANNELS,
        filter_args=agent_work.query_args(period, channel),
    )


def _wall_clock(moment) -> str:
    # Plotly ignores UTC offsets in dates: it is given the tenant's local time, written without one.
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _presence_chart(stretches: list[dict], period) -> dict:
    """Online, away and offline as bars along the period's time axis (local time)."""
    colours = {"online": "#2e7d32", "away": "#f9a825", "offline": "#9e9e9e"}
    data = []
    for state, colour in colours.items():
        mine = [s for s in stretches if s["state"] == state]
        data.append({
            "type": "bar", "orientation": "h", "name": state, "marker": {"color": colour},
            "y": ["presence"] * len(mine), "base": [_wall_clock(s["start"]) for s in mine],
            "x": [s["seconds"] * 1000 for s in mine],
        })
    return {"data": data, "layout": {
        "title": {"text": gettext("Presence (%(zone)s)", zone=period.time_zone)}, "barmode": "overlay", "height": 220,
        "xaxis": {"type": "date", "range": [_wall_clock(period.start.astimezone(period.zone)),
                                            _wall_clock(period.end.astimezone(period.zone))]},
        "yaxis": {"visible": False}, "legend": {"orientation": "h"}, "margin": {"t": 50},
    }}


@bp.route("/board")
@role_required(*ADMIN_ROLES)
def board():
    """The page only: the figures come over the socket (``board:watch``), then live."""
    return render_template("reports/board.html")
