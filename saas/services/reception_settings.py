"""Reception configuration by a workspace's owners and admins: the tenant's reception settings,
departments and their members, per-channel reception modes and each agent's capacity.

Every function checks who acts and what is asked before it changes anything, and raises Invalid
or Forbidden with a message for people: a refused change writes nothing.
"""
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..i18n import N_, Label
from ..models import ADMIN_ROLES, ChannelMode, Department, DepartmentMember, ReceptionSettings, User
from ..models.reception import (
    AUTO, BOT_FIRST, BOT_ONLY, CHANNELS, HUMAN_FIRST, HUMAN_ONLY, MANUAL, PRECHAT_FIELDS, RECEPTION_MODES,
)
from . import reception
from .errors import Conflict, Forbidden, Invalid

MODE_LABELS = {
    HUMAN_ONLY: N_("Human agents only"),
    BOT_ONLY: N_("Bot only"),
    BOT_FIRST: N_("Bot first, then a human"),
    HUMAN_FIRST: N_("Human first, the bot while waiting"),
}
ASSIGNMENT_LABELS = {AUTO: N_("Automatic"), MANUAL: N_("Manual (agents pick from the queue)")}
CHANNEL_LABELS = {"web": N_("Website"), "mobile_web": N_("Mobile website"), "app": N_("App"), "phone": N_("Phone"),
                  "sms": N_("SMS"), "api": N_("API")}

# How each pre-chat field is asked, as the settings form offers it.
NOT_ASKED, OPTIONAL, REQUIRED = "", "optional", "required"
PRECHAT_CHOICES = {NOT_ASKED: "Not asked", OPTIONAL: "Optional", REQUIRED: "Required"}

MAX_CONCURRENT = (1, 100)
# Whole-number settings: (lowest, highest, message when out of range or not a number).
NUMBER_SETTINGS = {
    "default_max_concurrent": (
        *MAX_CONCURRENT, N_("Max concurrent conversations per agent must be a whole number from 1 to 100.")),
    "reopen_window_minutes": (
        0, 10080, N_("The reopen window must be a whole number of minutes from 0 to 10080 (one week).")),
    "bot_handoff_after": (
        1, 20, N_("The bot hands over after 1 to 20 unanswered messages: enter a whole number in that range.")),
}
# What the bot says: (most characters, what it is called in messages).
TEXT_SETTINGS = {"bot_greeting": (1000, N_("The bot's greeting")),
                 "bot_fallback": (1000, N_("The bot's fallback answer"))}
MAX_KEYWORDS, MAX_KEYWORD_LENGTH = 20, 40
SETTINGS = ("reception_mode", "department_picker", "prechat_fields", *NUMBER_SETTINGS, *TEXT_SETTINGS,
            "bot_handoff_keywords")


def check_admin(session: Session, actor: User) -> None:
    """Only an enabled owner or admin configures reception (their role as stored, not as cached)."""
    with session.no_autoflush:
        stored = session.execute(select(User.role, User.is_enabled).where(User.id == actor.id)).one_or_none()
    if stored is None or stored.role not in ADMIN_ROLES or not stored.is_enabled:
        raise Forbidden("forbidden", "Only owners and admins configure reception.")


def _whole_number(value, low: int, high: int, message: str) -> int:
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("+-").isdigit():
            raise Invalid("invalid_number", message)
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid("invalid_number", message)
    return value


def _mode(value, *, inherit: bool = False) -> str | None:
    if inherit and value in (None, ""):
        return None
    if value not in RECEPTION_MODES:
        choices = ", ".join(f"“{MODE_LABELS[mode]}”" for mode in RECEPTION_MODES)
        raise Invalid("invalid_mode", N_("Choose a reception mode: %(choices)s or inherit.") if inherit
                      else N_("Choose a reception mode: %(choices)s."), choices=choices)
    return value


# Workspace settings


