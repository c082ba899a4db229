"""Ending an account's login sessions: its ``session_epoch`` is part of every login cookie
(``User.get_id``), so bumping it makes ``load_user`` refuse cookies made before, wherever they are.

Switching an account off or changing its password bumps it here, on the attribute itself, so every
path (team screen, reset link, CLI) ends the sessions without having to remember to."""
from sqlalchemy import event
from sqlalchemy.orm.base import NO_VALUE

from ..models import User


def end_sessions(user: User) -> None:
    user.session_epoch = (user.session_epoch or 0) + 1


@event.listens_for(User.is_enabled, "set")
def _disabled(user: User, value, old_value, _initiator) -> None:
    if old_value is True and value is False:
        end_sessions(user)


@event.listens_for(User.password_hash, "set")
def _password_changed(user: User, value, old_value, _initiator) -> None:
    if old_value not in (NO_VALUE, None) and value != old_value:
        end_sessions(user)
