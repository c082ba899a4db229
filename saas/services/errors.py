class ServiceError(Exception):
    """A refusal a user can act on: ``code`` is stable for clients, ``message`` is for people."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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
