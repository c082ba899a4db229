"""Machine endpoints of the phone (SMS, calls) and API channels. No cookie and no CSRF token: an
SMS provider is authenticated by its request signature, a bridge by its channel token."""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("channels", __name__, url_prefix="/t/<tenant_slug>/channels")
csrf.exempt(bp)

from . import routes  # noqa: E402,F401
