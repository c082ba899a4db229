from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

import workers
from tenants import current_tenant, registry, tenant_session

from ..models import ADMIN_ROLES
from ..security import login_limits
from ..security.auditing import record_request
from ..security.session_epochs import end_sessions
from ..services import accounts, audit
from ..services.errors import ServiceError
from . import bp
from .sessions import role_required


def _safe_next(default: str) -> str:
    """Only a same-site path: an open redirect after login is a phishing gift.

    Control characters are refused outright because URL parsers drop them ("/\t/evil" becomes
    "//evil") and a newline cannot go into a Location header at all.
    """
    target = request.args.get("next") or ""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = request.form
    if request.method == "POST":
        try:
            tenant, owner = accounts.sign_up(
                slug=form.get("slug", "").strip().lower(), company=form.get("company", ""),
                email=form.get("email", ""), display_name=form.get("name", ""), password=form.get("password", ""),
            )
        except ServiceError as exc:
            return render_template("auth/signup.html", error=exc.message, form=form), exc.status
        owner.tenant_slug = tenant.slug
        login_user(owner)
        return redirect(url_for("admin.settings", tenant_slug=tenant.slug))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def choose_workspace():
    if request.method == "POST":
        slug = request.form.get("slug", "").strip().lower()
        if registry.find_by_slug(slug) is None:
            return render_template("auth/workspace.html", error="No workspace at that address.", slug=slug), 404
        return redirect(url_for("auth.login", tenant_slug=slug))
    return render_template("auth/workspace.html")


@bp.route("/t/<tenant_slug>/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        email, address = request.form.get("email", ""), request.remote_addr or ""
        try:
            login_limits.check_allowed(current_tenant.slug, email, address)
        except ServiceError as exc:
            return render_template("auth/login.html", error=exc.message), exc.status
        user = accounts.authenticate(tenant_session(), email, request.form.get("password", ""))
        if user is None:
            login_limits.record_failure(current_tenant.slug, email, address)
            record_request(audit.LOGIN_FAILED, actor_label=email, detail="wrong email or password")
            return render_template("auth/login.html", error="Wrong email or password."), 401
        login_limits.record_success(current_tenant.slug, email, address)
        record_request(audit.LOGIN_OK, actor=user)
        user.tenant_slug = current_tenant.slug
        login_user(user)
        return redirect(_safe_next(url_for("console.index")))
    return render_template("auth/login.html")


@bp.route("/t/<tenant_slug>/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # The cookie is the whole session: only a new epoch stops a copy of it from working on.
        end_sessions(current_user)
        record_request(audit.LOGOUT)
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/t/<tenant_slug>/invites", methods=["POST"])
@role_required(*ADMIN_ROLES)
def create_invite():
    ttl = timedelta(hours=current_app.config["INVITE_TTL_HOURS"])
    try:
        invite, token = accounts.create_invite(tenant_session(), current_user, request.form.get("role", ""), ttl)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.settings")), 303
    record_request(audit.INVITE_CREATED, target=f"invite {invite.id}", detail=f"role: {invite.role}")
    workers.enqueue("workers.maintenance.purge_expired_invites", current_tenant)
    flash(url_for("auth.accept_invite", token=token, _external=True), "invite_link")
    return redirect(url_for("admin.settings")), 303


@bp.route("/t/<tenant_slug>/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    session = tenant_session()
    try:
        invite = accounts.pending_invite(session, token)
    except ServiceError as exc:
        return render_template("auth/invite.html", error=exc.message, invite=None), exc.status
    if request.method == "POST":
        form = request.form
        try:
            user = accounts.accept_invite(
                session, token, email=form.get("email", ""), display_name=form.get("name", ""),
                password=form.get("password", ""),
            )
        except ServiceError as exc:
            return render_template("auth/invite.html", error=exc.message, invite=invite, form=form), exc.status
        user.tenant_slug = current_tenant.slug
        login_user(user)
        return redirect(url_for("console.index"))
    return render_template("auth/invite.html", invite=invite, form={})
