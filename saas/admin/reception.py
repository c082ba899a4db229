"""Reception configuration screens (Flask-Admin, owners and admins only): departments and their
members, per-channel reception modes, and the workspace's reception settings.

Views only translate between forms and ``saas.services.reception_settings``, which holds the rules.
"""
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import Select2Widget
from flask_admin.helpers import is_form_submitted
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectMultipleField

from tenants import tenant_session

from ..i18n import translated
from ..models import ChannelMode, Department, DepartmentMember, User
from ..models.reception import CHANNELS, PRECHAT_FIELDS, RECEPTION_MODES
from ..services import reception as reception_service
from ..services.accounts import ROLE_LABELS
from ..services import reception_settings as rules
from .access import AdminsOnly, RefillsQueues, SettingsFormView, enforce, refill_queues
from .labels import shared_labels, translated_choices

MODE_CHOICES = translated_choices(rules.MODE_LABELS, RECEPTION_MODES)
INHERIT = lazy_gettext("Inherit (channel or workspace mode)")


class MembersField(SelectMultipleField):
    """The people of this workspace in a department: written as DepartmentMember rows by the
    view, not set on the model."""

    widget = Select2Widget(multiple=True)

    def populate_obj(self, obj, name):
        pass


def _member_choices(session) -> list[tuple[int, str]]:
    people = session.scalars(select(User).order_by(User.display_name, User.id))
    return [(user.id, gettext("%(name)s (%(email)s, %(role)s)", name=user.display_name, email=user.email,
                              role=translated(ROLE_LABELS[user.role]))
             if user.is_enabled else
             gettext("%(name)s (%(email)s, %(role)s, switched off)", name=user.display_name, email=user.email,
                     role=translated(ROLE_LABELS[user.role])))
            for user in people]


class DepartmentView(AdminsOnly, RefillsQueues, ModelView):
    # Flask-Admin's bulk delete compares integer ids with text on PostgreSQL and skips the rules.
    action_disallowed_list = ["delete"]
    column_list = ("name", "public_name", "is_hidden", "assignment", "reception_mode", "members")
    column_labels = shared_labels(public_name=lazy_gettext("Name for visitors"),
                                  is_hidden=lazy_gettext("Hidden from visitors"), assignment=lazy_gettext("Assignment"),
                                  members=lazy_gettext("Members"))
    column_searchable_list = ("name", "public_name")
    column_default_sort = "name"
    column_choices = {"assignment": translated_choices(rules.ASSIGNMENT_LABELS), "reception_mode": MODE_CHOICES}
    column_formatters = {
        "reception_mode": lambda view, context, model, name: (
            gettext(rules.MODE_LABELS[model.reception_mode]) if model.reception_mode else gettext("inherit")),
        "members": lambda view, context, model, name: view.member_names(model.id),
    }
    form_columns = ("name", "public_name", "description", "is_hidden", "assignment", "reception_mode", "members")
    form_choices = {"assignment": translated_choices(rules.ASSIGNMENT_LABELS), "reception_mode": MODE_CHOICES}
    form_args = {
        "description": {"description": lazy_gettext("Shown to visitors with the department's name.")},
        "is_hidden": {"description": lazy_gettext("Not offered to visitors in the department picker.")},
        "reception_mode": {"blank_text": INHERIT},
    }
    form_extra_fields = {
        "members": MembersField(lazy_gettext("Members"), coerce=int,
                                description=lazy_gettext("Who takes this department's conversations."))
    }

    def member_names(self, department_id: int) -> str:
        names = tenant_session().scalars(
            select(User.display_name).join(DepartmentMember, DepartmentMember.user_id == User.id)
            .where(DepartmentMember.department_id == department_id).order_by(User.display_name))
        return ", ".join(names)

    def _with_members(self, form, department_id):
        session = tenant_session()
        form.members.choices = _member_choices(session)
        if not is_form_submitted():
            form.members.data = rules.member_ids(session, department_id)
        return form

    def create_form(self, obj=None):
        return self._with_members(super().create_form(obj), None)

    def edit_form(self, obj=None):
        return self._with_members(super().edit_form(obj), obj.id if obj is not None else None)

    def on_model_change(self, form, model, is_created):
        enforce(rules.check_department, model)
        enforce(rules.set_department_members, model, form.members.data)

    def on_model_delete(self, model):
        enforce(rules.check_admin)  # members go with the department (ON DELETE CASCADE)


class ChannelModeView(AdminsOnly, RefillsQueues, ModelView):
    column_display_pk = True
    column_list = ("channel", "reception_mode")
    column_labels = shared_labels()
    column_choices = {"channel": translated_choices(rules.CHANNEL_LABELS), "reception_mode": MODE_CHOICES}
    form_columns = ("channel", "reception_mode")
    form_choices = {"channel": translated_choices(rules.CHANNEL_LABELS, CHANNELS), "reception_mode": MODE_CHOICES}
    form_args = {"reception_mode": {"description": lazy_gettext("Overrides the workspace's mode on this channel; "
                                                                "a department's own mode comes first.")}}

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.channel  # the channel is the row's identity: delete the override and add another
        return form

    def on_model_change(self, form, model, is_created):
        enforce(rules.check_channel_mode, model, is_created)

    def on_model_delete(self, model):
        enforce(rules.check_admin)


class ReceptionSettingsView(SettingsFormView):
    saved_message = "Reception settings saved."

    def submitted(self, form) -> dict:
        values, prechat = _submitted(form)
        return {"values": values, "prechat": prechat}

    def stored(self, session) -> dict:
        stored = reception_service.settings(session)
        return {"values": {name: getattr(stored, name) for name in _FORM_SETTINGS},
                "prechat": rules.prechat_choices(stored.prechat_fields)}

    def save(self, session, values: dict) -> None:
        rules.update_settings(session, current_user, **values["values"],
                              prechat_fields=rules.prechat_fields_from_choices(values["prechat"]))
        refill_queues()

    def render_form(self, values: dict):
        return self.render(
            "admin/manage/reception.html", **values, modes=MODE_CHOICES,
            prechat_fields=PRECHAT_FIELDS, prechat_choices=rules.PRECHAT_CHOICES,
        )


_BOT_TEXTS = (*rules.TEXT_SETTINGS, "bot_handoff_keywords")
_FORM_SETTINGS = ("reception_mode", "department_picker", *rules.NUMBER_SETTINGS, *_BOT_TEXTS)


def _submitted(form) -> tuple[dict, dict]:
    """The settings as posted (checked by the service), and the pre-chat choice per field."""
    values = {name: form.get(name, "") for name in _FORM_SETTINGS if name not in _BOT_TEXTS or name in form}
    values["department_picker"] = "department_picker" in form  # an unchecked box is simply absent
    return values, {field: form.get(f"prechat_{field}", "") for field in PRECHAT_FIELDS}


def add_views(admin, session) -> None:
    admin.add_view(DepartmentView(Department, session, name=lazy_gettext("Departments"), endpoint="department"))
    admin.add_view(ChannelModeView(ChannelMode, session, name=lazy_gettext("Channel modes"), endpoint="channelmode"))
    admin.add_view(ReceptionSettingsView(name=lazy_gettext("Reception"), endpoint="reception"))
