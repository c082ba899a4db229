"""Sign-up, login and logout, invitations, and the role checks every console/admin view uses."""
from flask import Blueprint, Flask

from ..extensions import login_manager
from . import sessions

bp = Blueprint("auth", __name__)

from . import password_reset, routes  # noqa: E402,F401  (routes attach themselves to bp)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(sessions.load_user)
    login_manager.unauthorized_handler(sessions.unauthorized)
