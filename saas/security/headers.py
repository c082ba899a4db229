"""Security headers on every response, and a Content-Security-Policy on the app's own pages.

The policy forbids inline script: the console and our admin pages load only files from
``saas/static``. Flask-Admin's templates add a few inline ``<script>`` blocks, which get this
request's nonce (``Admin(csp_nonce_generator=...)``), and a few fixed inline ``onclick`` handlers,
and ``javascript:void(0)`` links, which are allowed by their exact hashes ('unsafe-hashes'): an
injected handler never matches.
"""
import base64
import hashlib
import secrets

from flask import Flask, g, request

# The tenants' own pages embed the widget from their origin; the demo page stands in for one.
_PAGES_WITHOUT_POLICY = ("/demo/",)

# Flask-Admin's inline handlers and ``javascript:`` links, verbatim from its bootstrap4 templates
# (filters, row delete, menus; Chromium hashes a link's whole URL, scheme included). A link that
# only does ``void(0)`` runs nothing.
_FLASK_ADMIN_HANDLERS = (
    "return false;",
    "javascript:void(0)",
    "return faHelpers.safeConfirm('Are you sure you want to delete this record?');",
)


def csp_nonce() -> str:
    """This request's nonce for the inline scripts Flask-Admin renders."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _source_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def _flask_admin_handlers(app: Flask) -> list[str]:
    handlers = list(_FLASK_ADMIN_HANDLERS)
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            for name, _text in getattr(view, "_actions", None) or ():
                handlers.append(f"return modelActions.execute('{name}');")
    return handlers


def content_security_policy(nonce: str, handler_hashes: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}' 'unsafe-hashes' {handler_hashes}",
        # Inline style attributes cannot run code; Flask-Admin's widgets (select2) rely on them.
        "style-src 'self' 'unsafe-inline'",
        # Knowledge-base answers may show images from the tenant's own site; attachments are blobs.
        "img-src 'self' data: blob: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ))


def init_app(app: Flask) -> None:
    handler_hashes: list[str] = []

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html" and not request.path.startswith(_PAGES_WITHOUT_POLICY):
            if not handler_hashes:  # the admin views are all registered by the first request
                handler_hashes.extend(sorted({_source_hash(h) for h in _flask_admin_handlers(app)}))
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
            policy = content_security_policy(csp_nonce(), " ".join(handler_hashes))
            headers.setdefault("Content-Security-Policy", policy)
        return response
