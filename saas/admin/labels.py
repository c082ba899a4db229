"""Column, filter and form labels of the Flask-Admin model views, translated when shown: one mapping,
so a field reads the same on every screen, and a view overrides it where its field means something
narrower. Flask-Admin takes a form field's label from ``column_labels`` unless ``form_args`` gives one."""
from flask_babel import lazy_gettext, lazy_pgettext

from ..i18n import ContextMsgid

_SHARED = {
    # A person's name and a thing's read differently in Chinese.
    "name": lazy_pgettext("thing", "Name"), "display_name": lazy_gettext("Name"), "email": lazy_gettext("Email"),
    "role": lazy_gettext("Role"), "presence": lazy_gettext("Presence"), "is_enabled": lazy_gettext("Enabled"),
    "enabled": lazy_gettext("Enabled"), "created_at": lazy_gettext("Created"), "updated_at": lazy_gettext("Updated"),
    "kind": lazy_gettext("Kind"), "text": lazy_gettext("Text"), "message": lazy_gettext("Message"),
    "description": lazy_gettext("Description"), "department": lazy_gettext("Department"),
    "department_id": lazy_gettext("Department"), "channel": lazy_gettext("Channel"),
    "reception_mode": lazy_gettext("Reception mode"), "time_zone": lazy_gettext("Time zone"),
}


def shared_labels(**overrides) -> dict:
    """The shared labels, with this view's own ``overrides``."""
    return {**_SHARED, **overrides}


def translated_choices(labels: dict, keys=None) -> list[tuple[str, object]]:
    """``(key, label)`` choices from a service's ``N_``- or ``NP_``-marked labels (in ``keys`` order
    when given), each label translated when the form or list is drawn."""
    return [(key, _lazy(labels[key])) for key in (labels if keys is None else keys)]


def _lazy(label: str):
    return lazy_pgettext(label.context, label) if isinstance(label, ContextMsgid) else lazy_gettext(label)
