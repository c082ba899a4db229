"""The app channel for owners and admins: app keys (each shown once, revocable) and the push
webhook. The rules are in ``saas.services.app_channel``."""
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext

from tenants import current_tenant, tenant_session

from ..services import app_channel, identity
from ..services.errors import ServiceError
from ..models import AppKey
from .issued_secrets import IssuedSecretsView


class AppChannelView(IssuedSecretsView):
    secret_model = AppKey
    secret_prefix = app_channel.KEY_PREFIX
    secret_example = "iOS app"
    revoked_message = "apps using this key are refused from now on."

    def render_page(self, **context):
        session = tenant_session()
        return self.render("admin/manage/app_channel.html", push=app_channel.settings(session),
                           identity_secret=identity.settings(session).identity_secret,
                           openapi_url=url_for("app_api.openapi_document", _external=True),
                           events_url=url_for("app_api.event_catalogue", _external=True),
                           tenant_slug=current_tenant.slug, **context)

    @expose("/push", methods=["POST"])
    def save_push(self):
        try:
            app_channel.set_push_url(tenant_session(), request.form.get("push_url", ""))
        except ServiceError as exc:
            flash(exc.message, "error")
            return self._page(status=exc.status)
        flash("Push webhook saved.", "success")
        return redirect(url_for(".index"))

    @expose("/push/rotate", methods=["POST"])
    def rotate_push_secret(self):
        app_channel.rotate_push_secret(tenant_session())
        flash("A new signing secret is in force: pushes from now on are signed with it.", "success")
        return redirect(url_for(".index"))


def add_views(admin) -> None:
    admin.add_view(AppChannelView(name=lazy_gettext("App channel"), endpoint="appchannel"))
