"""Automatic replies and business hours (Flask-Admin, owners and admins only). The rules and the
validation are ``saas.services.auto_replies`` and ``saas.services.business_hours``."""
from flask_admin.contrib.sqla import ModelView
from flask_admin.helpers import is_form_submitted
from flask_babel import gettext, lazy_gettext
from wtforms import TextAreaField

from ..models import AutoReply, BusinessHours
from ..models.auto_replies import AUTO_REPLY_KINDS
from ..services import auto_replies, business_hours
from .access import AdminsOnly, enforce
from .labels import shared_labels, translated_choices

WORKSPACE = lazy_gettext("The whole workspace")


def _scope(view, context, model, name) -> str:
    return model.department.name if model.department else gettext("workspace")


class AutoReplyView(AdminsOnly, ModelView):
    # Flask-Admin's bulk delete compares integer ids with text on PostgreSQL and skips the rules.
    action_disallowed_list = ["delete"]
    column_list = ("kind", "department", "is_enabled", "text", "seconds")
    column_labels = shared_labels(kind=lazy_gettext("Reply"), department=lazy_gettext("Scope"),
                                  is_enabled=lazy_gettext("On"), seconds=lazy_gettext("Seconds"))
    column_choices = {"kind": translated_choices(auto_replies.KIND_LABELS)}
    column_formatters = {"department": _scope}
    column_default_sort = "kind"
    form_columns = ("kind", "department", "is_enabled", "text", "seconds")
    form_choices = {"kind": translated_choices(auto_replies.KIND_LABELS, AUTO_REPLY_KINDS)}
    form_overrides = {"text": TextAreaField}
    form_args = {
        "department": {"blank_text": WORKSPACE, "get_label": "name",
                       "description": lazy_gettext("A department's reply replaces the workspace's of the same kind "
                                                   "(switched off: that department has none).")},
        "is_enabled": {"default": True},
        "text": {"label": lazy_gettext("Message"),
                 "description": lazy_gettext("Sent as a system message. In the queue notice, "
                                             "{position} is the visitor's place.")},
        "seconds": {"description": lazy_gettext("How long to wait: required for the agent-silent and visitor-idle "
                                                "replies; for the queue notice, repeat every N seconds (empty: "
                                                "once); 1 to %(max)s. Empty for the others.",
                                                max=auto_replies.MAX_SECONDS)},
    }

    def on_model_change(self, form, model, is_created):
        enforce(auto_replies.check_auto_reply, model)


class BusinessHoursView(AdminsOnly, ModelView):
    action_disallowed_list = ["delete"]
    column_list = ("department", "is_enabled", "time_zone", "schedule", "holidays")
    column_labels = shared_labels(department=lazy_gettext("Scope"), is_enabled=lazy_gettext("On"),
                                  schedule=lazy_gettext("Schedule"), holidays=lazy_gettext("Holidays"))
    column_formatters = {
        "department": _scope,
        "schedule": lambda view, context, model, name: business_hours.schedule_text(model.schedule) or gettext("closed"),
        "holidays": lambda view, context, model, name: ", ".join(model.holidays),
    }
    form_columns = ("department", "is_enabled", "time_zone", "schedule_text", "holidays_text")
    form_args = {
        "department": {"blank_text": WORKSPACE, "get_label": "name",
                       "description": lazy_gettext("A department's hours replace the workspace's.")},
        "is_enabled": {"default": True},
        "time_zone": {"default": "UTC", "description": lazy_gettext(
            "A name from the tz database, such as Europe/Paris or America/New_York.")},
    }
    form_extra_fields = {
        "schedule_text": TextAreaField(
            lazy_gettext("Weekly schedule"), description="One line per rule, local times: mon-fri 09:00-17:00, "
                                           "sat 10:00-12:00 13:00-16:00; a range ending before it starts runs past "
                                           "midnight (fri 22:00-02:00). Days not listed are closed."),
        "holidays_text": TextAreaField(lazy_gettext("Holidays"),
                                       description=lazy_gettext("Closed all day: one date a line, 2026-12-25.")),
    }

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and not is_form_submitted():
            form.schedule_text.data = business_hours.schedule_text(obj.schedule)
            form.holidays_text.data = "\n".join(obj.holidays)
        return form

    def on_model_change(self, form, model, is_created):
        enforce(business_hours.check_hours, model, form.schedule_text.data or "", form.holidays_text.data or "")


def add_views(admin, session) -> None:
    admin.add_view(AutoReplyView(AutoReply, session, name=lazy_gettext("Automatic replies"), endpoint="autoreply"))
    admin.add_view(BusinessHoursView(BusinessHours, session, name=lazy_gettext("Business hours"),
                                     endpoint="businesshours"))
