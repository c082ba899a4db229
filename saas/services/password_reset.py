"""Password reset links: signed, expiring, and single use.

A token is ``<user id>.<itsdangerous timed signature>`` whose salt includes the tenant and the
account's current password hash: setting a new password (which also ends the account's sessions)
changes the salt, so the link that did it, and every other link made before, stop verifying. No
table holds them. Links reach people from an owner or admin (the team screen) or by mail when SMTP
is configured; the forgot-password answer never says whether an address has an account."""
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..msgids import N_
from ..models import User
from . import passwords
from .accounts import check_password
from .errors import Forbidden, NotFound

_INVALID = N_("This password reset link is invalid, used or expired. Ask for a new one.")


def _serializer(tenant_slug: str, user: User) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                  salt=f"password-reset:{tenant_slug}:{user.password_hash}")


def make_token(tenant_slug: str, user: User) -> str:
    return f"{user.id}.{_serializer(tenant_slug, user).dumps(user.id)}"


def link_for_member(session: Session, actor: User, member_id: int, tenant_slug: str) -> tuple[User, str]:
    """An owner or admin asks for a member's link; only an owner may reset an owner's password."""
    member = session.get(User, member_id)
    if member is None:
        raise NotFound("not_found", "No such team member.")
    if not actor.is_admin or (member.role == "owner" and actor.role != "owner"):
        raise Forbidden("forbidden", "Only owners reset owners' passwords; owners and admins everyone else's.")
    return member, make_token(tenant_slug, member)


def user_for_token(session: Session, tenant_slug: str, token: str) -> User:
    user_id, _, signed = (token or "").partition(".")
    user = session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 12 else None
    if user is None or not user.is_enabled:
        raise NotFound("reset_invalid", _INVALID)
    max_age = current_app.config["PASSWORD_RESET_TTL_MINUTES"] * 60
    try:
        if _serializer(tenant_slug, user).loads(signed, max_age=max_age) != user.id:
            raise BadSignature("another account")
    except BadSignature as exc:  # SignatureExpired is one too
        raise NotFound("reset_invalid", _INVALID) from exc
    return user


def reset_password(session: Session, tenant_slug: str, token: str, password: str) -> User:
    user = user_for_token(session, tenant_slug, token)
    user.password_hash = passwords.hash_password(check_password(password))
    return user


def find_enabled(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == (email or "").strip().lower(), User.is_enabled.is_(True)))


def send_link(to_address: str, link: str, workspace: str) -> None:
    """Mail the link through ``SWITCHBOARD_SMTP_URL`` (smtp:// with STARTTLS when offered, smtps://)."""
    url = urlsplit(current_app.config["SMTP_URL"])
    mail = EmailMessage()
    mail["From"] = current_app.config["SMTP_FROM"]
    mail["To"] = to_address
    mail["Subject"] = f"Reset your {workspace} password"
    minutes = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    mail.set_content(f"Someone asked to reset the password of your account in {workspace}.\n\n"
                     f"Open this link within {minutes} minutes to choose a new one:\n{link}\n\n"
                     "If it was not you, ignore this mail: your password stays as it is.\n")
    secure = url.scheme == "smtps"
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with client_class(url.hostname, url.port or (465 if secure else 25), timeout=30) as client:
        if not secure and client.has_extn("starttls"):
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(mail)
