"""SMS and API channels for owners and admins: the provider settings, the webhook, the signing
secret and the API channel tokens (each shown once, revocable). Rules: ``saas.services.channel_settings``."""
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext

from tenants import tenant_session

from ..services import channel_settings
from ..services.errors import ServiceError
from ..models import ApiChannelToken
from .issued_secrets import IssuedSecretsView


class ChannelsView(IssuedSecretsView):
    secret_model = ApiChannelToken
    secret_prefix = channel_settings.TOKEN_PREFIX
    secret_example = "Telegram bridge"
    revoked_message = "requests with this token are refused from now on."

    def render_page(self, values: dict | None = None, **context):
        stored = channel_settings.settings(tenant_session())
        shown = values if values is not None else {name: getattr(stored, name) or ""
                                                   for name in channel_settings.EDITABLE_FIELDS}
        return self.render(
            "admin/manage/channels.html", values=shown, signing_secret=stored.api_signing_secret,
            sms_inbound_url=url_for("channels.sms_inbound", _external=True),
            sms_voice_url=url_for("channels.sms_voice", _external=True),
            api_inbound_url=url_for("channels.api_inbound", _external=True), **context)

    @expose("/settings", methods=["POST"])
    def save_settings(self):
        values = {name: request.form.get(name, "") for name in channel_settings.EDITABLE_FIELDS}
        try:
            channel_settings.save(tenant_session(), values)
        except ServiceError as exc:
            tenant_session().rollback()
            flash(exc.message, "error")
            return self._page(values=values, status=exc.status)
        flash("Channel settings saved.", "success")
        return redirect(url_for(".index"))

    @expose("/secret/rotate", methods=["POST"])
    def rotate_secret(self):
        channel_settings.rotate_signing_secret(tenant_session())
        flash("A new signing secret is in force: webhooks queued from now on are signed with it.", "success")
        return redirect(url_for(".index"))


def add_views(admin) -> None:
    admin.add_view(ChannelsView(name=lazy_gettext("Channels"), endpoint="channels_admin", url="channels"))
