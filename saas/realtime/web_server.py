"""The process's web server: gevent's WSGI server with WebSocket support, as Flask-SocketIO's
``run()`` builds it for gevent, with Nagle's algorithm off on every connection (why below)."""
import gc
import socket

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler


def send_at_once(connection: socket.socket) -> None:
    """Socket.IO writes many small frames on one connection (an acknowledgement and the message
    right after it, a message for each visitor an agent serves). With Nagle's algorithm on, a frame
    written while the previous one is unacknowledged waits for the peer's delayed ACK, up to 40 ms
    on Linux: that was the p95 latency of every target at 100 messages/s in bench/load.py."""
    if connection.family in (socket.AF_INET, socket.AF_INET6):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class WSGIServer(pywsgi.WSGIServer):
    def __init__(self, address, application):
        super().__init__(address, application, handler_class=WebSocketHandler, log=None)

    def handle(self, connection, address):
        send_at_once(connection)
        super().handle(connection, address)


def serve(socketio, app, host: str, port: int) -> None:
    """What ``socketio.run(app, host, port, log_output=False)`` does on gevent, on our server.

    What start-up made (the app, models, compiled statements) lives as long as the process: frozen
    out of the cyclic collector's sight, the first full collection under load does not scan it all
    (that stalled every event of a fresh server for 110-130 ms, bench/load.py's first step)."""
    gc.collect()
    gc.freeze()
    socketio.wsgi_server = WSGIServer((host, port), app)
    socketio.wsgi_server.serve_forever()
