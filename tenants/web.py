"""Routing HTTP requests to their tenant.

Console, admin and auth URLs carry the tenant as ``/t/<tenant_slug>/…``; the slug is resolved
before any view runs, and an unknown or suspended tenant is a 404, never a guess. Widget
endpoints resolve the tenant from the widget key through the same ``enter_request_tenant``.
"""
from contextlib import ExitStack

from flask import Flask, abort, current_app, g

from . import registry
from .context import current_tenant, has_tenant, tenant_context
from .registry import TenantRef


def enter_request_tenant(tenant: TenantRef | None) -> TenantRef:
    if tenant is None or not tenant.is_active:
        abort(404, description="No such workspace.")
    stack = ExitStack()
    stack.enter_context(tenant_context(tenant))
    g._switchboard_tenant_stack = stack
    return tenant


def _select_tenant_from_url(_endpoint, values):
    if values and "tenant_slug" in values:
        enter_request_tenant(registry.find_by_slug(values.pop("tenant_slug")))


def _add_tenant_slug(endpoint, values):
    if (
        "tenant_slug" not in values
        and has_tenant()
        and current_app.url_map.is_endpoint_expecting(endpoint, "tenant_slug")
    ):
        values["tenant_slug"] = current_tenant.slug


def _leave_tenant(_exc):
    stack = g.pop("_switchboard_tenant_stack", None)
    if stack is not None:
        stack.close()


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_select_tenant_from_url)
    app.url_defaults(_add_tenant_slug)
    app.teardown_request(_leave_tenant)
