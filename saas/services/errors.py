from pydantic import ValidationError


def validation_message(exc: ValidationError, whole: str = "payload") -> str:
    """A pydantic refusal in one line a client can act on: where (``whole`` when the input itself
    is wrong) and why, from its first error."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or whole
    return f"{where}: {first.get('msg', 'invalid')}"


class ServiceError(Exception):
    """A refusal a user can act on: ``code`` is stable for clients, ``message`` is for people.

    The message is a catalogue msgid (``make translations`` extracts these constructors' second
    argument) with ``%(name)s`` placeholders filled from ``values``, so each reader gets it in their
    language: ``text(language)``, or ``message`` in this request's viewer's language (English
    outside a request; ``str(exc)`` is always English, for logs). A value that is itself a msgid
    (a channel's or a field's name) is passed as ``saas.i18n.Label`` and translated with the sentence.
    """

    status = 400

    def __init__(self, code: str, message: str, /, **values):
        self.code = code
        self.msgid = message
        self.values = values
        super().__init__(self.text(None))

    def text(self, language: str | None) -> str:
        from saas.i18n import translate  # saas.i18n imports the services, which import this module
        return translate(language, self.msgid, **self.values)

    @property
    def message(self) -> str:
        from saas.i18n import request_language
        return self.text(request_language())


class Invalid(ServiceError):
    status = 400


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class RateLimited(ServiceError):
    status = 429
