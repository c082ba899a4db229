"""How fast anyone may guess passwords: failed logins are counted per account (tenant + email)
and per client address; past the limit, logins are refused until the lock-out window after the
last counted failure ends — even with the right password, or a guesser could tell when they hit it.
Refused attempts are not counted, so the lock does lift."""
import hashlib

from flask import current_app

from ..services.errors import RateLimited
from .counters import counters


def _keys(tenant_slug: str, email: str, address: str) -> tuple[str, str]:
    # A digest: the email typed may be anything and any length, and is no business of Redis.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"login:account:{tenant_slug}:{account}", f"login:address:{address}"


def check_allowed(tenant_slug: str, email: str, address: str) -> None:
    """Raise ``RateLimited`` while the account or the address is locked out."""
    config = current_app.config
    account_key, address_key = _keys(tenant_slug, email, address)
    store = counters()
    if (store.count(account_key) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or store.count(address_key) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        seconds = config["LOGIN_LOCKOUT_SECONDS"]
        if seconds < 90:
            raise RateLimited("too_many_attempts", "Too many failed logins. Try again in %(count)s seconds.",
                              count=round(seconds))
        raise RateLimited("too_many_attempts", "Too many failed logins. Try again in %(count)s minutes.",
                          count=round(seconds / 60))


def record_failure(tenant_slug: str, email: str, address: str) -> None:
    window = current_app.config["LOGIN_LOCKOUT_SECONDS"]
    for key in _keys(tenant_slug, email, address):
        counters().hit(key, window, from_last=True)


def record_success(tenant_slug: str, email: str, address: str) -> None:
    # The address keeps its count: one right password must not reset a spray over many accounts.
    counters().clear(_keys(tenant_slug, email, address)[0])
