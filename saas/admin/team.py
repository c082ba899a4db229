"""Team management screens (Flask-Admin): change an account's name, role, capacity, or switch it off.

Mounted under ``/t/<tenant_slug>/admin/manage/`` so the tenant comes from the URL like every other
page; Flask-Admin's own ``url_for`` calls get the slug from ``tenants.web``'s url_defaults. The
reception screens (``.reception``) and the knowledge base's (``.knowledge``) hang off the same Admin.
"""
from flask import redirect, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.menu import MenuLink
from flask_admin.model.template import EndpointLinkRowAction
from flask_admin.theme import Bootstrap4Theme
from flask_babel import gettext, lazy_gettext

from ..models import User
from ..security.headers import csp_nonce
from ..services import accounts, reception_settings
from . import (
    app_channel, auto_replies, channels, engagement, files, knowledge, languages, reception, security, visitors,
    widget_look,
)
from .access import AdminsOnly, RefillsQueues, RequestTenantSession, enforce
from .labels import shared_labels, translated_choices


class ManageHome(AdminsOnly, AdminIndexView):
    @expose("/")
    def index(self):
        return redirect(url_for("team.index_view"))


class TeamView(AdminsOnly, RefillsQueues, ModelView):
    can_create = False  # people join through invite links
    can_delete = False  # accounts are switched off, so their history keeps its author
    column_list = ("display_name", "email", "role", "is_enabled", "presence", "max_concurrent", "created_at")
    column_labels = shared_labels(created_at=lazy_gettext("Joined"), max_concurrent=lazy_gettext("Max concurrent"))
    column_formatters = {
        "max_concurrent": lambda view, context, model, name: model.max_concurrent or gettext("workspace default"),
    }
    column_searchable_list = ("display_name", "email")
    column_filters = ("role", "is_enabled", "presence")
    form_columns = ("display_name", "role", "is_enabled", "max_concurrent")
    column_choices = {"role": translated_choices(accounts.ROLE_LABELS)}
    form_choices = {"role": translated_choices(accounts.ROLE_LABELS)}
    column_extra_row_actions = [EndpointLinkRowAction("fa fa-key", "resetlink.for_member", title=lazy_gettext("Password reset link"),
                                                      id_arg="user_id")]
    form_args = {"max_concurrent": {
        "label": lazy_gettext("Max concurrent conversations"),
        "description": lazy_gettext("1 to 100; leave blank for the workspace default (Reception settings)."),
    }}

    def on_model_change(self, form, model, is_created):
        enforce(accounts.check_member_change, model)
        enforce(reception_settings.check_agent_capacity, model)


def init_app(app) -> None:
    admin = Admin(
        name="Switchboard",
        url="/t/<tenant_slug>/admin/manage",
        endpoint="manage",
        index_view=ManageHome(url="/t/<tenant_slug>/admin/manage", endpoint="manage"),
        theme=Bootstrap4Theme(base_template="admin/manage/_base.html"),
        csp_nonce_generator=csp_nonce,
    )
    session = RequestTenantSession()
    admin.add_view(TeamView(User, session, name=lazy_gettext("Team"), endpoint="team"))
    reception.add_views(admin, session)
    knowledge.add_views(admin, session)
    auto_replies.add_views(admin, session)
    files.add_views(admin)
    engagement.add_views(admin, session)
    visitors.add_views(admin, session)
    security.add_views(admin, session)
    languages.add_views(admin, session)
    app_channel.add_views(admin)
    channels.add_views(admin)
    widget_look.add_views(admin)
    admin.add_link(MenuLink(name=lazy_gettext("Workspace settings"), endpoint="admin.settings"))
    admin.init_app(app)
