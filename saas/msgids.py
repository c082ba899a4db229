"""Markers for catalogue msgids, with no imports: the services use them, and ``saas.i18n`` (which
re-exports them and does the translating) imports the services."""


def N_(msgid: str) -> str:
    """Marks a msgid for the catalogue where the text is stored or compared in English and
    translated only when shown (``saas.i18n.translate``)."""
    return msgid


class Label(str):
    """A value that is itself a msgid (an ``N_``-marked name: a channel, a field, a level), so a
    sentence it fills is translated whole: ``translate(language, "Unknown %(channel)s", channel=Label(name))``."""


class ContextMsgid(str):
    """A msgid read in a context (``pgettext``), where one English word reads differently in Chinese."""

    def __new__(cls, context: str, msgid: str):
        marked = super().__new__(cls, msgid)
        marked.context = context
        return marked


def NP_(context: str, msgid: str) -> str:
    """``N_`` with a context: the role "Admin" is not the section "Admin"."""
    return ContextMsgid(context, msgid)
