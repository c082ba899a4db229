"""What a connecting visitor is offered before chatting: the settings part of the ``session`` payload
(departments, pre-chat form, look, availability), kept per server process and tenant.

Idle visitors cost a connect each, and the offer is the same for all of them: so it is built
once per change of the settings it comes from (``settings_versions``, VISITOR_OFFER, read in the
visitor's own statement), and per language on the first visitor of that language. What moves
without a setting changing is decided at each connect: business hours against the clock, and
whether anyone is online.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy.orm import Session

from tenants import TenantRef

from .. import i18n
from ..models import (
    AutoReply, BusinessHours, ChannelMode, Department, LanguageSettings, ReceptionSettings, TranslatedText,
    WidgetLook, utcnow,
)
from ..models.auto_replies import NO_AGENT, OUTSIDE_HOURS
from ..models.reception import HUMAN_ONLY
from ..models.settings_versions import VISITOR_OFFER
from . import auto_replies, business_hours, languages, reception, routing, settings_versions, visitors, widget_look

VERSION = settings_versions.version(VISITOR_OFFER)
settings_versions.watch(VISITOR_OFFER, ReceptionSettings, ChannelMode, Department, BusinessHours, LanguageSettings,
                        TranslatedText, WidgetLook, AutoReply)


# What ``languages.department_name`` and ``reply_text`` read of a row, kept without the session.
class _Department(NamedTuple):
    id: int
    public_name: str
    description: str | None


class _Reply(NamedTuple):
    id: int
    text: str


@dataclass(frozen=True)
class _InLanguage:
    departments: list[tuple[_Department, str]]  # with its name in the language
    look: dict
    outside_hours_message: str | None
    no_agent_message: str | None  # only where people answer alone (human_only)


class Offer:
    def __init__(self, session: Session):
        settings = reception.settings(session)
        self.workspace_language = languages.settings(session).language
        self.department_picker = settings.department_picker
        self.prechat_fields = settings.prechat_fields or []
        self._departments = [_Department(d.id, d.public_name, d.description)
                             for d in reception.visible_departments(session)]
        self._hours = business_hours.enabled_hours(session, None)
        self._look, self._hides_outside_hours = widget_look.settled(session)
        outside_hours = auto_replies.rule(session, None, OUTSIDE_HOURS)
        no_agent = auto_replies.rule(session, None, NO_AGENT)
        if no_agent is not None and reception.mode_for(session, "web", None) != HUMAN_ONLY:
            no_agent = None
        self._replies = [_Reply(r.id, r.text) if r is not None else None for r in (outside_hours, no_agent)]
        self._in_language: dict[str, _InLanguage] = {}

    def language(self, browser_tags: Iterable[str]) -> str:
        """As ``languages.widget_language``."""
        return self.workspace_language or languages.best_language(browser_tags)

    def _texts(self, session: Session, language: str) -> _InLanguage:
        texts = self._in_language.get(language)
        if texts is None:
            texts = self._in_language[language] = _InLanguage(
                [(d, languages.department_name(session, d, language)) for d in self._departments],
                languages.localize_look(session, dict(self._look), language, i18n.script_texts(language)),
                *(languages.reply_text(session, reply, language) if reply is not None else None
                  for reply in self._replies))
        return texts

    def departments(self, session: Session, language: str) -> list[tuple[_Department, str]]:
        """The departments offered, each with its name in ``language``."""
        return self._texts(session, language).departments

    def payload(self, session: Session, language: str) -> dict:
        """The rest of the ``session`` payload's part that comes from the settings, now."""
        texts = self._texts(session, language)
        now = utcnow()

        def open_now() -> bool:
            return self._hours is None or self._hours.open_at(now)

        return {
            "department_picker": self.department_picker,
            "prechat_fields": self.prechat_fields,
            # Closed for business or nobody online: the widget offers the leave-a-message form.
            "availability": auto_replies.decide_availability(
                open_now(), lambda: texts.outside_hours_message, lambda: texts.no_agent_message,
                lambda: routing.online_agents(session, None)),
            # Colour, side, texts and logo: a change in the admin shows at the widget's next load.
            "look": widget_look.shown(texts.look, self._hides_outside_hours, open_now),
        }


_offers = settings_versions.Copies(Offer)


def arrive(session: Session, tenant: TenantRef, token: str | None,
           browser_tags: Iterable[str]) -> tuple[visitors.Arrival, Offer, str]:
    """The connecting visitor (``visitors.identify``, committed), with the offer as of now and the
    widget's language for them, remembered for what the bot and automatic replies say to them
    later (when no browser is asking)."""
    browser_tags = list(browser_tags)
    known = _offers.latest()
    arrival = visitors.arriving(session, tenant, token, VERSION,
                                language=known.language(browser_tags) if known is not None else None)
    offer = _offers.get(session, arrival.read_along[0])
    language = offer.language(browser_tags)
    arrival.visitor.language = language  # as guessed, or as before: no UPDATE
    session.commit()
    return arrival, offer, language
