"""Analytics for administrators: server-rendered report pages with Plotly charts, and exports."""
from flask import Blueprint

from saas.services.reports.table import value_name

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports")
bp.add_app_template_filter(value_name)

from . import routes  # noqa: E402,F401
from . import agent_work, bot, records  # noqa: E402,F401
