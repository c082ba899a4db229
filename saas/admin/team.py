"""Team management screens (Flask-Admin): change an account's name, role, or switch it off.

Mounted under ``/t/<tenant_slug>/admin/manage/`` so the tenant comes from the URL like every other
page; Flask-Admin's own ``url_for`` calls get the slug from ``tenants.web``'s url_defaults.
"""
from flask import abort, redirect, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from wtforms.validators import ValidationError

from tenants import has_tenant, tenant_session

from ..models import User
from ..services import accounts
from ..services.errors import ServiceError


class _RequestTenantSession:
    """Flask-Admin takes one session object at start-up; this one forwards to the session of the
    tenant selected for the current request, and looks like nothing outside a tenant."""

    def __getattr__(self, name):
        if not has_tenant():
            raise AttributeError(name)
        return getattr(tenant_session(), name)


class _AdminsOnly:
    def is_accessible(self):
        return current_user.is_authenticated and current_user.is_admin

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        abort(403)


class ManageHome(_AdminsOnly, AdminIndexView):
    @expose("/")
    def index(self):
        return redirect(url_for("team.index_view"))


class TeamView(_AdminsOnly, ModelView):
    can_create = False  # people join through invite links
    can_delete = False  # accounts are switched off, so their history keeps its author
    column_list = ("display_name", "email", "role", "is_enabled", "created_at")
    column_labels = {"display_name": "Name", "is_enabled": "Enabled", "created_at": "Joined"}
    column_searchable_list = ("display_name", "email")
    column_filters = ("role", "is_enabled")
    form_columns = ("display_name", "role", "is_enabled")
    form_choices = {"role": [("owner", "Owner"), ("admin", "Admin"), ("agent", "Agent")]}

    def on_model_change(self, form, model, is_created):
        try:
            accounts.check_member_change(tenant_session(), current_user, model)
        except ServiceError as exc:
            raise ValidationError(exc.message) from exc


def init_app(app) -> None:
    admin = Admin(
        name="Switchboard",
        url="/t/<tenant_slug>/admin/manage",
        endpoint="manage",
        index_view=ManageHome(url="/t/<tenant_slug>/admin/manage", endpoint="manage"),
        theme=Bootstrap4Theme(),
    )
    admin.add_view(TeamView(User, _RequestTenantSession(), name="Team", endpoint="team"))
    admin.init_app(app)
