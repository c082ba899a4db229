"""Public pages: the landing page, the demo website with the widget, and the health check."""
from flask import Blueprint

bp = Blueprint("site", __name__)

from . import routes  # noqa: E402,F401
