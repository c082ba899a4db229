"""Languages in the admin (owners and admins): the workspace's language, and the per-language
versions of the texts visitors see. The rules are ``saas.services.languages``."""
from flask_admin.contrib.sqla import ModelView
from flask_babel import gettext, lazy_gettext
from wtforms import SelectField, TextAreaField

from tenants import tenant_session

from ..models import TranslatedText
from ..services import languages
from .access import AdminsOnly, SettingsFormView, enforce


class LanguageSettingsView(SettingsFormView):
    """The workspace's language: fixed for the widget (and the team's default), or the browser's."""

    @property
    def saved_message(self):
        return gettext("Language settings saved.")

    def submitted(self, form) -> dict:
        return {"language": form.get("language", "")}

    def stored(self, session) -> dict:
        return {"language": languages.settings(session).language or ""}

    def save(self, session, values: dict) -> None:
        languages.set_workspace_language(session, values["language"])

    def render_form(self, values: dict):
        return self.render("admin/manage/languages.html", chosen=values["language"], languages=languages.LANGUAGES)


def _text_label(view, context, model, name) -> str:
    label, _default = languages.text_keys(tenant_session()).get(model.text_key, (gettext("(deleted text)"), ""))
    return label


class TranslatedTextView(AdminsOnly, ModelView):
    # Flask-Admin's bulk delete compares integer ids with text on PostgreSQL.
    action_disallowed_list = ["delete"]
    column_list = ("text_key", "language", "text", "updated_at")
    column_labels = {"text_key": lazy_gettext("Text"), "language": lazy_gettext("Language"),
                     "text": lazy_gettext("Translation"), "updated_at": lazy_gettext("Updated")}
    column_formatters = {
        "text_key": _text_label,
        "language": lambda view, context, model, name: languages.LANGUAGES.get(model.language, model.language),
    }
    column_default_sort = "text_key"
    form_columns = ("text_key", "language", "text")
    form_overrides = {"text_key": SelectField, "language": SelectField, "text": TextAreaField}
    form_args = {
        "text_key": {"label": lazy_gettext("Text")},
        "language": {"label": lazy_gettext("Language"), "choices": list(languages.LANGUAGES.items())},
        "text": {"label": lazy_gettext("Translation"),
                 "description": lazy_gettext("Shown to visitors of this language instead of the default text.")},
    }
    form_widget_args = {"text": {"rows": 4}}

    def _with_text_choices(self, form):
        # The texts are the workspace's own (its automatic replies and departments), so per request.
        form.text_key.choices = [(key, f"{label}: {default[:60]}")
                                 for key, (label, default) in languages.text_keys(tenant_session()).items()]
        return form

    def create_form(self, obj=None):
        return self._with_text_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_text_choices(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        enforce(languages.check_translation, model)


def add_views(admin, session) -> None:
    admin.add_view(LanguageSettingsView(name=lazy_gettext("Languages"), endpoint="languages"))
    admin.add_view(TranslatedTextView(TranslatedText, session, name=lazy_gettext("Texts per language"),
                                      endpoint="translatedtext"))
