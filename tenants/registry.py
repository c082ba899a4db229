"""The tenant registry: one row per tenant, in the shared schema (or the main SQLite file)."""
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import DateTime, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from saas.extensions import db

# Lower-case letters, digits and inner hyphens: safe in URLs, schema names and file names alike.
# Underscores are refused so that "a-b" and "a_b" can never map to the same schema.
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED_SLUGS = {"public", "admin", "api", "static", "login", "signup", "www", "widget"}
ACTIVE = "active"
# Registered, storage not yet made: background loops of other processes leave it alone.
PROVISIONING = "provisioning"


class InvalidSlug(ValueError):
    pass


class TenantExists(ValueError):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Tenant(db.Model):
    __tablename__ = "tenants"
    # Rooms, jobs and caches name a tenant by id: a deleted tenant's id must never name another.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    widget_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class TenantRef:
    """A detached, immutable view of a registry row: safe to keep in a socket session or pass to a job."""

    id: int
    slug: str
    name: str
    widget_key: str
    status: str

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


def _ref(row: Tenant | None) -> TenantRef | None:
    if row is None:
        return None
    return TenantRef(row.id, row.slug, row.name, row.widget_key, row.status)


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        raise InvalidSlug(
            "A workspace address is 3-40 characters: lower-case letters, digits and hyphens, "
            "starting with a letter (and not a reserved word)."
        )
    return slug


# Built once, bound per call: a lookup runs on every connect and request (building a statement
# costs more than running it from SQLAlchemy's compiled cache).
_BY_SLUG = select(Tenant).where(Tenant.slug == bindparam("value"))
_BY_WIDGET_KEY = select(Tenant).where(Tenant.widget_key == bindparam("value"))
_BY_ID = select(Tenant).where(Tenant.id == bindparam("value"))


def _lookup(statement, value) -> TenantRef | None:
    # A short session of its own: the connection is back in the pool before the caller opens a
    # tenant session from the same pool. A handler holding one while waiting for another deadlocks
    # a burst of connects once every pooled connection is held by such a handler.
    with Session(db.engine) as session:
        return _ref(session.scalar(statement, {"value": value}))


def find_by_slug(slug: str) -> TenantRef | None:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        return None
    return _lookup(_BY_SLUG, slug)


def find_by_widget_key(key: str) -> TenantRef | None:
    if not isinstance(key, str) or not 10 <= len(key) <= 64:
        return None
    return _lookup(_BY_WIDGET_KEY, key)


def find_by_id(tenant_id: int) -> TenantRef | None:
    return _lookup(_BY_ID, tenant_id)


def all_tenants() -> list[TenantRef]:
    with Session(db.engine) as session:
        return [_ref(row) for row in session.scalars(select(Tenant).order_by(Tenant.slug))]


def add(slug: str, name: str) -> TenantRef:
    validate_slug(slug)
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise TenantExists(f"The workspace address '{slug}' is taken.")
    row = Tenant(slug=slug, name=name.strip() or slug, widget_key=secrets.token_urlsafe(24), status=PROVISIONING)
    db.session.add(row)
    db.session.commit()
    return _ref(row)


def activate(tenant: TenantRef) -> TenantRef:
    row = db.session.get(Tenant, tenant.id)
    row.status = ACTIVE
    db.session.commit()
    return _ref(row)


def remove(tenant: TenantRef) -> None:
    row = db.session.get(Tenant, tenant.id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
