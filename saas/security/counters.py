"""Fixed-window counters for rate limits: in Redis when ``REDIS_URL`` is set, so every server
process counts together; in this process otherwise (the embedded mode runs one process)."""
import logging
import threading
import time

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError

_EXTENSION = "switchboard_counters"
_KEY_PREFIX = "switchboard:limits:"
_log = logging.getLogger(__name__)


class LocalCounters:
    def __init__(self):
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[int, float]] = {}  # key -> (count, window ends at)

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self.windows.get(key)
        if entry is not None and entry[1] <= now:
            del self.windows[key]
            return None
        return entry

    def hit(self, key: str, window_seconds: float, from_last: bool = False) -> int:
        now = time.monotonic()
        with self.lock:
            count, ends_at = self._live(key, now) or (0, now + window_seconds)
            self.windows[key] = (count + 1, now + window_seconds if from_last else ends_at)
            return count + 1

    def count(self, key: str) -> int:
        with self.lock:
            entry = self._live(key, time.monotonic())
            return entry[0] if entry else 0

    def clear(self, key: str) -> None:
        with self.lock:
            self.windows.pop(key, None)


class RedisCounters:
    """While Redis is unreachable, each process counts on its own (``LocalCounters``): limits stay
    in force, a little looser, and a visitor's message is not refused for a limiter's outage."""

    def __init__(self, url: str):
        self.redis = Redis.from_url(url, socket_timeout=2)
        self.fallback = LocalCounters()

    def _hit_in_redis(self, key: str, window_seconds: float, from_last: bool) -> int:
        pipeline = self.redis.pipeline()
        pipeline.incr(_KEY_PREFIX + key)
        pipeline.pexpire(_KEY_PREFIX + key, int(window_seconds * 1000), nx=not from_last)
        count, _ = pipeline.execute()
        return count

    def hit(self, key: str, window_seconds: float, from_last: bool = False) -> int:
        """Count one more event under ``key``; the window ends ``window_seconds`` after the first
        event, or after the latest one with ``from_last``."""
        try:
            return self._hit_in_redis(key, window_seconds, from_last)
        except RedisError as error:
            _log.warning("rate-limit counters fall back to this process: %s", error)
            return self.fallback.hit(key, window_seconds, from_last)

    def count(self, key: str) -> int:
        try:
            return int(self.redis.get(_KEY_PREFIX + key) or 0)
        except RedisError:
            return self.fallback.count(key)

    def clear(self, key: str) -> None:
        self.fallback.clear(key)
        try:
            self.redis.delete(_KEY_PREFIX + key)
        except RedisError as error:
            _log.warning("could not clear a rate-limit counter: %s", error)


def init_app(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    app.extensions[_EXTENSION] = RedisCounters(url) if url else LocalCounters()


def counters() -> RedisCounters | LocalCounters:
    return current_app.extensions[_EXTENSION]
