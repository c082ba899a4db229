"""JSON logs: one line per HTTP request, socket event and job, with the tenant's slug, a request
id and the duration. Lines name routes (``/t/<slug>/invite/<token>``), events and job functions,
never the values that fill them: no message text, no password, no token, no query string.

``SWITCHBOARD_LOG_FORMAT=text`` gives the classic one-line text format for a developer's terminal.
"""
import functools
import json
import logging
import os
import re
import time
import uuid
from contextlib import contextmanager

from flask import Flask, g, request

access_log = logging.getLogger("switchboard.access")
REQUEST_ID_HEADER = "X-Request-ID"
# A request id from the proxy in front is kept (so its log and ours line up) if it looks like one.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# The standard attributes of a LogRecord: everything else on a record came through ``extra``.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    converter = time.gmtime  # the "Z" below

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **{key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS},
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(app: Flask) -> None:
    handler = logging.StreamHandler()
    if os.environ.get("SWITCHBOARD_LOG_FORMAT", "json") == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    if not root.handlers:  # a second app in the same process (tests) keeps the first one's handler
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The WSGI server's own access line carries the full path and query string (invite tokens,
    # Socket.IO session ids): ours above replaces it.
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    app.before_request(_start_request)
    app.after_request(_log_request)


def _current_tenant_slug() -> str | None:
    from tenants import current_tenant, has_tenant

    return current_tenant.slug if has_tenant() else None


def _start_request() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
    g.log_started = time.perf_counter()


def _log_request(response):
    started = g.pop("log_started", None)
    if started is None:
        return response
    response.headers[REQUEST_ID_HEADER] = g.request_id
    access_log.info("request", extra={
        "kind": "http", "request_id": g.request_id, "tenant": _current_tenant_slug(),
        "method": request.method, "route": request.url_rule.rule if request.url_rule else None,
        "endpoint": request.endpoint, "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    })
    return response


def socket_event(handler):
    """Log one line per socket event: ``handler`` is ``guard.socket_event``'s wrapper and returns
    the acknowledgement, whose error code (never its data) is logged."""

    @functools.wraps(handler)
    def logged(*args):
        from saas.realtime.guard import current_identity

        started = time.perf_counter()
        ack = handler(*args)
        identity = current_identity()
        access_log.info("socket event", extra={
            "kind": "socket", "request_id": uuid.uuid4().hex, "connection": request.sid,
            "tenant": identity.tenant.slug if identity else None,
            "namespace": request.namespace, "event": request.event["message"],
            "outcome": "ok" if ack.get("ok") else ack["error"]["code"],
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        })
        return ack

    return logged


@contextmanager
def job(path: str, tenant_slug: str, job_id: str | None):
    """Log one line when the job in the block ends, whether it succeeded or raised."""
    started, outcome = time.perf_counter(), "ok"
    try:
        yield
    except BaseException as exc:
        outcome = type(exc).__name__
        raise
    finally:
        access_log.info("job", extra={
            "kind": "job", "request_id": job_id or uuid.uuid4().hex, "tenant": tenant_slug, "job": path,
            "outcome": outcome, "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        })
