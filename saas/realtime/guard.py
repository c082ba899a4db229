"""The one gate every socket event passes: who is asking (tenant + role), is the payload valid,
and turning every refusal or failure into an error acknowledgement instead of a crash."""
import contextvars
import functools
import logging
from dataclasses import dataclass
from typing import NoReturn

import greenlet
from flask import request, session
from flask_socketio import ConnectionRefusedError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from tenants import TenantRef, tenant_context, tenant_session

from ..extensions import socketio
from ..i18n import N_, translate
from ..models import User, Visitor
from ..observability import logs
from ..security import event_limits
from ..services.errors import ServiceError, validation_message
from . import shutdown

log = logging.getLogger(__name__)
_IDENTITY_KEY = "switchboard.socket_identity"
_LANGUAGE_KEY = "switchboard.socket_language"


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    kind: str  # "visitor" or "agent"
    tenant: TenantRef
    subject_id: int  # visitors.id or users.id, inside this tenant
    role: str  # "visitor", or the agent's role
    public_id: str = ""  # the visitor's public id (for its room)
    session_epoch: int = 0  # an agent's login epoch at connect (see saas.security.session_epochs)


def remember(identity: SocketIdentity) -> None:
    # Flask-SocketIO keeps ``session`` per connection in memory; nothing here reaches a cookie, so
    # the immutable identity itself is kept (not a dict of it, rebuilt on every event).
    session[_IDENTITY_KEY] = identity


def remember_language(language: str) -> None:
    """The language this connection's person reads (the widget's for a visitor, the console's for
    an agent, as chosen at connect), for the messages of their error acks."""
    session[_LANGUAGE_KEY] = language


def current_identity() -> SocketIdentity | None:
    return session.get(_IDENTITY_KEY)


def in_own_greenlet(connect_handler):
    """Run a connect handler in a greenlet of its own, started at once and finished before the
    connect is answered.

    python-socketio runs connect handlers on the connection's reader greenlet, which lives as long
    as the connection; on Python 3.11+ every greenlet keeps the frame stack it grew to (a 16 KB
    chunk, resident as deep as it went), so the storage calls of a connect stayed resident for
    every idle visitor (some 3 KB each, bench/idle_memory.py). A raw greenlet whose parent is this
    one: the handler's result or exception comes back here when it ends, and while it waits on I/O
    gevent's hub resumes it as any other; no hub round is added (a gevent.spawn would let other
    greenlets run first). The copied context carries the request context Flask-SocketIO pushed."""
    @functools.wraps(connect_handler)
    def joined(*args):
        child = greenlet.greenlet(connect_handler)
        child.gr_context = contextvars.copy_context()
        return child.switch(*args)

    return joined


def visitor_of(identity: SocketIdentity) -> Visitor:
    return tenant_session().get(Visitor, identity.subject_id)


def agent_of(identity: SocketIdentity) -> User:
    """The agent, or None once their account is gone."""
    return tenant_session().get(User, identity.subject_id)


def refuse_connection(code: str, message: str) -> NoReturn:
    """Refuse a connect; the client gets ``err.data == {code, message}`` (needs both arguments)."""
    raise ConnectionRefusedError(message, {"code": code, "message": message})


def error(code: str, message: str, /, **values) -> dict:
    """An error ack: ``message`` is a msgid, with ``values`` for its placeholders, read in the
    connection's language (``remember_language``); ``code`` is what clients switch on."""
    text = translate(session.get(_LANGUAGE_KEY), message, **values)
    return {"ok": False, "error": {"code": code, "message": text}}


_DISCONNECT_DELAY_SECONDS = 1.0


def _disconnect_after_reply(sid: str, namespace: str) -> None:
    """Close the connection once the error acknowledgement has gone out: on its way out the event
    still closes its database session, which yields to other greenlets (PostgreSQL), so a task
    started now could close the connection before the acknowledgement is sent."""
    def close_later():
        socketio.sleep(_DISCONNECT_DELAY_SECONDS)
        socketio.server.disconnect(sid, namespace=namespace)

    socketio.start_background_task(close_later)


def _current_role(identity: SocketIdentity, agent: User | None) -> str | None:
    """The role to decide with, read now (``agent``: an agent's row, just read): an agent switched
    off, logged out or given a new password since connecting has no role (None), and one whose
    role changed has the new one."""
    if identity.kind != "agent":
        return identity.role
    if agent is None or not agent.is_enabled or agent.session_epoch != identity.session_epoch:
        return None
    return agent.role


def socket_event(kind: str, payload_model=None, roles: tuple[str, ...] | None = None, limit: str | None = None):
    """Wrap a handler ``fn(identity[, payload]) -> dict`` as a Socket.IO event handler; ``limit``
    names the ``event_limits`` kind it counts against (valid payloads only: junk is refused cheaply
    by validation, and a client's bad event must not cost it the next good one)."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(data=None, *_extra):
            identity = current_identity()
            if identity is None or identity.kind != kind:
                return error("unauthenticated", N_("Connect and authenticate first."))
            try:
                with tenant_context(identity.tenant):
                    # Held until the handler is done: the session keeps only weak references to
                    # unchanged rows, and the handler's agent_of() then finds this one there.
                    agent = agent_of(identity) if identity.kind == "agent" else None
                    role = _current_role(identity, agent)
                    if role is None:
                        _disconnect_after_reply(request.sid, request.namespace)
                        return error("session_ended", N_("Your session has ended: log in again."))
                    if roles is not None and role not in roles:
                        return error("forbidden", N_("Your role does not allow this."))
                    args = [identity]
                    if payload_model is not None:
                        try:
                            args.append(payload_model.model_validate({} if data is None else data))
                        except ValidationError as exc:
                            return error("invalid_payload", validation_message(exc))
                    if limit is not None and not event_limits.allow(identity.tenant.slug, identity.public_id, limit):
                        return error("rate_limited", event_limits.REFUSAL)
                    result = handler(*args)
            except ServiceError as exc:
                return error(exc.code, exc.msgid, **exc.values)
            except DBAPIError:
                log.exception("storage error in socket event %s", handler.__name__)
                return error("unavailable", N_("Storage is unavailable right now; retry shortly."))
            except Exception:
                log.exception("unexpected error in socket event %s", handler.__name__)
                return error("server_error", N_("Something went wrong on our side."))
            return {"ok": True, **(result or {})}

        # Carried up through every functools.wraps layer to the registered handler: what an event
        # accepts can be read off the server (tests/test_security_attacks.py and _fuzz.py do).
        wrapper.payload_model = payload_model
        return logs.socket_event(shutdown.tracked(wrapper))

    return decorate
