"""The current tenant, for requests, socket events, jobs and CLI commands alike.

``tenant_context(tenant)`` selects a tenant for the block and restores the previous one after it
(django-tenants' ``tenant_context``); ``tenant_session()`` is that tenant's SQLAlchemy session,
opened lazily and closed when the block ends (flaskr's ``get_db`` + teardown). Asking for either
with no tenant selected raises: there is no silent fall back to a default tenant.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.local import LocalProxy

from .registry import TenantRef


class NoTenantSelected(RuntimeError):
    pass


class _TenantScope:
    def __init__(self, tenant: TenantRef):
        self.tenant = tenant
        self._session: Session | None = None

    def session(self) -> Session:
        if self._session is None:
            engine = current_app.extensions["switchboard_tenants"].engine_for(self.tenant)
            self._session = Session(bind=engine, expire_on_commit=False)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


_scope: ContextVar[_TenantScope | None] = ContextVar("switchboard_tenant_scope", default=None)


@contextmanager
def tenant_context(tenant: TenantRef):
    if tenant is None:
        raise NoTenantSelected("tenant_context needs a tenant")
    scope = _TenantScope(tenant)
    token = _scope.set(scope)
    try:
        yield tenant
    finally:
        scope.close()
        _scope.reset(token)


def _current_scope() -> _TenantScope:
    scope = _scope.get()
    if scope is None:
        raise NoTenantSelected("no tenant selected: wrap the work in tenant_context(tenant)")
    return scope


def get_current_tenant() -> TenantRef:
    return _current_scope().tenant


def tenant_session() -> Session:
    return _current_scope().session()


def has_tenant() -> bool:
    return _scope.get() is not None


current_tenant: TenantRef = LocalProxy(get_current_tenant)  # type: ignore[assignment]
