"""Which known users have a live /visitor socket (the SDK in an app's web view, or the widget):
an agent's reply in an app conversation with none is pushed to the tenant's webhook instead
(``saas.services.app_channel``). Kept as rows, so every server process sees every other's."""
from flask import request, session

from tenants import tenant_context, tenant_session

from ..models import Visitor
from ..services import app_channel
from . import rooms
from .guard import current_identity

_TRACKED = "switchboard.app_socket"


def opened(visitor: Visitor) -> None:
    """On a /visitor connect, inside the tenant. Anonymous visitors have no app: nothing stored."""
    if visitor.external_id is None:
        return
    app_channel.socket_opened(tenant_session(), visitor, request.sid)
    session[_TRACKED] = True


def on_disconnect(*_reason):
    identity = current_identity()
    if identity is None or not session.get(_TRACKED):
        return
    with tenant_context(identity.tenant):
        app_channel.socket_closed(tenant_session(), request.sid)


def register(socketio) -> None:
    socketio.on_event("disconnect", on_disconnect, namespace=rooms.VISITOR_NAMESPACE)
