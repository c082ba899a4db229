"""Admin screens for issue 5 (owners and admins only): the workspace's tenant-wide canned replies,
and the satisfaction rating settings (on/off, scale, evaluation tags per level).

Agents manage their personal canned replies in the console; these screens never show them.
"""
from flask_admin.contrib.sqla import ModelView
from flask_babel import lazy_gettext

from tenants import tenant_session

from ..models import CannedReply
from ..models.engagement import RATING_SCALES
from ..services import canned_replies, ratings
from .access import AdminsOnly, SettingsFormView, enforce
from .labels import shared_labels


class TenantCannedReplyView(AdminsOnly, ModelView):
    # Flask-Admin's bulk delete compares integer ids with text on PostgreSQL.
    action_disallowed_list = ["delete"]
    column_list = ("shortcut", "title", "body", "updated_at")
    column_labels = shared_labels(shortcut=lazy_gettext("Shortcut"), title=lazy_gettext("Title"),
                                  body=lazy_gettext("Text"))
    column_searchable_list = ("shortcut", "title", "body")
    column_default_sort = "shortcut"
    form_columns = ("shortcut", "title", "body")
    form_args = {
        "shortcut": {"description": "Typed as /shortcut in the console's composer: lowercase letters, digits, - or _."},
        "body": {
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


class RatingSettingsView(SettingsFormView):
    """The workspace's single rating settings row. A refused form is shown as stored: its tags
    are edited level by level, and the reason names the level."""

    saved_message = "Rating settings saved."

    def submitted(self, form) -> dict:
        tags = {scale: {score: form.get(f"tags_{scale}_{score}", "") for score in ratings.LEVELS[scale]}
                for scale in RATING_SCALES}
        return {"enabled": "enabled" in form, "scale": form.get("scale", ""), "tags": tags}

    def stored(self, session) -> dict:
        return {}

    def save(self, session, values: dict) -> None:
        ratings.update_settings(session, **values)

    def render_form(self, values: dict):
        stored = ratings.settings(tenant_session())
        return self.render(
            "admin/manage/ratings.html", settings=stored, levels=ratings.LEVELS, scale_labels=ratings.SCALE_LABELS,
            tags_line=lambda scale, score: ", ".join(ratings.tags_for(stored, scale, score)),
        )


def add_views(admin, session) -> None:
    admin.add_view(TenantCannedReplyView(CannedReply, session, name=lazy_gettext("Canned replies"),
                                         endpoint="cannedreply"))
    admin.add_view(RatingSettingsView(name=lazy_gettext("Ratings"), endpoint="ratings"))
