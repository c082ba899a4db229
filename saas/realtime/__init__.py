"""Socket.IO: the visitor widget's and the agent console's live channels.

Handlers are thin: ``guard.socket_event`` checks tenant, role and payload; services do the work;
``broadcast`` tells the other clients.
"""
from . import agent, app_sockets, auto_replies, board, calls, engagement, privacy, tracking, visitor


def init_app(socketio) -> None:
    visitor.register(socketio)
    agent.register(socketio)
    engagement.register(socketio)
    auto_replies.register(socketio)
    tracking.register(socketio)
    privacy.register(socketio)
    board.register(socketio)
    app_sockets.register(socketio)
    calls.register(socketio)
