"""Tenant administration: the embed snippet, the team and invitations."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/t/<tenant_slug>/admin")

from . import routes  # noqa: E402,F401
from .team import init_app  # noqa: E402,F401
