"""Binding login sessions to tenants, and the HTTP role gate.

A session remembers ``"<tenant slug>:<user id>:<session epoch>"``. The loader only answers inside
that same tenant, so a session made in tenant A is simply anonymous in tenant B; and only while the
account's epoch is unchanged, so a cookie replayed after logout, a password change or a disable is
refused (Flask's session lives in the cookie itself: forgetting it on the server is not enough).
"""
import functools

from flask import abort, redirect, request, url_for
from flask_login import current_user

from tenants import current_tenant, has_tenant, tenant_session

from ..models import User


def load_user(session_user_id: str) -> User | None:
    slug, _, rest = (session_user_id or "").partition(":")
    user_id, _, epoch = rest.partition(":")
    if not has_tenant() or slug != current_tenant.slug or not user_id.isdigit() or not epoch.isdigit():
        return None
    user = tenant_session().get(User, int(user_id))
    if user is None or not user.is_enabled or user.session_epoch != int(epoch):
        return None
    user.tenant_slug = slug
    return user


def unauthorized():
    if not has_tenant():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path))


def role_required(*roles: str):
    """Logged in to the tenant in the URL, with one of ``roles``; else login page or 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
