"""Tenancy: the registry, routing each tenant to its own schema or file, and its migrations.

This package is the only one that knows where a tenant's rows live. Everything else asks for
``tenant_session()`` inside ``tenant_context(tenant)``.
"""
from flask import Flask

from saas.extensions import db

from . import web
from .cli import tenants_cli
from .context import NoTenantSelected, current_tenant, has_tenant, tenant_context, tenant_session
from .registry import TenantRef
from .routing import TenantRouter

__all__ = [
    "NoTenantSelected", "TenantRef", "current_tenant", "has_tenant", "init_app",
    "tenant_context", "tenant_session",
]


def init_app(app: Flask) -> None:
    with app.app_context():
        router = TenantRouter(db.engine, app.config["INSTANCE_PATH"])
    app.extensions["switchboard_tenants"] = router
    web.init_app(app)
    app.cli.add_command(tenants_cli)
