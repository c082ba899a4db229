"""What every Flask-Admin screen under ``/t/<tenant_slug>/admin/manage/`` shares: the tenant's
session for the current request, the owners-and-admins-only gate, and service rules as form errors."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from wtforms.validators import ValidationError

from tenants import current_tenant, has_tenant, tenant_session

from ..realtime import broadcast
from ..security import auditing
from ..services import routing
from ..services.errors import ServiceError


class RequestTenantSession:
    """Flask-Admin takes one session object at start-up; this one forwards to the session of the
    tenant selected for the current request, and looks like nothing outside a tenant."""

    def __getattr__(self, name):
        if not has_tenant():
            raise AttributeError(name)
        return getattr(tenant_session(), name)


class AdminsOnly:
    """Mix in before a Flask-Admin view class: owners and admins only; others get the login page
    (not logged in to this tenant) or 403 (logged in as an agent)."""

    def is_accessible(self):
        return current_user.is_authenticated and current_user.is_admin

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        abort(403)

    # Every model screen is audited here, once: subclasses' own hooks come after, through super().
    def after_model_change(self, form, model, is_created):
        auditing.record_model_change(form, model, is_created)
        super().after_model_change(form, model, is_created)

    def after_model_delete(self, model):
        auditing.record_model_delete(model)
        super().after_model_delete(model)


def enforce(check, *args) -> None:
    """Run ``check(session, actor, *args)`` from a Flask-Admin hook (``on_model_change``…): a
    refusal becomes a ValidationError, which Flask-Admin shows on the form and rolls back."""
    try:
        check(tenant_session(), current_user, *args)
    except ServiceError as exc:
        raise ValidationError(exc.message) from exc


def refill_queues() -> None:
    """After a change to capacities, members or modes: assign whoever now has an agent, live."""
    session = tenant_session()
    broadcast.outcome(current_tenant, session, routing.rebalance(session))


class RefillsQueues:
    """Mix in before a Flask-Admin ModelView whose saves can free or add agent slots."""

    def after_model_change(self, form, model, is_created):
        refill_queues()


class SettingsFormView(AdminsOnly, BaseView):
    """One hand-written form over a workspace's single settings row. GET shows what is stored; a
    POST is saved, or re-shown as typed with the service's reason and nothing kept.

    Subclasses say how to read the posted form (``submitted``), what is stored (``stored``), how to
    save (``save``, which raises ServiceError to refuse) and how to show the form (``render_form``)."""

    saved_message = "Settings saved."

    @expose("/", methods=["GET", "POST"])
    def index(self):
        session = tenant_session()
        status = 200
        if request.method == "POST":
            values = self.submitted(request.form)
            try:
                self.save(session, values)
            except ServiceError as exc:
                session.rollback()
                flash(exc.message, "error")
                status = exc.status
            else:
                flash(self.saved_message, "success")
                return redirect(url_for(".index"))
        else:
            values = self.stored(session)
        return self.render_form(values), status

    def submitted(self, form) -> dict:
        raise NotImplementedError

    def stored(self, session) -> dict:
        raise NotImplementedError

    def save(self, session, values: dict) -> None:
        raise NotImplementedError

    def render_form(self, values: dict):
        raise NotImplementedError
