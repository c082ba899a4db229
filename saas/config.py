"""Configuration from environment variables, with defaults that run with no servers at all.

Embedded default: SQLite files under ``instance/`` and in-process Socket.IO and jobs.
Production: ``DATABASE_URL=postgresql://…`` and ``REDIS_URL=redis://…``.
"""
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/.

    Never a constant in the code: a leaked constant would let anyone forge sessions.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs say postgres:// or postgresql://; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping; ``overrides`` (tests, CLI) win over the environment."""
    overrides = dict(overrides or {})
    instance_path = Path(
        overrides.pop("INSTANCE_PATH", None) or os.environ.get("SWITCHBOARD_INSTANCE", PROJECT_ROOT / "instance")
    ).resolve()
    instance_path.mkdir(parents=True, exist_ok=True)  # SQLite files and the generated key live here
    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL") or (
        f"sqlite:///{instance_path / 'switchboard.sqlite3'}"
    )
    config = {
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": overrides.pop("SECRET_KEY", None) or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(database_url),
        "REDIS_URL": overrides.pop("REDIS_URL", None) or os.environ.get("REDIS_URL") or None,
        # Pub/sub channels ignore Redis database numbers: deployments sharing a Redis need their own.
        "SOCKETIO_CHANNEL": os.environ.get("SWITCHBOARD_SOCKETIO_CHANNEL", "switchboard"),
        "MAX_MESSAGE_LENGTH": int(os.environ.get("SWITCHBOARD_MAX_MESSAGE_LENGTH", 5000)),
        # Largest HTTP request body (forms, CSV imports); larger ones are refused before being read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("SWITCHBOARD_MAX_REQUEST_BYTES", 4 * 1024 * 1024)),
        # The largest file a tenant may allow in conversations (each sets its own limit up to this).
        "MAX_UPLOAD_BYTES": int(os.environ.get("SWITCHBOARD_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)),
        "INVITE_TTL_HOURS": int(os.environ.get("SWITCHBOARD_INVITE_TTL_HOURS", 72)),
        # Argon2id cost of new password hashes (RFC 9106's low-memory profile by default); existing
        # hashes carry their own cost. The test suite lowers it: each login otherwise costs 64 MiB.
        "PASSWORD_HASH_TIME_COST": int(os.environ.get("SWITCHBOARD_PASSWORD_HASH_TIME_COST", 3)),
        "PASSWORD_HASH_MEMORY_KIB": int(os.environ.get("SWITCHBOARD_PASSWORD_HASH_MEMORY_KIB", 65536)),
        # Password reset links die after this long, or once used (they are bound to the password).
        "PASSWORD_RESET_TTL_MINUTES": int(os.environ.get("SWITCHBOARD_PASSWORD_RESET_TTL_MINUTES", 60)),
        # smtp://user:password@host:587 (STARTTLS) or smtps://…:465; unset: no mail, admins hand out links.
        "SMTP_URL": os.environ.get("SWITCHBOARD_SMTP_URL") or None,
        "SMTP_FROM": os.environ.get("SWITCHBOARD_SMTP_FROM", "switchboard@localhost"),
        # Outbound deliveries (SMS provider, API channel webhook): attempts, the first retry's wait
        # (doubled each time after) and each request's timeout.
        "OUTBOUND_MAX_ATTEMPTS": int(os.environ.get("SWITCHBOARD_OUTBOUND_MAX_ATTEMPTS", 6)),
        "OUTBOUND_BACKOFF_SECONDS": float(os.environ.get("SWITCHBOARD_OUTBOUND_BACKOFF_SECONDS", 10)),
        "OUTBOUND_TIMEOUT_SECONDS": float(os.environ.get("SWITCHBOARD_OUTBOUND_TIMEOUT_SECONDS", 10)),
        # Tenants choose those URLs: loopback, private and link-local addresses only when allowed.
        "OUTBOUND_PRIVATE_ADDRESSES": os.environ.get("SWITCHBOARD_OUTBOUND_PRIVATE_ADDRESSES", "0") == "1",
        # Failed logins allowed per account and per client address before both are locked out
        # until this many seconds after the last failure.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(os.environ.get("SWITCHBOARD_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(os.environ.get("SWITCHBOARD_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
        "LOGIN_LOCKOUT_SECONDS": float(os.environ.get("SWITCHBOARD_LOGIN_LOCKOUT_SECONDS", 900)),
        # Visitor events allowed per visitor per window (seconds); more are refused with an error.
        # The widget sends its draft at most 4 times a second while the visitor types.
        "VISITOR_RATE_WINDOW_SECONDS": float(os.environ.get("SWITCHBOARD_VISITOR_RATE_WINDOW_SECONDS", 60)),
        "VISITOR_RATE_LIMITS": {
            "messages": int(os.environ.get("SWITCHBOARD_VISITOR_MAX_MESSAGES", 60)),
            "page_views": int(os.environ.get("SWITCHBOARD_VISITOR_MAX_PAGE_VIEWS", 60)),
            "typing": int(os.environ.get("SWITCHBOARD_VISITOR_MAX_TYPING", 300)),
        },
        # How many reverse proxies sit in front (their X-Forwarded-For/-Proto are trusted); 0 = none.
        "TRUSTED_PROXIES": int(os.environ.get("SWITCHBOARD_TRUSTED_PROXIES", 0)),
        # A visit (source, page trail) ends after this many minutes without a page view or heartbeat.
        "VISIT_TIMEOUT_MINUTES": float(os.environ.get("SWITCHBOARD_VISIT_TIMEOUT_MINUTES", 30)),
        # A local MaxMind-format database (.mmdb: GeoLite2 or DB-IP Lite City/Country) for visitor
        # locations; unset, no location is looked up.
        "GEOIP_DATABASE": os.environ.get("SWITCHBOARD_GEOIP_DATABASE") or None,
        # The bot's semantic re-rank: "auto" uses the [semantic] extra when installed, "0" never.
        "BOT_SEMANTIC": {"0": False, "1": True}.get(os.environ.get("SWITCHBOARD_BOT_SEMANTIC", "auto"), "auto"),
        # How long an agent whose consoles all closed stays online (a reload must not flap).
        "PRESENCE_GRACE_SECONDS": float(os.environ.get("SWITCHBOARD_PRESENCE_GRACE_SECONDS", 15)),
        # How often the embedded server looks for due automatic-reply timers (RQ schedules its own).
        "TIMER_POLL_SECONDS": float(os.environ.get("SWITCHBOARD_TIMER_POLL_SECONDS", 1)),
        # How often the report rollups fold new facts (saas/services/reports/rollups.py); reports stay
        # exact between folds, only slower the more facts wait.
        "REPORT_ROLLUP_SECONDS": float(os.environ.get("SWITCHBOARD_REPORT_ROLLUP_SECONDS", 300)),
        # Agents are alerted when a queue's longest wait passes this many seconds; 0 = never.
        "QUEUE_ALERT_SECONDS": int(os.environ.get("SWITCHBOARD_QUEUE_ALERT_SECONDS", 120)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SWITCHBOARD_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # Greenlets serve many sockets at once: the default pool of 5 (+10) queues them up.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            # Error messages (and so the logs) must not carry statement parameters: message text.
            "hide_parameters": True,
            "pool_size": int(os.environ.get("SWITCHBOARD_DB_POOL_SIZE", 10)),
            "max_overflow": int(os.environ.get("SWITCHBOARD_DB_MAX_OVERFLOW", 20)),
        },
    }
    config.update(overrides)
    return config
