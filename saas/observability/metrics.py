"""Prometheus metrics at ``/metrics``: sockets, messages, delivery latency, queues, jobs and HTTP.

Labels carry roles, sender types, tenant slugs, department ids and endpoint names: never a
visitor's id, name, address or words. With ``PROMETHEUS_MULTIPROC_DIR`` set (several worker
processes behind one port) counters and histograms are summed over the processes by
prometheus-client's multiprocess mode; queue lengths and job counts are read from the database
and Redis when scraped, so any process reports them whole. Connected sockets are counted by the
process that holds them: scrape each web process (each ``web`` service) on its own.

Reachable with ``Authorization: Bearer $SWITCHBOARD_METRICS_TOKEN``, or without a token from the
loopback address when ``SWITCHBOARD_METRICS_LOCAL`` is not ``0``. Only the socket's own peer
address counts as local: ``X-Forwarded-For`` is whatever the client wrote.
"""
import hmac
import ipaddress
import logging
import os
import time
from datetime import datetime, timezone

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
                               multiprocess)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

log = logging.getLogger(__name__)

MESSAGES_STORED = Counter("switchboard_messages_stored_total", "Messages stored, by sender type.",
                          ["sender_type"])
MESSAGES_DELIVERED = Counter("switchboard_messages_delivered_total",
                             "Messages pushed to the rooms of their visitor and their tenant's agents.",
                             ["sender_type"])
DELIVERY_LATENCY = Histogram("switchboard_message_delivery_seconds",
                             "From a message being stored to its push leaving this process.",
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
HTTP_DURATION = Histogram("switchboard_http_request_seconds", "HTTP request durations, by endpoint.",
                          ["endpoint", "method", "status"])


def message_delivered(message) -> None:
    """Called once per new message, after its pushes were handed to Socket.IO."""
    MESSAGES_STORED.labels(message.sender_type).inc()
    MESSAGES_DELIVERED.labels(message.sender_type).inc()
    stored_at = message.created_at
    if stored_at.tzinfo is None:  # SQLite gives back naive UTC
        stored_at = stored_at.replace(tzinfo=timezone.utc)
    DELIVERY_LATENCY.observe(max(0.0, (datetime.now(timezone.utc) - stored_at).total_seconds()))


class StateCollector:
    """What is read when scraped: connected sockets, queue lengths, RQ queues."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        # Metrics matter most while the database or Redis is down: a part that cannot be read is
        # left out (and logged), the rest is still reported.
        with self.app.app_context():
            for part in (self._sockets, self._queue_lengths, self._jobs):
                try:
                    families = list(part())
                except Exception:
                    log.warning("metrics: %s could not be read", part.__name__, exc_info=True)
                    continue
                yield from families

    def _sockets(self):
        from saas.extensions import socketio
        from saas.realtime import rooms

        gauge = GaugeMetricFamily("switchboard_sockets_connected",
                                  "Socket.IO connections held by this process, by role.", labels=["role"])
        manager = getattr(socketio.server, "manager", None)
        for role, namespace in (("visitor", rooms.VISITOR_NAMESPACE), ("agent", rooms.AGENT_NAMESPACE)):
            connected = manager.rooms.get(namespace, {}).get(None, {}) if manager else {}
            gauge.add_metric([role], len(connected))
        yield gauge

    def _queue_lengths(self):
        from saas.models import Conversation
        from saas.models.conversations import AGENT_HANDLER, OPEN
        from tenants import registry, tenant_context, tenant_session

        gauge = GaugeMetricFamily("switchboard_queue_length", "Visitors waiting for an agent.",
                                  labels=["tenant", "department"])
        waiting = (select(Conversation.department_id, func.count())
                   .where(Conversation.status == OPEN, Conversation.handler != AGENT_HANDLER,
                          Conversation.waiting_since.is_not(None))
                   .group_by(Conversation.department_id))
        for tenant in registry.all_tenants():
            if not tenant.is_active:
                continue
            with tenant_context(tenant):
                for department_id, count in tenant_session().execute(waiting):
                    gauge.add_metric([tenant.slug, str(department_id or "none")], count)
        yield gauge

    def _jobs(self):
        url = self.app.config.get("REDIS_URL")
        if not url:
            return
        from redis import Redis
        from rq import Queue

        import workers

        depth = GaugeMetricFamily("switchboard_rq_queue_depth", "Jobs waiting in an RQ queue.", labels=["queue"])
        failed = GaugeMetricFamily("switchboard_rq_failed_jobs", "Jobs in an RQ queue's failed registry.",
                                   labels=["queue"])
        connection = Redis.from_url(url, socket_timeout=2)
        for name in workers.QUEUES:
            queue = Queue(name, connection=connection)
            depth.add_metric([name], len(queue))
            failed.add_metric([name], queue.failed_job_registry.count)
        yield depth
        yield failed


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    if not current_app.config.get("METRICS_LOCAL"):
        return False
    # The socket's peer, before ProxyFix (SWITCHBOARD_TRUSTED_PROXIES) put a forwarded address in
    # its place: behind nginx every request arrives from the proxy, none is "local".
    peer = request.environ.get("werkzeug.proxy_fix.orig", request.environ).get("REMOTE_ADDR", "")
    try:
        return ipaddress.ip_address(peer).is_loopback and "HTTP_X_FORWARDED_FOR" not in request.environ
    except ValueError:
        return False


def _scrape() -> Response:
    if not _allowed():
        abort(403, description="Metrics need the metrics token.")
    registry = current_app.extensions["switchboard_metrics"]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _observe(response):
    started = g.pop("request_started", None)
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        HTTP_DURATION.labels(endpoint, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("METRICS_TOKEN", os.environ.get("SWITCHBOARD_METRICS_TOKEN") or None)
    app.config.setdefault("METRICS_LOCAL", os.environ.get("SWITCHBOARD_METRICS_LOCAL", "1") != "0")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    scraped = CollectorRegistry()
    scraped.register(_Merged(registry, StateCollector(app)))
    app.extensions["switchboard_metrics"] = scraped
    app.add_url_rule("/metrics", "metrics", _scrape)
    app.before_request(_start_timer)
    app.after_request(_observe)


class _Merged:
    """This process's (or all processes') counters, then the state read at scrape time."""

    def __init__(self, counters: CollectorRegistry, state: StateCollector):
        self.counters, self.state = counters, state

    def collect(self):
        yield from self.counters.collect()
        yield from self.state.collect()
