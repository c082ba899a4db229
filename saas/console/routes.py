from flask import render_template

from ..models import ROLES
from ..auth.sessions import role_required
from . import bp


@bp.route("/")
@role_required(*ROLES)
def index():
    return render_template("console/index.html")
