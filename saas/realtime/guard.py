"""The one gate every socket event passes: who is asking (tenant + role), is the payload valid,
and turning every refusal or failure into an error acknowledgement instead of a crash."""
import functools
import logging
from dataclasses import asdict, dataclass
from typing import NoReturn

from flask import session
from flask_socketio import ConnectionRefusedError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from tenants import TenantRef, tenant_context

from ..observability import logs
from ..security import event_limits
from ..services.errors import ServiceError
from . import shutdown

log = logging.getLogger(__name__)
_IDENTITY_KEY = "switchboard.socket_identity"


@dataclass(frozen=True)
class SocketIdentity:
    kind: str  # "visitor" or "agent"
    tenant: TenantRef
    subject_id: int  # visitors.id or users.id, inside this tenant
    role: str  # "visitor", or the agent's role
    public_id: str = ""  # the visitor's public id (for its room)


def remember(identity: SocketIdentity) -> None:
    # Flask-SocketIO keeps ``session`` per connection in memory; nothing here reaches a cookie.
    session[_IDENTITY_KEY] = asdict(identity)


def current_identity() -> SocketIdentity | None:
    data = session.get(_IDENTITY_KEY)
    if not data:
        return None
    return SocketIdentity(**{**data, "tenant": TenantRef(**data["tenant"])})


def refuse_connection(code: str, message: str) -> NoReturn:
    """Refuse a connect; the client gets ``err.data == {code, message}`` (needs both arguments)."""
    raise ConnectionRefusedError(message, {"code": code, "message": message})


def error(code: str, message: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": message}}


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "payload"
    return f"{where}: {first.get('msg', 'invalid')}"


def socket_event(kind: str, payload_model=None, roles: tuple[str, ...] | None = None, limit: str | None = None):
    """Wrap a handler ``fn(identity[, payload]) -> dict`` as a Socket.IO event handler; ``limit``
    names the ``event_limits`` kind it counts against (valid payloads only: junk is refused cheaply
    by validation, and a client's bad event must not cost it the next good one)."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(data=None, *_extra):
            identity = current_identity()
            if identity is None or identity.kind != kind:
                return error("unauthenticated", "Connect and authenticate first.")
            if roles is not None and identity.role not in roles:
                return error("forbidden", "Your role does not allow this.")
            args = [identity]
            if payload_model is not None:
                try:
                    args.append(payload_model.model_validate({} if data is None else data))
                except ValidationError as exc:
                    return error("invalid_payload", _validation_message(exc))
            if limit is not None and not event_limits.allow(identity.tenant.slug, identity.public_id, limit):
                return error("rate_limited", event_limits.REFUSAL)
            try:
                with tenant_context(identity.tenant):
                    result = handler(*args)
            except ServiceError as exc:
                return error(exc.code, exc.message)
            except DBAPIError:
                log.exception("storage error in socket event %s", handler.__name__)
                return error("unavailable", "Storage is unavailable right now; retry shortly.")
            except Exception:
                log.exception("unexpected error in socket event %s", handler.__name__)
                return error("server_error", "Something went wrong on our side.")
            return {"ok": True, **(result or {})}

        return logs.socket_event(shutdown.tracked(wrapper))

    return decorate
