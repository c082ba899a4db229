"""Graceful shutdown of a web process on SIGTERM, within ``DRAIN_SECONDS``:

1. stop accepting connections (the listening socket closes: new ones go to another process);
2. refuse new socket events with the retryable ``unavailable`` acknowledgement, and let the ones
   already running finish (their messages are stored and pushed, their acks sent);
3. tell every client held here (``server:shutdown``) and close its Engine.IO connection: clients
   see a lost transport and reconnect by themselves, through the proxy to another process, and
   resend what was refused with the same client ids; closing runs the disconnect handlers, so
   this process's ``agent_connections`` rows go;
4. stop the server; ``wsgi.py`` then exits.
"""
import functools
import logging
import signal
import time

import gevent

from ..i18n import N_
from . import guard, rooms  # guard only at call time: it wraps its handlers with ``tracked``

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10
IN_FLIGHT_WAIT = 5  # of DRAIN_SECONDS, for events already running
DISCONNECT_WAIT = 2  # for the disconnect handlers to clear their rows

_state = {"draining": False, "in_flight": 0}


def tracked(handler):
    """Count a socket event while it runs; once draining, refuse it (retryable) instead."""

    @functools.wraps(handler)
    def counted(*args):
        if _state["draining"]:
            return guard.error("unavailable", N_("This server is shutting down; reconnect and retry."))
        _state["in_flight"] += 1
        try:
            return handler(*args)
        finally:
            _state["in_flight"] -= 1

    return counted


def _wait(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        gevent.sleep(0.05)


def _local_connections(sio) -> list[tuple[str, str]]:
    """(namespace, Engine.IO sid) of every client connected to this process."""
    manager = sio.server.manager
    return [(namespace, eio_sid) for namespace in (rooms.VISITOR_NAMESPACE, rooms.AGENT_NAMESPACE)
            for _sid, eio_sid in manager.get_participants(namespace, None)]


def drain(sio) -> None:
    started = time.monotonic()
    server = sio.wsgi_server
    server.close()  # no new connections: stops accepting and closes the listening socket
    _state["draining"] = True
    _wait(lambda: _state["in_flight"] == 0, IN_FLIGHT_WAIT)
    connections = _local_connections(sio)
    log.info("shutting down: %d socket events unfinished, %d clients to move",
             _state["in_flight"], len(connections))
    for namespace, eio_sid in connections:
        sid = sio.server.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None:
            sio.server.emit("server:shutdown", {"reconnect": True}, to=sid, namespace=namespace, ignore_queue=True)
    for eio_sid in {eio_sid for _namespace, eio_sid in connections}:
        sio.server.eio.disconnect(eio_sid)
    _wait(lambda: not _local_connections(sio), DISCONNECT_WAIT)
    server.stop(timeout=max(0.5, DRAIN_SECONDS - 1 - (time.monotonic() - started)))
    log.info("shut down in %.1f s", time.monotonic() - started)


_draining: list[gevent.Greenlet] = []


def install(sio) -> None:
    """On SIGTERM, drain the server that ``sio.run`` is about to start (``wsgi.py``)."""
    gevent.signal_handler(signal.SIGTERM, lambda: _draining.append(gevent.spawn(drain, sio)))


def finish() -> None:
    """``sio.run`` returns as soon as the listener closes: wait there for the drain to end."""
    gevent.joinall(_draining, timeout=DRAIN_SECONDS)
