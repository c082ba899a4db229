"""Shared by the SMS and API channel tests: a real local HTTP receiver standing in for an SMS
provider or a tenant's webhook, channel settings, and a live server retrying fast."""
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from saas.services import channel_settings
from tenants import tenant_context, tenant_session
from tests.rq_helpers import RqWorker

FAST_RETRIES = {"SWITCHBOARD_OUTBOUND_BACKOFF_SECONDS": "0.3", "SWITCHBOARD_OUTBOUND_MAX_ATTEMPTS": "4"}


@dataclass
class Received:
    headers: dict
    body: bytes
    answered: int


class Receiver:
    """An HTTP server on a free loopback port answering each POST with the next status of
    ``statuses`` (the last one repeats), recording every request."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                receiver.received.append(Received(dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": status < 300}).encode())

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver_for():
    made = []

    def make(statuses: list[int]) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def fast_server(backend, start_server, tmp_path):
    """A live server (and on PostgreSQL the Procfile's RQ worker, which runs the deliveries there)
    retrying outbound deliveries after 0.3 s, 0.6 s…"""
    server = start_server(FAST_RETRIES, name="channels")
    worker = RqWorker({**backend.env, **FAST_RETRIES}, tmp_path / "rq-worker.log") \
        if backend.name == "postgresql" else None
    yield server
    if worker is not None:
        worker.stop()


def configure_channels(app, tenant, **values) -> dict:
    """Save channel settings as the admin screen does; returns them with the signing secret."""
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        row = channel_settings.save(session, values)
        return {name: getattr(row, name) for name in channel_settings.EDITABLE_FIELDS + ("api_signing_secret",)}
