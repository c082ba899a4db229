"""Back up and restore ONE tenant: its rows and its uploaded files, in one archive.

The archive is a gzipped tar holding ``manifest.json`` (slug, backend), ``database`` and
``files/`` (the tenant's ``files_root``).

- PostgreSQL: ``database`` is ``pg_dump --format=custom --schema=<the tenant's schema>``. A
  restore replays it with ``psql --single-transaction`` after ``DROP SCHEMA … CASCADE``, so the
  tenant is either wholly restored or left as it was; no other schema is touched.
- SQLite: ``database`` is a copy made with SQLite's online backup API (consistent while the server
  writes), and a restore copies it back into the tenant's file with the same API.

The schema name and the file paths come from ``tenants.routing`` only. A restored tenant is at the
migration revision of its backup: run ``flask tenants migrate`` after restoring an old archive.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import URL

from saas.extensions import db

from .registry import TenantRef

MANIFEST = "manifest.json"
DATABASE = "database"
FILES = "files"


class BackupError(RuntimeError):
    pass


def _router():
    return current_app.extensions["switchboard_tenants"]


def _libpq(url: URL) -> tuple[str, dict]:
    """The connection string for pg_dump/psql, with the password in the environment, not argv."""
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict, stdin=None, stdout=subprocess.DEVNULL) -> None:
    finished = subprocess.run(command, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.decode(errors='replace').strip()[-2000:]}")


def _backend(router) -> str:
    return "sqlite" if router.is_sqlite else "postgresql"


def backup(tenant: TenantRef, archive: Path) -> None:
    router = _router()
    with tempfile.TemporaryDirectory() as work:
        database = Path(work) / DATABASE
        if router.is_sqlite:
            source = sqlite3.connect(router.sqlite_file(tenant))
            target = sqlite3.connect(database)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            dsn, env = _libpq(db.engine.url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--schema={router.schema(tenant)}", f"--file={database}", f"--dbname={dsn}"], env)
        manifest = Path(work) / MANIFEST
        manifest.write_text(json.dumps({"slug": tenant.slug, "backend": _backend(router)}))
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest, MANIFEST)
            tar.add(database, DATABASE)
            files = router.files_root(tenant)
            if files.is_dir():
                tar.add(files, FILES)
        partial.replace(archive)  # a failed backup never leaves a truncated archive under the name


def restore(tenant: TenantRef, archive: Path) -> None:
    router = _router()
    with tempfile.TemporaryDirectory() as work:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(work, filter="data")  # refuses absolute paths, links out and devices
            manifest = json.loads((Path(work) / MANIFEST).read_text())
        except (tarfile.TarError, OSError, ValueError) as error:
            raise BackupError(f"{archive} is not a tenant backup: {error}") from error
        backend = _backend(router)
        held = (manifest.get("slug"), manifest.get("backend")) if isinstance(manifest, dict) else (None, None)
        if held != (tenant.slug, backend):
            raise BackupError(f"this archive holds tenant {held[0]!r} on {held[1]}, not {tenant.slug!r} on {backend}")
        database = Path(work) / DATABASE
        if router.is_sqlite:
            _restore_sqlite(router, tenant, database)
        else:
            _restore_postgresql(router, tenant, database)
        _restore_files(router.files_root(tenant), Path(work) / FILES)


def _restore_sqlite(router, tenant: TenantRef, database: Path) -> None:
    router.forget(tenant)  # this process's pooled connections would see the old pages
    source = sqlite3.connect(database)
    target = sqlite3.connect(router.sqlite_file(tenant), timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgresql(router, tenant: TenantRef, database: Path) -> None:
    dsn, env = _libpq(db.engine.url)
    quoted = db.engine.dialect.identifier_preparer.quote(router.schema(tenant))
    replay = database.with_name("replay.sql")
    with open(replay, "wb") as script:
        script.write(f"DROP SCHEMA IF EXISTS {quoted} CASCADE;\n".encode())
        script.flush()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--file=-", str(database)], env, stdout=script)
    with open(replay, "rb") as script:
        _run(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
              f"--dbname={dsn}"], env, stdin=script)


def _restore_files(files_root: Path, restored: Path) -> None:
    """Swap the tenant's files directory for the archived one; the old one goes only after."""
    previous = files_root.with_name(files_root.name + ".before-restore")
    if files_root.exists():
        files_root.replace(previous)
    if restored.is_dir():
        files_root.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(restored), files_root)
    shutil.rmtree(previous, ignore_errors=True)
