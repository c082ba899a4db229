"""Operations: readiness probe, Prometheus metrics and JSON logs, plugged in by ``create_app``."""
from flask import Flask

from . import health, logs, metrics

configure_logging = logs.configure


def init_app(app: Flask) -> None:
    metrics.init_app(app)
    app.register_blueprint(health.bp)
