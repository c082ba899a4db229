"""``/readyz``: may this process take traffic? The database and, when configured, Redis answer.

``/healthz`` (``saas.site``) only says the process is alive; a load balancer or an orchestrator
stops routing to a process whose ``/readyz`` says 503, without restarting it.
"""
import redis
from flask import Blueprint, current_app
from sqlalchemy import select

from saas.extensions import db

bp = Blueprint("observability_health", __name__)

REDIS_TIMEOUT_SECONDS = 2


def _database_error() -> str | None:
    try:
        with db.engine.connect() as connection:
            connection.execute(select(1))
    except Exception as error:  # any failure to reach the database means "not ready"
        return type(error).__name__
    return None


def _redis_error() -> str | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    try:
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        client.ping()
        client.close()
    except redis.RedisError as error:
        return type(error).__name__
    return None


@bp.route("/readyz")
def readyz():
    checks = {"database": _database_error()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _redis_error()
    ready = all(error is None for error in checks.values())
    body = {"status": "ready" if ready else "unavailable",
            "checks": {name: "ok" if error is None else error for name, error in checks.items()}}
    return body, 200 if ready else 503
