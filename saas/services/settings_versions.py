"""Per-process copies of settings, kept honest by version counters (issue 9).

Hot paths (a message, a visitor's connect) keep a copy of the settings they read, per server
process and tenant, and read the setting's counter (``version``) in a statement they run anyway: a
copy is rebuilt only when its counter moved on. Any flush that changes a watched model bumps its
counters in its own transaction (one ``after_flush`` hook: no path that saves through the ORM can
forget it), so a change saved through any process applies from the next event on.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from tenants.context import get_current_tenant

from ..models import SettingsVersion

# What changing (or only removing) rows of a model moves on, and what else a move does then.
_CHANGED: list[tuple[type, str]] = []
_REMOVED: list[tuple[type, str]] = []
_THEN: dict[str, list[Callable[[Session], None]]] = {}


def watch(name: str, *models: type, removed: tuple[type, ...] = (),
          then: Callable[[Session], None] | None = None) -> None:
    """Any change to rows of ``models``, or a removal of rows of ``removed``, moves ``name`` on; then
    ``then(session)`` runs in the same transaction."""
    _CHANGED.extend((model, name) for model in models)
    _REMOVED.extend((model, name) for model in removed)
    if then is not None:
        _THEN.setdefault(name, []).append(then)


def version(name: str):
    """The counter, as a scalar subquery to read along in a statement run anyway."""
    return select(SettingsVersion.version).where(SettingsVersion.name == name).scalar_subquery()


@event.listens_for(Session, "after_flush")
def _settings_changed(session: Session, _flush_context) -> None:
    def moved(rows, watched) -> set[str]:
        return {name for row in rows for model, name in watched if isinstance(row, model)}

    names = moved(chain(session.new, session.dirty, session.deleted), _CHANGED) | moved(session.deleted, _REMOVED)
    if not names:
        return
    session.execute(update(SettingsVersion).where(SettingsVersion.name.in_(sorted(names)))
                    .values(version=SettingsVersion.version + 1))
    for name in sorted(names):
        for then in _THEN.get(name, ()):
            then(session)


class Copies:
    """One process's copies, per tenant, of what ``build(session)`` makes of some settings."""

    def __init__(self, build: Callable[[Session], object]):
        self._build = build
        self._copies: dict[str, tuple[int, object]] = {}  # by widget key, as the knowledge base's matchers

    def latest(self):
        """The copy this process has, of whatever version (None before the first ``get``): a guess."""
        cached = self._copies.get(get_current_tenant().widget_key)
        return cached[1] if cached is not None else None

    def get(self, session: Session, version: int):
        """The copy as of ``version`` (read in this transaction) or later."""
        key = get_current_tenant().widget_key
        cached = self._copies.get(key)
        if cached is None or cached[0] != version:
            # Built after the version was read, so never older than it: at worst newer, and rebuilt next time.
            cached = self._copies[key] = (version, self._build(session))
        return cached[1]
