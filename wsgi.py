"""The server entry point. gevent must patch the standard library before anything else loads."""
from gevent import config, monkey

# gevent's record of who spawned each greenlet and from where is for debugging tools
# (gevent.util) this server never runs: some 3.5 KB per idle visitor (bench/idle_memory.py).
config.track_greenlet_tree = False
monkey.patch_all()

import argparse  # noqa: E402

from saas import create_app  # noqa: E402
from saas.extensions import socketio  # noqa: E402
from saas.realtime import shutdown, web_server  # noqa: E402
from workers import outbound, rollups, timers  # noqa: E402

app = create_app()
timers.start(app)  # the automatic replies' timers: once per server process
outbound.resume(app)  # SMS and webhook deliveries a stopped process left pending
rollups.start(app)  # the report rollups, folded every few minutes

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the Switchboard web + Socket.IO server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    options = parser.parse_args()
    shutdown.install(socketio)
    web_server.serve(socketio, app, options.host, options.port)
    shutdown.finish()
