"""The workspace's upload limits (owners and admins): the largest file and the kinds of file
visitors and agents may send. The rules are in ``saas.services.attachments``."""
from flask_babel import lazy_gettext
from flask_login import current_user

from ..services import attachments
from ..services.file_types import FILE_TYPES
from .access import SettingsFormView

KB = 1024


def _kilobytes(value: str):
    """The posted size in bytes; text that is not a whole number goes on as is, for the service
    to refuse with its message."""
    return int(value) * KB if value.strip().isdigit() else value


class FileSettingsView(SettingsFormView):
    saved_message = "File settings saved."

    def submitted(self, form) -> dict:
        return {"max_kb": form.get("max_file_kb", ""), "allowed": form.getlist("allowed_types")}

    def stored(self, session) -> dict:
        stored = attachments.settings(session)
        return {"max_kb": str(stored.max_file_bytes // KB), "allowed": stored.allowed_types}

    def save(self, session, values: dict) -> None:
        attachments.update_settings(session, current_user, max_file_bytes=_kilobytes(values["max_kb"]),
                                    allowed_types=values["allowed"])

    def render_form(self, values: dict):
        return self.render("admin/manage/files.html", **values, file_types=FILE_TYPES,
                           ceiling_kb=attachments.upload_ceiling() // KB)


def add_views(admin) -> None:
    admin.add_view(FileSettingsView(name=lazy_gettext("Files"), endpoint="filesettings"))
