"""Admin screens for issue 5 (owners and admins only): the workspace's tenant-wide canned replies,
and the satisfaction rating settings (on/off, scale, evaluation tags per level).

Agents manage their personal canned replies in the console; these screens never show them.
"""
from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla import ModelView

from tenants import tenant_session

from ..models import CannedReply
from ..models.engagement import RATING_SCALES
from ..services import canned_replies, ratings
from ..services.errors import ServiceError
from .access import AdminsOnly, enforce


class TenantCannedReplyView(AdminsOnly, ModelView):
    # Flask-Admin's bulk delete compares integer ids with text on PostgreSQL.
    action_disallowed_list = ["delete"]
    column_list = ("shortcut", "title", "body", "updated_at")
    column_labels = {"body": "Text", "updated_at": "Updated"}
    column_searchable_list = ("shortcut", "title", "body")
    column_default_sort = "shortcut"
    form_columns = ("shortcut", "title", "body")
    form_args = {
        "shortcut": {"description": "Typed as /shortcut in the console's composer: lowercase letters, digits, - or _."},
        "body": {"label": "Text",
                 "description": "Variables: {{visitor_name}}, {{visitor_email}}, {{agent_name}}. "
                                "An agent's personal reply with the same shortcut replaces it for them."},
    }
    form_widget_args = {"body": {"rows": 5}}

    def get_query(self):
        return super().get_query().filter(CannedReply.owner_id.is_(None))

    def get_count_query(self):
        return super().get_count_query().filter(CannedReply.owner_id.is_(None))

    def get_one(self, id):
        reply = super().get_one(id)
        return reply if reply is not None and reply.owner_id is None else None

    def on_model_change(self, form, model, is_created):
        enforce(canned_replies.check_tenant_wide, model)


class RatingSettingsView(AdminsOnly, BaseView):
    """The workspace's single rating settings row, on one hand-written form."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        session = tenant_session()
        stored = ratings.settings(session)
        status = 200
        if request.method == "POST":
            tags = {scale: {score: request.form.get(f"tags_{scale}_{score}", "") for score in ratings.LEVELS[scale]}
                    for scale in RATING_SCALES}
            try:
                ratings.update_settings(session, enabled="enabled" in request.form,
                                        scale=request.form.get("scale", ""), tags=tags)
            except ServiceError as exc:
                session.rollback()
                flash(exc.message, "error")
                status = exc.status
            else:
                flash("Rating settings saved.", "success")
                return redirect(url_for(".index"))
        return self.render(
            "admin/manage/ratings.html", settings=stored, levels=ratings.LEVELS, scale_labels=ratings.SCALE_LABELS,
            tags_line=lambda scale, score: ", ".join(ratings.tags_for(stored, scale, score)),
        ), status


def add_views(admin, session) -> None:
    admin.add_view(TenantCannedReplyView(CannedReply, session, name="Canned replies", endpoint="cannedreply"))
    admin.add_view(RatingSettingsView(name="Ratings", endpoint="ratings"))
