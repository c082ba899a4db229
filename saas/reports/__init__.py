"""Analytics for administrators: server-rendered report pages with Plotly charts, and exports."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports")

from . import routes  # noqa: E402,F401
from . import agent_work, bot, records  # noqa: E402,F401
