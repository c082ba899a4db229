"""The app channel's client API for mobile apps: REST under /api/app/v1, described by the OpenAPI
document it serves, plus the catalogue of the /visitor Socket.IO events an app uses."""
from flask import Blueprint

bp = Blueprint("app_api", __name__, url_prefix="/api/app/v1")

from . import routes  # noqa: E402,F401
