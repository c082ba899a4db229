"""Switchboard: the Flask application factory. Nothing here builds an app at import time."""
from flask import Flask

from . import observability
from .config import PROJECT_ROOT, load_config
from .extensions import csrf, db, socketio


def create_app(config_overrides: dict | None = None) -> Flask:
    config = load_config(config_overrides)
    app = Flask(
        __name__,
        instance_path=config["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(config)
    observability.configure_logging(app)

    db.init_app(app)
    csrf.init_app(app)

    import tenants
    import workers
    from . import admin, app_api, auth, channels, console, i18n, realtime, reports, security, site, widget
    from .cli import demo_cli

    tenants.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    admin.init_app(app)
    workers.init_app(app)
    socketio.init_app(
        app,
        async_mode="gevent",
        message_queue=app.config["REDIS_URL"],
        channel=app.config["SOCKETIO_CHANNEL"],
        # Widgets are embedded on the tenants' own sites, so the visitor namespace is
        # cross-origin by nature; the agent namespace checks the origin itself on connect.
        cors_allowed_origins="*",
        max_http_buffer_size=256 * 1024,
    )
    realtime.init_app(socketio)
    observability.init_app(app)

    for blueprint_module in (site, auth, console, admin, widget, reports, channels, app_api):
        app.register_blueprint(blueprint_module.bp)
    app.cli.add_command(demo_cli)
    return app
