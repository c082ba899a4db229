"""Creating, migrating and dropping a tenant's storage (a PostgreSQL schema or a SQLite file)."""
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from saas.extensions import db

from . import registry
from .registry import TenantRef

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _router():
    return current_app.extensions["switchboard_tenants"]


def _config(kind: str, connection, version_table_schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / kind))
    config.attributes["connection"] = connection
    config.attributes["version_table_schema"] = version_table_schema
    return config


def migrate_registry() -> None:
    """Bring the shared registry schema to the newest revision (idempotent)."""
    with db.engine.begin() as connection:
        command.upgrade(_config("registry", connection, None), "head")


@contextmanager
def _tenant_migration(tenant: TenantRef):
    router = _router()
    schema = router.schema(tenant)
    with router.engine_for(tenant).connect() as connection:
        if router.is_sqlite:
            # Batch migrations copy and drop tables; with foreign keys on, dropping a table that
            # other rows reference fails. The pragma only works outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if schema is not None:
                    # Alembic's ALTER constructs ignore schema_translate_map, so migrations also get
                    # the schema as search_path. SET LOCAL ends with this transaction: the pooled
                    # connection goes back with no tenant state.
                    connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
                yield _config("tenant", connection, schema)
        finally:
            if router.is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def migrate_tenant(tenant: TenantRef, revision: str = "head") -> None:
    with _tenant_migration(tenant) as config:
        command.upgrade(config, revision)


def downgrade_tenant(tenant: TenantRef, revision: str) -> None:
    with _tenant_migration(tenant) as config:
        command.downgrade(config, revision)


def _create_storage(tenant: TenantRef) -> None:
    router = _router()
    if not router.is_sqlite:
        with router.registry_engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{router.schema(tenant)}"'))


def _drop_storage(tenant: TenantRef) -> None:
    router = _router()
    router.forget(tenant)
    shutil.rmtree(router.files_root(tenant), ignore_errors=True)
    shutil.rmtree(router.exports_root(tenant), ignore_errors=True)
    if router.is_sqlite:
        base = router.sqlite_file(tenant)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)
    else:
        _drop_schema(router, tenant)


DEADLOCK = "40P01"


def _drop_schema(router, tenant: TenantRef, attempts: int = 5) -> None:
    # Dropping a schema still in use (a widget's last heartbeat in flight) can deadlock with that
    # transaction; PostgreSQL aborts one side, and dropping again succeeds once the other side's
    # retry is through: wait a little longer each time rather than collide with it again at once.
    for attempt in range(1, attempts + 1):
        try:
            with router.registry_engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{router.schema(tenant)}" CASCADE'))
            return
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != DEADLOCK or attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


def create_tenant(slug: str, name: str) -> TenantRef:
    """Register a tenant and give it migrated storage; on any failure nothing is left behind."""
    tenant = registry.add(slug, name)
    try:
        _create_storage(tenant)
        migrate_tenant(tenant)
        tenant = registry.activate(tenant)
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
