"""The bot's report page: resolved alone, hand-offs, answer outcomes and unanswered questions."""
from flask import render_template
from flask_babel import gettext

from tenants import tenant_session

from ..auth.sessions import role_required
from ..models import ADMIN_ROLES
from ..models.reception import CHANNELS
from ..services.reports import bot as bot_service
from . import bp
from .agent_work import count_axis, report_channel, report_period


def _chart(report: dict, period) -> dict:
    buckets = [row["bucket"] for row in report["series"]]
    return {
        "data": [{"type": "bar", "name": name, "x": buckets, "y": [row[key] for row in report["series"]]}
                 for key, name in (("resolved_alone", gettext("Resolved by the bot alone")),
                                  ("handed_over", gettext("Handed over")))]
        + [{"type": "scatter", "mode": "lines+markers", "name": gettext("Bot conversations"), "x": buckets,
            "y": [row["conversations"] for row in report["series"]]}],
        "layout": {"title": {"text": gettext("Bot conversations per %(granularity)s (%(zone)s)", granularity=period.granularity,
                                            zone=period.time_zone)},
                   "barmode": "group", "legend": {"orientation": "h"}, "xaxis": {"type": "category"},
                   "yaxis": count_axis(gettext("conversations"), [row["conversations"] for row in report["series"]]),
                   "margin": {"t": 50}},
    }


@bp.route("/bot")
@role_required(*ADMIN_ROLES)
def bot_report():
    period, channel = report_period(), report_channel()
    report = bot_service.report(tenant_session(), period, channel=channel)
    return render_template("reports/bot.html", period=period, report=report, chart=_chart(report, period),
                           channel=channel, channels=CHANNELS)
