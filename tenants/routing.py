"""Where a tenant's tables live: the one place that builds schema names and tenant engines.

PostgreSQL: one database, one schema per tenant. Every statement carries the tenant's schema
through SQLAlchemy's ``schema_translate_map``, so no ``search_path`` is ever set on a pooled
connection: a connection handed back to the pool holds no tenant state to leak, and a savepoint
rollback cannot restore another tenant's path (the django-tenants#1262 class of bug).

SQLite (the embedded default): one database file per tenant under ``instance/tenants/``.
"""
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from .registry import SLUG_PATTERN, TenantRef


class UnroutableTenant(RuntimeError):
    pass


def schema_name(slug: str) -> str:
    if not SLUG_PATTERN.match(slug):
        raise UnroutableTenant(f"refusing to route an invalid tenant slug {slug!r}")
    return "t_" + slug.replace("-", "_")


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def apply_sqlite_pragmas(engine: Engine) -> Engine:
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class TenantRouter:
    def __init__(self, registry_engine: Engine, instance_path: str):
        self.registry_engine = registry_engine
        self.is_sqlite = registry_engine.dialect.name == "sqlite"
        if self.is_sqlite:
            apply_sqlite_pragmas(registry_engine)
        self.tenant_files = Path(instance_path) / "tenants"
        self._engines: dict[str, Engine] = {}

    def sqlite_file(self, tenant: TenantRef) -> Path:
        schema_name(tenant.slug)  # validates the slug before it becomes part of a path
        return self.tenant_files / f"{tenant.slug}.sqlite3"

    def files_root(self, tenant: TenantRef) -> Path:
        """The tenant's uploaded files: under the instance folder, never under the static root."""
        schema_name(tenant.slug)  # validates the slug before it becomes part of a path
        return self.tenant_files / "files" / tenant.slug

    def exports_root(self, tenant: TenantRef) -> Path:
        """The tenant's data exports for its owners: beside its files, so no backup holds the last one."""
        schema_name(tenant.slug)  # validates the slug before it becomes part of a path
        return self.tenant_files / "exports" / tenant.slug

    def schema(self, tenant: TenantRef) -> str | None:
        return None if self.is_sqlite else schema_name(tenant.slug)

    def engine_for(self, tenant: TenantRef) -> Engine:
        engine = self._engines.get(tenant.slug)
        if engine is None:
            if self.is_sqlite:
                self.tenant_files.mkdir(parents=True, exist_ok=True)
                engine = apply_sqlite_pragmas(create_engine(f"sqlite:///{self.sqlite_file(tenant)}",
                                                            hide_parameters=True))  # no message text in logs
            else:
                # Shares the registry's pool; the schema travels with each statement.
                engine = self.registry_engine.execution_options(
                    schema_translate_map={None: schema_name(tenant.slug)}
                )
            self._engines[tenant.slug] = engine
        return engine

    def forget(self, tenant: TenantRef) -> None:
        engine = self._engines.pop(tenant.slug, None)
        if engine is not None and self.is_sqlite:
            engine.dispose()

    def dispose(self) -> None:
        for slug in list(self._engines):
            engine = self._engines.pop(slug)
            if self.is_sqlite:
                engine.dispose()
