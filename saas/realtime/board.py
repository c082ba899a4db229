"""The real-time board of agent work (namespace /agent, owners and admins): a snapshot on
``board:watch``, then ``board:updated`` whenever presence, assignments or queues change."""
import logging

from flask import current_app
from flask_socketio import join_room

from tenants import TenantRef, tenant_context, tenant_session

from ..extensions import socketio
from ..models import ADMIN_ROLES
from ..services.reports import live_board
from . import rooms
from .guard import SocketIdentity, socket_event
from .payloads import Empty

log = logging.getLogger(__name__)

# A burst of routing changes (a queue filling up) is sent as one snapshot, this long after the first.
BOARD_REFRESH_DELAY = 0.5
_pending: set[TenantRef] = set()


@socket_event("agent", Empty, roles=ADMIN_ROLES)
def on_watch(identity: SocketIdentity, _request: Empty):
    join_room(rooms.board(identity.tenant))
    return {"board": live_board.snapshot(tenant_session())}


def changed(tenant: TenantRef) -> None:
    """Presence, an assignment or a queue changed: watchers get a fresh snapshot shortly."""
    if tenant in _pending:
        return
    _pending.add(tenant)
    socketio.start_background_task(_send_snapshot, current_app._get_current_object(), tenant)


def _send_snapshot(app, tenant: TenantRef) -> None:
    socketio.sleep(BOARD_REFRESH_DELAY)
    _pending.discard(tenant)
    try:
        with app.app_context(), tenant_context(tenant):
            board = live_board.snapshot(tenant_session())
    except Exception:  # a failed refresh must not kill the server's greenlet; the next change retries
        log.exception("board refresh failed for %s", tenant.slug)
        return
    socketio.emit("board:updated", board, to=rooms.board(tenant), namespace=rooms.AGENT_NAMESPACE)


def register(socketio) -> None:
    socketio.on_event("board:watch", on_watch, namespace=rooms.AGENT_NAMESPACE)
