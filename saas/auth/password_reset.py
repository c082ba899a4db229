"""Forgot-password and reset-link pages. The rules are in ``saas.services.password_reset``."""
from flask import current_app, flash, redirect, render_template, request, url_for

import workers
from tenants import current_tenant, tenant_session

from ..security import login_limits
from ..security.auditing import record_request
from ..services import audit, password_reset
from ..services.errors import ServiceError
from . import bp


@bp.route("/t/<tenant_slug>/password/forgot", methods=["GET", "POST"])
def forgot_password():
    mail_configured = bool(current_app.config["SMTP_URL"])
    if request.method == "POST" and mail_configured:
        email, address = request.form.get("email", ""), request.remote_addr or ""
        try:
            # Counted like failed logins: the form must not become a mail cannon.
            login_limits.check_allowed(current_tenant.slug, email, address)
        except ServiceError as exc:
            return render_template("auth/forgot.html", mail_configured=True, error=exc.message), exc.status
        login_limits.record_failure(current_tenant.slug, email, address)
        user = password_reset.find_enabled(tenant_session(), email)
        if user is not None:
            link = url_for("auth.reset_password", token=password_reset.make_token(current_tenant.slug, user),
                           _external=True)
            workers.enqueue("saas.services.password_reset.send_link", current_tenant, user.email, link,
                            current_tenant.name)
            record_request(audit.PASSWORD_RESET_EMAIL, actor=user, target=user.email)
        # The same answer whether or not the address has an account here.
        return render_template("auth/forgot.html", mail_configured=True, sent=True)
    return render_template("auth/forgot.html", mail_configured=mail_configured)


@bp.route("/t/<tenant_slug>/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    session = tenant_session()
    try:
        user = password_reset.user_for_token(session, current_tenant.slug, token)
        if request.method == "POST":
            password_reset.reset_password(session, current_tenant.slug, token, request.form.get("password", ""))
            record_request(audit.PASSWORD_RESET, actor=user, target=user.email)
            flash("Your password is changed. Log in with it.", "success")
            return redirect(url_for("auth.login"), 303)
    except ServiceError as exc:
        session.rollback()
        valid = exc.code != "reset_invalid"
        return render_template("auth/reset.html", error=exc.message, valid=valid), exc.status
    return render_template("auth/reset.html", valid=True, email=user.email)
