"""What a visitor is offered before chatting, and which reception mode applies to a conversation."""
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..msgids import N_, Label
from ..models import ChannelMode, Department, ReceptionSettings
from ..models.reception import CHANNELS
from .accounts import EMAIL_PATTERN
from .errors import Invalid

PHONE_PATTERN = re.compile(r"^\+?[0-9 ()./-]{6,32}$")
# How a pre-chat field is named inside a sentence shown to the visitor ("Please fill in your …").
PRECHAT_FIELD_NAMES = {"name": N_("name"), "email": N_("email"), "phone": N_("phone")}


def settings(session: Session) -> ReceptionSettings:
    return session.get(ReceptionSettings, 1)


def mode_for(session: Session, channel: str, department: Department | None) -> str:
    """Department override, else channel override, else the tenant's default."""
    if department is not None and department.reception_mode:
        return department.reception_mode
    channel_mode = session.get(ChannelMode, channel)
    return channel_mode.reception_mode if channel_mode else settings(session).reception_mode


def visible_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.is_hidden.is_(False)).order_by(Department.name)))


def department_for_visitor(session: Session, department_id) -> Department | None:
    if department_id is None:
        return None
    department = session.get(Department, department_id) if isinstance(department_id, int) else None
    if department is None or department.is_hidden:
        raise Invalid("unknown_department", "Please choose one of the departments offered.")
    return department


def clean_channel(channel) -> str:
    if channel not in CHANNELS:
        raise Invalid("unknown_channel", "A channel is one of: %(channels)s.", channels=", ".join(CHANNELS))
    return channel


def clean_prechat(session: Session, form: dict | None) -> dict:
    """The pre-chat answers the tenant asks for, validated; unasked fields are refused."""
    form = {k: (v.strip() if isinstance(v, str) else v) for k, v in (form or {}).items()}
    asked = {f["field"]: f.get("required", False) for f in settings(session).prechat_fields or []}
    unexpected = set(form) - set(asked)
    if unexpected:
        raise Invalid("invalid_prechat", "Unexpected field: %(field)s.", field=sorted(unexpected)[0])
    answers = {}
    for field, required in asked.items():
        value, named = form.get(field) or "", Label(PRECHAT_FIELD_NAMES[field])
        if not isinstance(value, str):
            raise Invalid("invalid_prechat", "The %(field)s must be text.", field=named)
        if not value:
            if required:
                raise Invalid("prechat_required", "Please fill in your %(field)s.", field=named)
            continue
        if field == "name" and len(value) > 80:
            raise Invalid("invalid_prechat", "A name is at most 80 characters.")
        if field == "email" and not EMAIL_PATTERN.match(value):
            raise Invalid("invalid_prechat", "Please enter a valid email address.")
        if field == "phone" and not PHONE_PATTERN.match(value):
            raise Invalid("invalid_prechat", "Please enter a valid phone number.")
        answers[field] = value
    return answers


def prechat_required(session: Session) -> bool:
    return any(f.get("required") for f in settings(session).prechat_fields or [])
