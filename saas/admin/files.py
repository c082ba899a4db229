"""The workspace's upload limits (owners and admins): the largest file and the kinds of file
visitors and agents may send. The rules are in ``saas.services.attachments``."""
from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from tenants import tenant_session

from ..services import attachments
from ..services.errors import ServiceError
from ..services.file_types import FILE_TYPES
from .access import AdminsOnly

KB = 1024


def _kilobytes(value: str):
    """The posted size in bytes; text that is not a whole number goes on as is, for the service
    to refuse with its message."""
    return int(value) * KB if value.strip().isdigit() else value


class FileSettingsView(AdminsOnly, BaseView):
    @expose("/", methods=["GET", "POST"])
    def index(self):
        session = tenant_session()
        status = 200
        if request.method == "POST":
            max_kb, allowed = request.form.get("max_file_kb", ""), request.form.getlist("allowed_types")
            try:
                attachments.update_settings(session, current_user, max_file_bytes=_kilobytes(max_kb),
                                            allowed_types=allowed)
            except ServiceError as exc:
                session.rollback()
                flash(exc.message, "error")
                status = exc.status
            else:
                flash("File settings saved.", "success")
                return redirect(url_for(".index"))
        else:
            stored = attachments.settings(session)
            max_kb, allowed = str(stored.max_file_bytes // KB), stored.allowed_types
        return self.render("admin/manage/files.html", max_kb=max_kb, allowed=allowed, file_types=FILE_TYPES,
                           ceiling_kb=attachments.upload_ceiling() // KB), status


def add_views(admin) -> None:
    admin.add_view(FileSettingsView(name="Files", endpoint="filesettings"))
