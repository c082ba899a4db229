"""The agent's own profile: the language of their console and admin pages, and their time zone."""
from zoneinfo import available_timezones

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from tenants import tenant_session

from ..auth.sessions import role_required
from ..models import ROLES
from ..services import languages
from ..services.errors import ServiceError
from . import bp


@bp.route("/profile", methods=["GET", "POST"])
@role_required(*ROLES)
def profile():
    if request.method == "POST":
        session = tenant_session()
        try:
            languages.set_profile(session, current_user, language=request.form.get("language", ""),
                                  time_zone=request.form.get("time_zone", ""))
        except ServiceError as exc:
            session.rollback()
            return _render(exc.message), exc.status
        flash(gettext("Profile saved."), "success")
        return redirect(url_for(".profile"))
    return _render()


def _render(error: str | None = None):
    return render_template("console/profile.html", error=error, languages=languages.LANGUAGES,
                           time_zones=sorted(available_timezones()),
                           chosen_language=request.form.get("language", current_user.language or ""),
                           chosen_time_zone=request.form.get("time_zone", current_user.time_zone or ""))
