"""Visitor settings for admins: the identity secret (shown on the settings page, with a rotate
button), the automatic-invitation period, and the automatic invitation rules (Flask-Admin)."""
from flask import flash, redirect, request, url_for
from flask_admin.contrib.sqla import ModelView
from flask_babel import lazy_gettext

from tenants import tenant_session

from ..auth.sessions import role_required
from ..models import ADMIN_ROLES, InvitationRule
from ..services import identity, invitations, sources
from ..services.errors import ServiceError
from . import bp
from .access import AdminsOnly, enforce
from .labels import shared_labels


@bp.route("/visitors/identity/rotate", methods=["POST"])
@role_required(*ADMIN_ROLES)
def rotate_identity_secret():
    identity.rotate_secret(tenant_session())
    flash("A new identity secret is in force: update your site's configuration, the old one no longer works.",
          "success")
    return redirect(url_for("admin.settings", _anchor="identity-heading"))


@bp.route("/visitors/invitations", methods=["POST"])
@role_required(*ADMIN_ROLES)
def invitation_period():
    session = tenant_session()
    try:
        identity.set_invitation_period(session, request.form.get("invitation_period_minutes", ""))
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash("Invitation period saved.", "success")
    return redirect(url_for("admin.settings", _anchor="identity-heading"))


class InvitationRuleView(AdminsOnly, ModelView):
    column_list = ("name", "url_pattern", "min_seconds_on_page", "min_visits", "source_kind", "search_engine",
                   "utm_campaign", "is_enabled")
    column_labels = shared_labels(url_pattern=lazy_gettext("URL pattern"),
                                  min_seconds_on_page=lazy_gettext("Min. seconds on page"),
                                  min_visits=lazy_gettext("Min. visits"), source_kind=lazy_gettext("Source"),
                                  search_engine=lazy_gettext("Search engine"), utm_campaign=lazy_gettext("Campaign"))
    form_columns = ("name", "message", "url_pattern", "min_seconds_on_page", "min_visits", "source_kind",
                    "search_engine", "utm_campaign", "is_enabled")
    form_choices = {"source_kind": [("", "any source"), *[(kind, kind) for kind in sources.KINDS]]}
    form_args = {
        "url_pattern": {"description": lazy_gettext("A part of the page address (/pricing), or a pattern "
                                                    "with * wildcards (*/products/*); empty: any page.")},
        "min_seconds_on_page": {"label": lazy_gettext("Minimum seconds on the page"), "default": 0},
        "min_visits": {"label": lazy_gettext("Minimum number of visits"), "default": 1,
                       "description": lazy_gettext("1 invites on a first visit; 2 only returning visitors.")},
        "search_engine": {"description": lazy_gettext("e.g. google, bing, baidu; empty: any.")},
        "utm_campaign": {"label": lazy_gettext("Campaign (utm_campaign)"), "description": lazy_gettext("Empty: any.")},
        "message": {"description": lazy_gettext("What the visitor reads, at most 500 characters.")},
    }

    def on_model_change(self, form, model, is_created):
        enforce(invitations.check_rule, model)


def add_views(admin, session) -> None:
    admin.add_view(InvitationRuleView(InvitationRule, session, name=lazy_gettext("Invitation rules"),
                                      endpoint="invitationrule"))
