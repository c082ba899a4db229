"""Socket.IO: the visitor widget's and the agent console's live channels.

Handlers are thin: ``guard.socket_event`` checks tenant, role and payload; services do the work;
``broadcast`` tells the other clients.
"""
from . import agent, auto_replies, engagement, tracking, visitor


def init_app(socketio) -> None:
    visitor.register(socketio)
    agent.register(socketio)
    engagement.register(socketio)
    auto_replies.register(socketio)
    tracking.register(socketio)
