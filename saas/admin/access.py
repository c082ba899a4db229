"""What every Flask-Admin screen under ``/t/<tenant_slug>/admin/manage/`` shares: the tenant's
session for the current request, the owners-and-admins-only gate, and service rules as form errors."""
from flask import abort, redirect, url_for
from flask_login import current_user
from wtforms.validators import ValidationError

from tenants import current_tenant, has_tenant, tenant_session

from ..realtime import broadcast
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