def clean_prechat_fields(fields) -> list[dict]:
    """``[{"field": "name"|"email"|"phone", "required": bool}]``: each field at most once, kept in
    the order name, email, phone."""
    if not isinstance(fields, (list, tuple)):
        raise Invalid("invalid_prechat_fields", "The pre-chat form is a list of fields.")
    asked = {}
    for entry in fields:
        if not isinstance(entry, Mapping) or entry.get("field") not in PRECHAT_FIELDS:
            raise Invalid("invalid_prechat_fields", "A pre-chat field is one of: %(fields)s.",
                          fields=", ".join(PRECHAT_FIELDS))
        if not isinstance(entry.get("required", False), bool):
            raise Invalid("invalid_prechat_fields", "A pre-chat field is either required or optional.")
        if entry["field"] in asked:
            raise Invalid("invalid_prechat_fields", "The pre-chat form asks for the %(field)s only once.",
                          field=entry["field"])
        asked[entry["field"]] = entry.get("required", False)
    return [{"field": field, "required": asked[field]} for field in PRECHAT_FIELDS if field in asked]


def prechat_fields_from_choices(choices: Mapping[str, str]) -> list[dict]:
    """The stored form from one choice per field: "" (not asked), "optional" or "required"."""
    fields = []
    for field in PRECHAT_FIELDS:
        choice = choices.get(field) or NOT_ASKED
        if choice not in PRECHAT_CHOICES:
            raise Invalid("invalid_prechat_fields", "The %(field)s is either not asked, optional or required.",
                          field=field)
        if choice != NOT_ASKED:
            fields.append({"field": field, "required": choice == REQUIRED})
    return fields


def prechat_choices(fields: Iterable[Mapping] | None) -> dict[str, str]:
    """The other way round: one choice per field, for showing the stored form."""
    asked = {entry["field"]: entry.get("required", False) for entry in fields or []}
    return {field: (REQUIRED if asked[field] else OPTIONAL) if field in asked else NOT_ASKED
            for field in PRECHAT_FIELDS}


def update_settings(session: Session, actor: User, **values) -> ReceptionSettings:
    """Change some of the workspace's reception settings and commit; all are checked first.

    Accepts ``reception_mode``, ``department_picker`` (bool), ``prechat_fields`` (see
    ``clean_prechat_fields``) and the whole numbers in ``NUMBER_SETTINGS`` (ints or digit strings).
    """
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise TypeError(f"unknown reception settings: {', '.join(sorted(unknown))}")
    check_admin(session, actor)
    clean = {}
    if "reception_mode" in values:
        clean["reception_mode"] = _mode(values["reception_mode"])
    if "department_picker" in values:
        if not isinstance(values["department_picker"], bool):
            raise Invalid("invalid_department_picker", "Offering the department picker is either on or off.")
        clean["department_picker"] = values["department_picker"]
    if "prechat_fields" in values:
        clean["prechat_fields"] = clean_prechat_fields(values["prechat_fields"])
    for name, (low, high, message) in NUMBER_SETTINGS.items():
        if name in values:
            clean[name] = _whole_number(values[name], low, high, message)
    for name, (limit, label) in TEXT_SETTINGS.items():
        if name in values:
            clean[name] = _text_setting(values[name], limit, label)
    if "bot_handoff_keywords" in values:
        clean["bot_handoff_keywords"] = clean_keywords(values["bot_handoff_keywords"])
    row = reception.settings(session)
    for name, value in clean.items():
        setattr(row, name, value)
    session.commit()
    return row


def _text_setting(value, limit: int, label: str) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(value) <= limit:
        raise Invalid("invalid_text", "%(field)s is 1 to %(limit)s characters.", field=Label(label), limit=limit)
    return value


def clean_keywords(value) -> str:
    """Comma-separated words that ask the bot for a person: 1 to 20, each up to 40 characters."""
    words = [w.strip() for w in value.split(",")] if isinstance(value, str) else []
    words = list(dict.fromkeys(w for w in words if w))
    if not 1 <= len(words) <= MAX_KEYWORDS or any(len(w) > MAX_KEYWORD_LENGTH for w in words):
        raise Invalid("invalid_keywords", "Give 1 to %(count)s hand-off keywords, separated by commas, "
                                          "each up to %(longest)s characters.",
                      count=MAX_KEYWORDS, longest=MAX_KEYWORD_LENGTH)
    return ", ".join(words)


# Agents


