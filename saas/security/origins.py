"""Where a tenant's widget may run: the site origins an owner or admin lists (``SecuritySettings``).

An empty list means any site. A listed tenant's widget is refused on other sites: the /visitor
socket refuses the connect and the widget's HTTP endpoints answer 403 without CORS headers. The
server's own origin (the demo page) is always allowed. A request without an ``Origin`` header is not
from a browser page (browsers always send one on cross-origin requests and socket handshakes); such
a client can claim any origin anyway, so this stops other websites, not scripts."""
from urllib.parse import urlsplit

from flask import request
from sqlalchemy.orm import Session

from ..msgids import N_
from ..models import SecuritySettings
from ..services.errors import Forbidden, Invalid

MAX_ORIGINS = 50
REFUSAL = N_("This chat widget is not enabled on this website.")


def settings(session: Session) -> SecuritySettings:
    return session.get(SecuritySettings, 1)


def normalise(line: str) -> str:
    """``https://Shop.Example/any/path`` → ``https://shop.example``; junk raises Invalid."""
    parts = urlsplit(line.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1 or parts.username:
        raise Invalid("invalid_origin", "%(line)r is not a site origin like https://shop.example.",
                      line=line.strip()[:100])
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


def parse(text: str) -> list[str]:
    origins = list(dict.fromkeys(normalise(line) for line in (text or "").splitlines() if line.strip()))
    if len(origins) > MAX_ORIGINS:
        raise Invalid("too_many_origins", "List at most %(limit)s origins.", limit=MAX_ORIGINS)
    return origins


def allowed(session: Session) -> list[str]:
    return (settings(session).allowed_origins or "").split()


def save(session: Session, text: str) -> list[str]:
    origins = parse(text)
    settings(session).allowed_origins = "\n".join(origins)
    return origins


def is_same_origin(origin: str) -> bool:
    return urlsplit(origin).netloc == request.host


def is_allowed(session: Session, origin: str | None) -> bool:
    """Is a request with this ``Origin`` header (None: none sent) from a site the tenant allows?"""
    if origin is None or is_same_origin(origin):
        return True
    listed = allowed(session)
    if not listed:
        return True
    try:
        return normalise(origin) in listed
    except Invalid:
        return False


def check_request(session: Session) -> None:
    """For the widget's HTTP endpoints, inside the widget key's tenant."""
    if not is_allowed(session, request.headers.get("Origin")):
        raise Forbidden("origin_not_allowed", REFUSAL)


def cors_headers(response, session: Session | None):
    """CORS for a widget endpoint: ``*`` while the tenant allows any site (or is unknown: errors are
    no secret), else the request's own origin if allowed (with ``Vary: Origin``), else none."""
    if session is None or not allowed(session):
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin is not None and is_allowed(session, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response
