"""The tenant's audit log: security-relevant actions, who did them, when and from which address.

``record`` only adds the row: the caller commits it with the change it describes, so an action and
its record stand or fall together."""
from sqlalchemy.orm import Session

from ..models import AuditEvent, User

LOGIN_OK = "login_ok"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"
ROLE_CHANGED = "role_changed"
USER_DISABLED = "user_disabled"
USER_ENABLED = "user_enabled"
INVITE_CREATED = "invite_created"
SETTINGS_CHANGED = "settings_changed"
EXPORT_REQUESTED = "export_requested"
EXPORT_DOWNLOADED = "export_downloaded"
VISITOR_ERASED = "visitor_erased"
RECORD_DELETED = "record_deleted"
PASSWORD_RESET_LINK = "password_reset_link"
PASSWORD_RESET_EMAIL = "password_reset_email"
PASSWORD_RESET = "password_reset"
KINDS = (
    LOGIN_OK, LOGIN_FAILED, LOGOUT, ROLE_CHANGED, USER_DISABLED, USER_ENABLED, INVITE_CREATED, SETTINGS_CHANGED,
    EXPORT_REQUESTED, EXPORT_DOWNLOADED, VISITOR_ERASED, RECORD_DELETED, PASSWORD_RESET_LINK, PASSWORD_RESET_EMAIL,
    PASSWORD_RESET,
)
_TARGET_MAX, _DETAIL_MAX = 200, 4000


def record(session: Session, kind: str, *, actor: User | None = None, actor_label: str = "",
           address: str | None = None, target: str = "", detail: str = "") -> AuditEvent:
    """``actor_label`` names who acted when there is no account (a failed login's typed email)."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}")
    event = AuditEvent(
        kind=kind, actor_id=actor.id if actor is not None else None,
        actor=(actor.email if actor is not None else actor_label)[:254], address=(address or None) and address[:45],
        target=target[:_TARGET_MAX], detail=detail[:_DETAIL_MAX],
    )
    session.add(event)
    return event