def check_agent_capacity(session: Session, actor: User, agent: User) -> None:
    """An agent's own limit of concurrent conversations: blank (the workspace default) or 1 to 100."""
    check_admin(session, actor)
    value = agent.max_concurrent
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not MAX_CONCURRENT[0] <= value <= MAX_CONCURRENT[1]):
        raise Invalid("invalid_max_concurrent",
                      "Max concurrent conversations must be a whole number from 1 to 100, "
                      "or blank for the workspace default.")


# Departments


def _clean_text(value, *, required: bool, limit: int, message: str) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None or len(value) > limit or (required and not value):
        raise Invalid("invalid_department", message)
    return value


def check_department(session: Session, actor: User, department: Department) -> None:
    """Rules for a department created or edited in the session but not yet committed; tidies its
    text fields in place."""
    check_admin(session, actor)
    department.name = _clean_text(department.name, required=True, limit=80,
                                  message=N_("Enter a department name of 1 to 80 characters."))
    department.public_name = _clean_text(
        department.public_name, required=True, limit=80,
        message=N_("Enter the name visitors see, 1 to 80 characters."))
    department.description = _clean_text(department.description, required=False, limit=2000,
                                         message=N_("A description is at most 2000 characters."))
    if department.assignment not in ASSIGNMENT_LABELS:
        raise Invalid("invalid_assignment", "Assignment is automatic or manual.")
    department.reception_mode = _mode(department.reception_mode, inherit=True)
    department.is_hidden = bool(department.is_hidden)
    same_name = select(Department.id).where(func.lower(Department.name) == department.name.lower())
    if department.id is not None:
        same_name = same_name.where(Department.id != department.id)
    with session.no_autoflush:  # the pending change itself must not be written before this check
        taken = session.scalar(same_name.limit(1)) is not None
    if taken:
        raise Conflict("department_name_taken", "There is already a department called “%(name)s”.",
                       name=department.name)


def member_ids(session: Session, department_id: int | None) -> list[int]:
    if department_id is None:
        return []
    return list(session.scalars(select(DepartmentMember.user_id)
                                .where(DepartmentMember.department_id == department_id)
                                .order_by(DepartmentMember.user_id)))


def set_department_members(session: Session, actor: User, department: Department, user_ids: Iterable) -> None:
    """Make the department's members exactly ``user_ids`` (people of this workspace); not committed."""
    check_admin(session, actor)
    try:
        wanted = {int(user_id) for user_id in user_ids or ()}
    except (TypeError, ValueError):
        raise Invalid("invalid_members", "Choose the department's members from the team.") from None
    with session.no_autoflush:
        known = set(session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    if wanted - known:
        raise Invalid("invalid_members", "Choose the department's members from the team.")
    try:
        session.flush()  # a new department needs its id; a name taken meanwhile shows up here
    except IntegrityError:
        raise Conflict("department_name_taken", "There is already a department called “%(name)s”.",
                       name=department.name) from None
    current = set(member_ids(session, department.id))
    if current - wanted:
        session.execute(delete(DepartmentMember).where(DepartmentMember.department_id == department.id,
                                                       DepartmentMember.user_id.in_(current - wanted)))
    session.add_all(DepartmentMember(department_id=department.id, user_id=user_id)
                    for user_id in sorted(wanted - current))


# Channels


def check_channel_mode(session: Session, actor: User, channel_mode: ChannelMode, is_created: bool) -> None:
    """Rules for a channel's own reception mode, created or edited but not yet committed."""
    check_admin(session, actor)
    if channel_mode.channel not in CHANNELS:
        raise Invalid("unknown_channel", "A channel is one of: %(channels)s.", channels=", ".join(CHANNELS))
    channel_mode.reception_mode = _mode(channel_mode.reception_mode)
    if is_created:
        with session.no_autoflush:
            taken = session.scalar(select(ChannelMode.channel).where(ChannelMode.channel == channel_mode.channel))
        if taken is not None:
            raise Conflict("channel_mode_exists",
                           "The channel %(channel)s already has its own mode: edit that one instead.",
                           channel=Label(CHANNEL_LABELS[channel_mode.channel]))
