"""The server's connections send each Socket.IO frame at once (Nagle off), on TCP only."""
import socket

from saas.realtime.web_server import send_at_once


def test_tcp_connections_get_nagle_switched_off_and_other_sockets_are_left_alone():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                send_at_once(accepted)
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # only ours
    left, right = socket.socketpair()  # a Unix socket has no Nagle: no error either
    with left, right:
        send_at_once(left)
