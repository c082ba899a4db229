"""Tenant storage on both backends: provisioning, migrations, routing and isolation of rows."""
import concurrent.futures
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from saas.models import Conversation, Message, Visitor
from saas.services import routing, visitors
from tenants import NoTenantSelected, provisioning, registry, tenant_context, tenant_session
from tenants.routing import UnroutableTenant, schema_name

TENANT_TABLES = {"users", "invites", "visitors", "conversations", "messages", "read_markers", "alembic_version"}


def _storage_exists(app, tenant) -> bool:
    router = app.extensions["switchboard_tenants"]
    if router.is_sqlite:
        return router.sqlite_file(tenant).exists()
    with router.registry_engine.connect() as connection:
        found = connection.execute(
            text("select 1 from information_schema.schemata where schema_name = :s"), {"s": schema_name(tenant.slug)}
        ).first()
    return found is not None


def test_a_new_tenant_gets_its_own_migrated_storage_and_drop_removes_it(app, make_tenant):
    tenant = make_tenant().ref
    with app.app_context():
        assert _storage_exists(app, tenant)
        engine = app.extensions["switchboard_tenants"].engine_for(tenant)
        schema = app.extensions["switchboard_tenants"].schema(tenant)
        with engine.connect() as connection:
            assert TENANT_TABLES <= set(inspect(connection).get_table_names(schema=schema))
        provisioning.migrate_all()  # idempotent: a second upgrade changes nothing
        provisioning.drop_tenant(tenant)
        assert not _storage_exists(app, tenant)
        assert registry.find_by_slug(tenant.slug) is None
        # Dropped already; the fixture's own drop must cope.
        again = provisioning.create_tenant(tenant.slug, "again")
        # Rooms, jobs and caches name tenants by id: the dropped tenant's id (the newest one, which
        # SQLite would hand out again without AUTOINCREMENT) must not name the new tenant.
        assert again.id > tenant.id


@pytest.mark.parametrize("slug", ["ab", "-abc", "abc-", "has_underscore", "Upper", "a" * 41, "public", "admin",
                                  "x;drop schema", "ünïcode"])
def test_invalid_or_reserved_slugs_are_refused_before_anything_is_created(app, slug):
    with app.app_context():
        before = registry.all_tenants()
        with pytest.raises(registry.InvalidSlug):
            provisioning.create_tenant(slug, "x")
        assert registry.all_tenants() == before


def test_routing_refuses_to_build_a_schema_name_from_an_invalid_slug():
    with pytest.raises(UnroutableTenant):
        schema_name('x"; drop schema public; --')
    assert schema_name("acme-co") == "t_acme_co"


def test_tenant_data_needs_a_selected_tenant(app):
    with app.app_context(), pytest.raises(NoTenantSelected):
        tenant_session()


def test_tenant_context_nests_and_restores_the_previous_tenant(app, make_tenant):
    a, b = make_tenant().ref, make_tenant().ref
    with app.app_context(), tenant_context(a):
        visitors.identify(tenant_session(), a, None)
        with tenant_context(b):
            assert tenant_session().scalars(select(Visitor)).all() == []
        assert len(tenant_session().scalars(select(Visitor)).all()) == 1


def test_a_failed_tenant_creation_leaves_nothing_behind(app, monkeypatch):
    slug = "half-made"

    def broken_migration(tenant):
        # Until its storage is migrated, other processes' timer and rollup loops skip it: a loop that
        # opened it now would make its SQLite file again after the clean-up below.
        assert not registry.find_by_slug(tenant.slug).is_active
        raise RuntimeError("migration failed half way")

    with app.app_context():
        monkeypatch.setattr(provisioning, "migrate_tenant", broken_migration)
        with pytest.raises(RuntimeError):
            provisioning.create_tenant(slug, "x")
        assert registry.find_by_slug(slug) is None
        router = app.extensions["switchboard_tenants"]
        if router.is_sqlite:
            assert not Path(router.sqlite_file(registry.TenantRef(0, slug, "", "", "active"))).exists()
        else:
            with router.registry_engine.connect() as connection:
                assert connection.execute(text("select 1 from information_schema.schemata where schema_name='t_half_made'")).first() is None


def test_concurrent_senders_get_unique_contiguous_sequence_numbers(app, make_tenant):
    tenant = make_tenant().ref
    with app.app_context(), tenant_context(tenant):
        visitor = visitors.identify(tenant_session(), tenant, None)
        first, _ = routing.visitor_says(tenant_session(), visitor, client_id="first-000", body="x", max_length=100)
        conversation_id = first.conversation.id

    def send(n: int):
        with app.app_context(), tenant_context(tenant):
            session = tenant_session()
            client_id = f"client-{n % 20:04d}"  # each client id is sent twice, concurrently
            posted, _ = routing.visitor_says(session, session.get(Visitor, visitor.id), client_id=client_id,
                                             body=f"m{n}", max_length=100)
            return posted.message.seq

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(40)))
    with app.app_context(), tenant_context(tenant):
        seqs = tenant_session().scalars(
            select(Message.seq).where(Message.conversation_id == conversation_id).order_by(Message.seq)).all()
        assert seqs == list(range(1, 22))  # the first message + 20 distinct client ids, no gaps, no twins
        assert tenant_session().get(Conversation, conversation_id).last_seq == 21
