"""Languages (issue 12): which languages exist, the workspace's and each agent's choice, and the
per-language versions of the texts admins write for visitors (bot greeting and fallback, automatic
replies, department names), each falling back to the default text.

Language codes are BCP 47 tags as browsers and ``Intl`` speak them; ``saas.i18n`` maps them to
the Babel locales of the gettext catalogues.
"""
from collections.abc import Iterable
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (AutoReply, Conversation, Department, LanguageSettings, RatingSettings, TranslatedText, User,
                      Visitor)
from ..models.auto_replies import AUTO_REPLY_KINDS
from . import reception, widget_look
from .errors import Forbidden, Invalid

DEFAULT_LANGUAGE = "en"
# Each language in its own name: the pickers show it so, whatever the page's language.
LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
MAX_TEXT = 2000
BOT_TEXTS = {"bot_greeting": "Bot greeting", "bot_fallback": "Bot fallback answer"}
LOOK_TEXTS = {"launcher_text": "Widget launcher text", "greeting": "Widget greeting"}


def check_language(code) -> str:
    if code not in LANGUAGES:
        raise Invalid("unknown_language", "Unknown language %(code)r: use one of %(languages)s.",
                      code=str(code)[:20], languages=", ".join(LANGUAGES))
    return code


def best_language(tags: Iterable[str]) -> str:
    """The first supported language among a browser's preferred tags (``zh-TW`` reads ``zh-CN``
    better than English), else the default."""
    for tag in tags:
        primary = str(tag).replace("_", "-").split("-")[0].lower()
        for code in LANGUAGES:
            if code.split("-")[0].lower() == primary:
                return code
    return DEFAULT_LANGUAGE


def settings(session: Session) -> LanguageSettings:
    return session.get(LanguageSettings, 1)


def set_workspace_language(session: Session, code: str | None) -> LanguageSettings:
    """``code`` fixes the widget (and the team's default) to a language; empty follows the browser."""
    row = settings(session)
    row.language = check_language(code) if code else None
    session.commit()
    return row


def widget_language(session: Session, browser_tags: Iterable[str]) -> str:
    return settings(session).language or best_language(browser_tags)


def staff_language(session: Session, user: User | None, browser_tags: Iterable[str]) -> str:
    """Console and admin pages: the agent's profile, then the workspace's, then the browser's."""
    if user is not None and user.language:
        return user.language
    return widget_language(session, browser_tags)


def check_time_zone(name) -> str:
    if name not in available_timezones():
        raise Invalid("unknown_time_zone",
                      "Unknown time zone %(zone)r: use an IANA name such as Asia/Shanghai.", zone=str(name)[:40])
    return name


def set_profile(session: Session, user: User, *, language: str, time_zone: str) -> User:
    """The agent's own choices; empty values follow the workspace and the browser. Both are
    checked before either is kept."""
    user.language, user.time_zone = (check_language(language) if language else None,
                                     check_time_zone(time_zone) if time_zone else None)
    session.commit()
    return user


def text_keys(session: Session) -> dict[str, tuple[str, str]]:
    """Every visitor text an admin can translate: key → (label for the admin, default text)."""
    reception_row = reception.settings(session)
    keys = {key: (label, getattr(reception_row, key)) for key, label in BOT_TEXTS.items()}
    look = widget_look.look(session)
    keys.update({f"widget_{field}": (label, getattr(look, field)) for field, label in LOOK_TEXTS.items()})
    kind_order = {kind: i for i, kind in enumerate(AUTO_REPLY_KINDS)}
    replies = sorted(session.scalars(select(AutoReply)), key=lambda r: (r.department_id or 0, kind_order[r.kind]))
    for reply in replies:
        scope = reply.department.name if reply.department else "workspace"
        keys[f"auto_reply:{reply.id}"] = (f"Automatic reply: {reply.kind.replace('_', ' ')} ({scope})", reply.text)
    for department in session.scalars(select(Department).order_by(Department.name)):
        keys[f"department:{department.id}"] = (f"Department name: {department.name}", department.public_name)
    # A tag offered on several levels or both scales is one text: it means the same everywhere.
    tags_by_level = (session.get(RatingSettings, 1).tags or {}).values()
    for tag in dict.fromkeys(tag for levels in tags_by_level for tags in levels.values() for tag in tags):
        keys[_rating_tag_key(tag)] = (f"Rating tag: {tag}", tag)
    return keys


def check_translation(session: Session, actor: User, row: TranslatedText) -> None:
    """Validate a per-language text an admin is saving (Flask-Admin's on_model_change): a known
    text, a known language, once per text and language, 1 to MAX_TEXT characters."""
    if not actor.is_admin:
        raise Forbidden("forbidden", "Only owners and admins translate the workspace's texts.")
    if row.text_key not in text_keys(session):
        raise Invalid("unknown_text", "Choose one of the workspace's visitor texts.")
    check_language(row.language)
    row.text = (row.text or "").strip()
    if not row.text or len(row.text) > MAX_TEXT:
        raise Invalid("invalid_text", "The text must be 1 to %(limit)s characters.", limit=MAX_TEXT)
    with session.no_autoflush:  # the row being saved is not a duplicate of itself
        taken = session.scalar(select(TranslatedText.id).where(
            TranslatedText.id != (row.id or 0), TranslatedText.text_key == row.text_key,
            TranslatedText.language == row.language))
    if taken is not None:
        raise Invalid("duplicate_translation", "This text already has a version in that language: edit that one.")


def localized(session: Session, text_key: str, language: str | None, default: str) -> str:
    """The text in the visitor's language when an admin gave one, else the default text."""
    if not language:
        return default
    text = session.scalar(select(TranslatedText.text).where(TranslatedText.text_key == text_key,
                                                            TranslatedText.language == language))
    return text or default


def reply_text(session: Session, reply: AutoReply, language: str | None) -> str:
    return localized(session, f"auto_reply:{reply.id}", language, reply.text)


def auto_reply_text(session: Session, conversation: Conversation, reply: AutoReply) -> str:
    """An automatic reply in the language of the conversation's visitor."""
    return reply_text(session, reply, session.get(Visitor, conversation.visitor_id).language)


def localize_look(session: Session, look: dict, language: str, built_in: dict[str, str]) -> dict:
    """The widget look's texts for this visitor: the admin's version in their language, else the
    built-in translation of an unchanged default (``built_in``: English msgid → text), else as stored."""
    for field in LOOK_TEXTS:
        look[field] = localized(session, f"widget_{field}", language, built_in.get(look[field], look[field]))
    return look


def department_name(session: Session, department: Department, language: str | None) -> str:
    return localized(session, f"department:{department.id}", language, department.public_name)


def _rating_tag_key(tag: str) -> str:
    return f"rating_tag:{tag}"


def rating_tag(session: Session, tag: str, language: str | None) -> str:
    """What a visitor of ``language`` sees for a stored rating tag; they still answer with the tag."""
    return localized(session, _rating_tag_key(tag), language, tag)
