"""Which language and time zone each viewer gets (issue 12), through Flask-Babel.

Console and admin pages (Flask-Admin's own screens included): the user's profile choice, then the
workspace's language, then the browser's ``Accept-Language``. The widget: the workspace's fixed
language, then the visitor's browser. Times are stored in UTC and shown in the viewer's zone: the
profile's on the server (Babel's ``format_datetime``), the profile's or else the browser's in JS.

The catalogues are ``saas/translations/<locale>/LC_MESSAGES/messages.po`` (with ``messages.mo``
beside each, compiled by ``make translations``). JavaScript gets its strings from the server: the
msgids extracted from ``saas/static/*.js`` (``t('…')`` calls), translated, as a ``texts`` dict.
"""
import functools
from datetime import datetime
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import Translations
from flask import g, has_request_context, request
from flask_babel import Babel, format_datetime, get_timezone
from flask_login import current_user

from tenants import has_tenant, tenant_session

from .msgids import NP_, ContextMsgid, Label, N_  # noqa: F401 (re-exported: the usual import)
from .services import languages

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# Language code (BCP 47, what browsers and Intl speak) → the Babel locale naming its catalogue
# folder; Flask-Admin's own catalogues use the same folder names.
BABEL_LOCALES = {"en": "en", "zh-CN": "zh_Hans_CN"}

babel = Babel()


def browser_languages() -> list[str]:
    """The request's ``Accept-Language`` tags, most preferred first (the widget's handshake too)."""
    return [tag for tag, _quality in request.accept_languages]


def request_language() -> str:
    """This request's language code, chosen once per request."""
    if not has_request_context():
        return languages.DEFAULT_LANGUAGE
    if "switchboard_language" not in g:
        if has_tenant():
            session = tenant_session()
            user = current_user if current_user.is_authenticated else None
            if not session.is_active:
                # Asked for a refusal's message after a failed flush, before its rollback: no read
                # is possible now, so the profile or the browser decides, this once.
                return languages.best_language([user.language] if user and user.language else browser_languages())
            # Asked, perhaps, for a refusal's message while a form's row is pending: reading the
            # settings must not flush that row.
            with session.no_autoflush:
                g.switchboard_language = languages.staff_language(session, user, browser_languages())
        else:
            g.switchboard_language = languages.best_language(browser_languages())
    return g.switchboard_language


def _babel_locale() -> str:
    return BABEL_LOCALES[request_language()]


def _time_zone() -> str | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user.time_zone
    return None  # Flask-Babel's default: UTC


@functools.cache
def _script_msgids() -> tuple[str, ...]:
    with open(TRANSLATIONS / "messages.pot", "rb") as template:
        catalog = read_po(template)
    return tuple(message.id for message in catalog
                 if message.id and any(path.endswith(".js") for path, _line in message.locations))


@functools.cache
def _catalogue(language: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [BABEL_LOCALES[language]])


def translate(language: str | None, msgid: str, **values) -> str:
    """One catalogue string in a given language (a visitor's, not this request's), English for
    no or an unknown language: what the widget shows from the server outside its own texts. With
    ``values``, its ``%(name)s`` placeholders are filled (``Label`` values translated too); without,
    a ``%`` in the text is left alone."""
    if language in BABEL_LOCALES and language != languages.DEFAULT_LANGUAGE:
        catalogue = _catalogue(language)
        text = (catalogue.pgettext(msgid.context, msgid) if isinstance(msgid, ContextMsgid)
                else catalogue.gettext(msgid))
    else:
        text = msgid
    if not values:
        return text
    return text % {name: translate(language, value) if isinstance(value, Label) else value
                   for name, value in values.items()}


@functools.cache
def script_texts(language: str) -> dict[str, str]:
    """The JavaScript strings of ``language``, msgid → text; empty for the source language."""
    if language == languages.DEFAULT_LANGUAGE:
        return {}
    return {msgid: _catalogue(language).gettext(msgid) for msgid in _script_msgids()}


def translated(msgid: str) -> str:
    """``{{ label | translated }}``: a msgid marked ``N_`` where it was defined, in this request's language.
    Unlike Jinja's ``_``, it applies no ``%`` formatting, so labels such as "Satisfaction (%)" pass."""
    return translate(request_language(), msgid)


def local_time(value: datetime) -> str:
    """A stored (UTC) time in the viewer's language and zone, the zone named: ``{{ t | local_time }}``.
    Flask-Babel's own filters (``dateformat``, ``decimalformat``…) format the rest."""
    return f"{format_datetime(value, 'short')} {get_timezone().zone}"


def init_app(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=_babel_locale, timezone_selector=_time_zone)
    app.add_template_filter(local_time)
    app.add_template_filter(translated)

    @app.context_processor
    def language_context():
        language = request_language()
        return {"page_language": language, "page_texts": script_texts(language)}
