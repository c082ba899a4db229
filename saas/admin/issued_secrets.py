"""Admin screens that hand out credentials (API channel tokens, app keys): create one and show it
once, revoke one. The rules are in ``saas.services.issued_secrets``; a screen names its kind."""
from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose

from tenants import tenant_session

from ..services import issued_secrets
from ..services.errors import ServiceError
from .access import AdminsOnly


class IssuedSecretsView(AdminsOnly, BaseView):
    secret_model = None  # the IssuedSecretColumns model
    secret_prefix = ""
    secret_example = ""  # a name suggested in errors
    revoked_message = ""  # what revoking means for whoever holds it

    def _page(self, new_secret: str | None = None, status: int = 200, **extra):
        """The screen: ``render_page(secrets=…, new_secret=…, **extra)`` of the subclass."""
        secrets = issued_secrets.listed(tenant_session(), self.secret_model)
        return self.render_page(secrets=secrets, new_secret=new_secret, **extra), status

    def render_page(self, **context):
        raise NotImplementedError

    @expose("/")
    def index(self):
        return self._page()

    @expose("/secrets", methods=["POST"])
    def create_secret(self):
        try:
            _row, secret = issued_secrets.issue(tenant_session(), self.secret_model, request.form.get("name", ""),
                                                prefix=self.secret_prefix, example=self.secret_example)
        except ServiceError as exc:
            flash(exc.message, "error")
            return self._page(status=exc.status)
        # Rendered, not redirected: the secret is on this one page and in no cookie or log.
        return self._page(new_secret=secret)

    @expose("/secrets/<int:secret_id>/revoke", methods=["POST"])
    def revoke_secret(self, secret_id: int):
        try:
            row = issued_secrets.revoke(tenant_session(), self.secret_model, secret_id)
        except ServiceError as exc:
            flash(exc.message, "error")
            return self._page(status=exc.status)
        flash(f"“{row.name}” is revoked: {self.revoked_message}", "success")
        return redirect(url_for(".index"))
