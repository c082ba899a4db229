"""Sign-up, authentication and invitations: the rules about who may work in a tenant."""
import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import tenants
from tenants import provisioning
from tenants.registry import InvalidSlug, TenantExists

from ..models import ADMIN, ADMIN_ROLES, AGENT, OWNER, ROLES, Invite, User, utcnow
from ..msgids import NP_
from . import passwords
from .errors import Conflict, Forbidden, Invalid, NotFound

# `flask demo seed` owns this workspace and gives it publicly known logins: nobody signs up as it.
RESERVED_FOR_SIGNUP = {"demo"}
# The role nouns: "Admin" the role (管理员) is not "Admin" the section (管理).
ROLE_LABELS = {OWNER: NP_("role", "Owner"), ADMIN: NP_("role", "Admin"), AGENT: NP_("role", "Agent")}
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise Invalid("invalid_email", "Enter a valid email address.")
    return email


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise Invalid("invalid_name", "Enter a name of 1 to 80 characters.")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise Invalid(
            "weak_password",
            "Choose a password of %(shortest)s to %(longest)s characters.",
            shortest=passwords.MIN_LENGTH, longest=passwords.MAX_LENGTH,
        )
    return password


def add_user(session: Session, *, email: str, display_name: str, password: str, role: str) -> User:
    email = _clean_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("email_taken", "Someone in this workspace already uses that email.")
    user = User(
        email=email,
        display_name=_clean_name(display_name),
        password_hash=passwords.hash_password(check_password(password)),
        role=role,
    )
    session.add(user)
    session.flush()
    return user


def sign_up(*, slug: str, company: str, email: str, display_name: str, password: str):
    """Create a tenant with its own storage and its owner. Returns (tenant, owner)."""
    company = (company or "").strip()
    if not 1 <= len(company) <= 120:
        raise Invalid("invalid_company", "Enter your company name (up to 120 characters).")
    # Check the owner's fields before any schema is created.
    _clean_email(email)
    _clean_name(display_name)
    check_password(password)
    if slug in RESERVED_FOR_SIGNUP:
        raise Invalid("invalid_slug", "That workspace address is reserved; choose another.")
    try:
        tenant = provisioning.create_tenant(slug, company)
    except InvalidSlug as error:
        raise Invalid("invalid_slug", str(error)) from error
    except TenantExists as error:
        raise Conflict("slug_taken", str(error)) from error
    with tenants.tenant_context(tenant):
        session = tenants.tenant_session()
        owner = add_user(session, email=email, display_name=display_name, password=password, role=OWNER)
        session.commit()
    return tenant, owner


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if not passwords.verify_password(user.password_hash if user else None, password or ""):
        return None
    return user if user.is_enabled else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(session: Session, inviter: User, role: str, ttl: timedelta) -> tuple[Invite, str]:
    if not inviter.is_admin:
        raise Forbidden("forbidden", "Only owners and admins can invite people.")
    if role not in (ADMIN, AGENT):
        raise Invalid("invalid_role", "An invitation is for an admin or an agent.")
    token = secrets.token_urlsafe(32)
    invite = Invite(
        token_hash=_token_hash(token), role=role, created_by_id=inviter.id, expires_at=utcnow() + ttl
    )
    session.add(invite)
    session.commit()
    return invite, token


def pending_invite(session: Session, token: str) -> Invite:
    invite = session.scalar(select(Invite).where(Invite.token_hash == _token_hash(token or "")))
    if invite is None or invite.accepted_at is not None or invite.expires_at <= utcnow():
        raise NotFound("invite_invalid", "This invitation link is invalid, used or expired.")
    return invite


def accept_invite(session: Session, token: str, *, email: str, display_name: str, password: str) -> User:
    invite = pending_invite(session, token)
    user = add_user(session, email=email, display_name=display_name, password=password, role=invite.role)
    invite.accepted_at = utcnow()
    invite.accepted_user_id = user.id
    session.commit()
    return user


def check_member_change(session: Session, actor: User, member: User) -> None:
    """Rules for an account edited in the session but not yet committed.

    The edited row may be the actor's own (the same identity-map object), so decisions compare
    against the stored values, read without flushing the pending change.
    """
    with session.no_autoflush:
        stored_role, stored_enabled = session.execute(
            select(User.role, User.is_enabled).where(User.id == member.id)
        ).one()
        actor_role = session.scalar(select(User.role).where(User.id == actor.id))
        other_owners = session.scalar(
            select(func.count(User.id)).where(User.role == OWNER, User.is_enabled.is_(True), User.id != member.id)
        )
    if actor_role not in ADMIN_ROLES:
        raise Forbidden("forbidden", "Only owners and admins manage the team.")
    if member.role not in ROLES:
        raise Invalid("invalid_role", "A role is owner, admin or agent.")
    if OWNER in (member.role, stored_role) and member.role != stored_role and actor_role != OWNER:
        raise Forbidden("owner_only", "Only an owner can make or unmake owners.")
    if member.id == actor.id and (member.role != stored_role or not member.is_enabled):
        raise Invalid("self_change", "You cannot switch off or change the role of your own account.")
    if stored_role == OWNER and stored_enabled and (member.role != OWNER or not member.is_enabled) and not other_owners:
        raise Invalid("last_owner", "A workspace keeps at least one enabled owner.")


def team(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.created_at)))


def open_invites(session: Session) -> list[Invite]:
    now = utcnow()
    return list(
        session.scalars(
            select(Invite)
            .where(Invite.accepted_at.is_(None), Invite.expires_at > now)
            .order_by(Invite.created_at.desc())
        )
    )
