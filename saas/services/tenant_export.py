"""Owners' export of all their workspace's data: the per-tenant backup archive of
``tenants.backup`` (database rows and uploaded files), built by a background job into the tenant's
exports folder and downloaded from the admin. The newest few are kept."""
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

import workers
from tenants import TenantRef, backup, current_tenant

from ..models import OWNER, User
from . import audit
from .errors import Forbidden, NotFound

KEEP = 3
_NAME = re.compile(r"^switchboard-[a-z0-9-]+-\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.gz$")


@dataclass(frozen=True)
class Export:
    name: str
    size: int
    created_at: datetime


def _root(tenant: TenantRef) -> Path:
    return current_app.extensions["switchboard_tenants"].exports_root(tenant)


def request_export(session: Session, tenant: TenantRef, actor: User, *, address: str | None = None) -> str:
    """Audit the request and start the job; returns the archive's name (listed once it is built)."""
    if actor.role != OWNER:
        raise Forbidden("owner_only", "Only owners export the workspace's data.")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"switchboard-{tenant.slug}-{stamp}-{secrets.token_hex(4)}.tar.gz"
    audit.record(session, audit.EXPORT_REQUESTED, actor=actor, address=address, target=name)
    session.commit()
    workers.enqueue("saas.services.tenant_export.build", tenant, name)
    return name


def build(name: str) -> None:
    """The job, inside the tenant's context."""
    root = _root(current_tenant)
    root.mkdir(parents=True, exist_ok=True)
    backup.backup(current_tenant, root / name)  # written aside and renamed: never half an archive
    for old in list_exports(current_tenant)[KEEP:]:
        (root / old.name).unlink(missing_ok=True)


def list_exports(tenant: TenantRef) -> list[Export]:
    root = _root(tenant)
    found = [path for path in root.glob("*.tar.gz") if _NAME.match(path.name)] if root.is_dir() else []
    exports = [Export(p.name, p.stat().st_size, datetime.fromtimestamp(p.stat().st_mtime, timezone.utc))
               for p in found]
    return sorted(exports, key=lambda export: export.name, reverse=True)


def path_for_download(tenant: TenantRef, name: str) -> Path:
    path = _root(tenant) / name
    if not _NAME.match(name or "") or not path.is_file():
        raise NotFound("export_not_found", "No such export.")
    return path
