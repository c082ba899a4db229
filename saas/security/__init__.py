"""Web hardening that applies to the whole app: security headers and the Content-Security-Policy
(``headers``), rate limits (``counters``, ``login_limits``), login sessions that end
(``session_epochs``), the widget's allowed origins (``origins``) and audit records (``auditing``)."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import auditing, counters, headers, session_epochs  # noqa: F401  (session_epochs registers its listeners)


def init_app(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind N reverse proxies, trust exactly N hops of X-Forwarded-For/-Proto: the client's
        # address (rate limits) and https (HSTS) come from them. Trusting more would let anyone
        # pick the address they are rate-limited under.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    counters.init_app(app)
    headers.init_app(app)
    app.after_request(auditing.record_unhooked)
