"""The agent console: one page, driven live over the /agent Socket.IO namespace."""
from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/t/<tenant_slug>/console")

from . import files, profile, routes  # noqa: E402,F401
