"""Security screens of the admin: the sites the widget may run on, the audit log (owners), data
export (owners) and visitor erasure (owners and admins), and password reset links for team members
(reached from the team list's key icon)."""
from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext
from flask_login import current_user

from tenants import current_tenant, tenant_session

from ..models import OWNER, AuditEvent
from ..security import origins
from ..security.auditing import mark_audited, record_request
from ..services import audit, erasure, password_reset, tenant_export
from ..services.errors import ServiceError
from .access import AdminsOnly, SettingsFormView
from .labels import shared_labels


class OwnersOnly(AdminsOnly):
    def is_accessible(self):
        return current_user.is_authenticated and current_user.role == OWNER


class AllowedOriginsView(SettingsFormView):
    saved_message = "Allowed sites saved."

    def submitted(self, form) -> dict:
        return {"origins": form.get("allowed_origins", "")}

    def stored(self, session) -> dict:
        return {"origins": "\n".join(origins.allowed(session))}

    def save(self, session, values: dict) -> None:
        origins.save(session, values["origins"])
        session.commit()

    def render_form(self, values: dict):
        return self.render("admin/manage/security.html", origins=values["origins"],
                           demo_origin=request.host_url.rstrip("/"))


class AuditLogView(OwnersOnly, ModelView):
    """Read-only, newest first."""

    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ("created_at", "kind", "actor", "address", "target", "detail")
    column_labels = shared_labels(created_at=lazy_gettext("When"), actor=lazy_gettext("Who"),
                                  address=lazy_gettext("Address"), target=lazy_gettext("Target"),
                                  detail=lazy_gettext("Detail"))
    column_default_sort = ("created_at", True)
    column_filters = (FilterEqual(AuditEvent.kind, lazy_gettext("Kind"), options=[(kind, kind) for kind in audit.KINDS]),
                      "actor")
    column_searchable_list = ("actor", "target", "detail")
    page_size = 50


class DataView(AdminsOnly, BaseView):
    """Export everything (owners) and erase one visitor's personal data (owners and admins)."""

    @expose("/")
    def index(self):
        is_owner = current_user.role == OWNER
        return self.render("admin/manage/data.html", is_owner=is_owner,
                           exports=tenant_export.list_exports(current_tenant) if is_owner else [])

    @expose("/export", methods=["POST"])
    def export(self):
        try:
            tenant_export.request_export(tenant_session(), current_tenant, current_user,
                                         address=request.remote_addr)
            mark_audited()
        except ServiceError as exc:
            abort(exc.status, exc.message)
        flash("The export is being built: reload this page in a minute to download it.", "success")
        return redirect(url_for(".index"), 303)

    @expose("/export/<archive>")  # not <name>: Flask-Admin's own view plumbing takes that argument
    def download(self, archive):
        if current_user.role != OWNER:
            abort(403)
        try:
            path = tenant_export.path_for_download(current_tenant, archive)
        except ServiceError as exc:
            abort(exc.status, exc.message)
        record_request(audit.EXPORT_DOWNLOADED, target=archive)
        return send_file(path, mimetype="application/gzip", as_attachment=True, download_name=archive)

    @expose("/erase", methods=["POST"])
    def erase(self):
        public_id = request.form.get("visitor_id", "").strip()[:64]
        try:
            erasure.erase_visitor(tenant_session(), current_tenant, current_user, public_id,
                                  address=request.remote_addr)
            mark_audited()
        except ServiceError as exc:
            tenant_session().rollback()
            flash(exc.message, "error")
            return redirect(url_for(".index"), 303)
        flash(f"Visitor {public_id}'s personal data is erased.", "success")
        return redirect(url_for(".index"), 303)


class ResetLinkView(AdminsOnly, BaseView):
    """A member's password reset link, made on a POST (so a prefetched GET makes none) and shown once."""

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("team.index_view"))

    @expose("/<int:user_id>", methods=["GET", "POST"])
    def for_member(self, user_id):
        session = tenant_session()
        try:
            member, token = password_reset.link_for_member(session, current_user, user_id, current_tenant.slug)
        except ServiceError as exc:
            abort(exc.status, exc.message)
        link = None
        if request.method == "POST":
            link = url_for("auth.reset_password", token=token, _external=True)
            record_request(audit.PASSWORD_RESET_LINK, target=member.email)
        return self.render("admin/manage/reset_link.html", member=member, link=link)


def add_views(admin, session) -> None:
    admin.add_view(AllowedOriginsView(name=lazy_gettext("Allowed sites"), endpoint="allowedorigins", category=lazy_gettext("Security")))
    admin.add_view(AuditLogView(AuditEvent, session, name=lazy_gettext("Audit log"), endpoint="auditlog", category=lazy_gettext("Security")))
    admin.add_view(DataView(name=lazy_gettext("Data and privacy"), endpoint="dataprivacy", category=lazy_gettext("Security")))
    admin.add_view(ResetLinkView(name="Password reset link", endpoint="resetlink"))
