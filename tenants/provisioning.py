"""Creating, migrating and dropping a tenant's storage (a PostgreSQL schema or a SQLite file)."""
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import current_app
from sqlalchemy import text

from saas.extensions import db

from . import registry
from .registry import TenantRef

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _router():
    return current_app.extensions["switchboard_tenants"]


def _upgrade(kind: str, connection, version_table_schema: str | None) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / kind))
    config.attributes["connection"] = connection
    config.attributes["version_table_schema"] = version_table_schema
    command.upgrade(config, "head")


def migrate_registry() -> None:
    """Bring the shared registry schema to the newest revision (idempotent)."""
    with db.engine.begin() as connection:
        _upgrade("registry", connection, None)


def migrate_tenant(tenant: TenantRef) -> None:
    router = _router()
    schema = router.schema(tenant)
    with router.engine_for(tenant).begin() as connection:
        if schema is not None:
            # Alembic's ALTER constructs ignore schema_translate_map, so migrations also get the
            # schema as search_path. SET LOCAL ends with this transaction: the pooled connection
            # goes back with no tenant state.
            connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        _upgrade("tenant", connection, schema)


def _create_storage(tenant: TenantRef) -> None:
    router = _router()
    if not router.is_sqlite:
        with router.registry_engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{router.schema(tenant)}"'))


def _drop_storage(tenant: TenantRef) -> None:
    router = _router()
    router.forget(tenant)
    if router.is_sqlite:
        base = router.sqlite_file(tenant)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)
    else:
        with router.registry_engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{router.schema(tenant)}" CASCADE'))


def create_tenant(slug: str, name: str) -> TenantRef:
    """Register a tenant and give it migrated storage; on any failure nothing is left behind."""
    tenant = registry.add(slug, name)
    try:
        _create_storage(tenant)
        migrate_tenant(tenant)
    except Exception:
        _drop_storage(tenant)
        registry.remove(tenant)
        raise
    return tenant


def drop_tenant(tenant: TenantRef) -> None:
    _drop_storage(tenant)
    registry.remove(tenant)


def migrate_all() -> list[TenantRef]:
    migrate_registry()
    tenants = registry.all_tenants()
    for tenant in tenants:
        migrate_tenant(tenant)
    return tenants
