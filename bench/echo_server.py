"""The baseline of bench/load.py: a bare python-socketio server on the same stack as Switchboard's
(gevent, gevent-websocket's handler, the same Engine.IO heartbeat) that speaks the same events
with no routing, tenancy or storage: a visitor's message is acknowledged and pushed to the
visitor and to every agent; ``conversation:open`` answers with a transcript kept in memory.

    .venv/bin/python bench/echo_server.py --host 127.0.0.1 --port 5001
"""
from gevent import config, monkey

config.track_greenlet_tree = False  # the same gevent setting as wsgi.py's
monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import socketio  # noqa: E402

# The server class wsgi.py runs (gevent's pywsgi + gevent-websocket, Nagle off): the same stack.
from saas.realtime.web_server import WSGIServer  # noqa: E402

TRANSCRIPT_LENGTH = 1000

sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*", max_http_buffer_size=256 * 1024)
_ids = itertools.count(1)
_seqs = itertools.count(1)


def _message(client_id: str, body: str, seq: int) -> dict:
    """Shaped like saas/realtime/payloads.py message_dict, so both servers send as many bytes."""
    return {"id": next(_ids), "conversation_id": 1, "seq": seq, "client_id": client_id,
            "sender": {"type": "visitor", "name": "Visitor"}, "body": body, "extras": {},
            "created_at": datetime.now(timezone.utc).isoformat()}


TRANSCRIPT = [_message(f"seed-{n}", f"message number {n} of the stored conversation", n)
              for n in range(1, TRANSCRIPT_LENGTH + 1)]
CONVERSATION = {"id": 1, "status": "open", "handler": "agent", "last_seq": TRANSCRIPT_LENGTH}


@sio.on("connect", namespace="/visitor")
def visitor_connect(sid, _environ, _auth=None):
    sio.emit("session", {"token": sid, "nickname": "Visitor"}, to=sid, namespace="/visitor")


@sio.on("message:send", namespace="/visitor")
def visitor_send(sid, data):
    message = _message(str(data.get("client_id", "")), str(data.get("body", "")), next(_seqs))
    sio.emit("message:new", message, to=sid, namespace="/visitor")
    sio.emit("message:new", {"message": message, "conversation": CONVERSATION}, to="agents", namespace="/agent")
    return {"ok": True, "message": message, "duplicate": False}


@sio.on("connect", namespace="/agent")
def agent_connect(sid, _environ, _auth=None):
    sio.enter_room(sid, "agents", namespace="/agent")


@sio.on("conversation:open", namespace="/agent")
def agent_open(_sid, _data):
    return {"ok": True, "conversation": CONVERSATION, "messages": TRANSCRIPT}


def _healthz(_environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    options = parser.parse_args()
    app = socketio.WSGIApp(sio, _healthz)
    WSGIServer((options.host, options.port), app).serve_forever()  # the same server as wsgi.py's
