"""How fast a visitor may send messages, report page views and report typing: each kind is
counted per visitor in a fixed window (``VISITOR_RATE_WINDOW_SECONDS``), in Redis in production
so every server process counts together. Past the limit, events are answered with a clear error
and not handled. One counter hit per limited event: this sits on the socket hot path."""
from flask import current_app

from ..i18n import N_
from .counters import counters

MESSAGES, PAGE_VIEWS, TYPING = "messages", "page_views", "typing"
REFUSAL = N_("You are sending too fast: wait a moment and try again.")


def allow(tenant_slug: str, visitor_public_id: str, kind: str) -> bool:
    # By public id, not row id: a dropped tenant's ids come back (SQLite), its random ids never do.
    config = current_app.config
    hits = counters().hit(f"visitor:{tenant_slug}:{visitor_public_id}:{kind}", config["VISITOR_RATE_WINDOW_SECONDS"])
    return hits <= config["VISITOR_RATE_LIMITS"][kind]
