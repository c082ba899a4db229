"""Tenant migrations upgrade existing data correctly and downgrade cleanly, on both backends."""
from sqlalchemy import inspect, select, update

from saas.models import Conversation, ReceptionSettings, User
from saas.services import routing, visitors
from tenants import provisioning, tenant_context, tenant_session


def _columns(app, tenant, table: str) -> set[str]:
    router = app.extensions["switchboard_tenants"]
    with router.engine_for(tenant.ref).connect() as connection:
        return {c["name"] for c in inspect(connection).get_columns(table, schema=router.schema(tenant.ref))}


def test_routing_migration_keeps_existing_conversations_where_they_were(app, make_tenant):
    tenant = make_tenant()
    with app.app_context():
        with tenant_context(tenant.ref):
            session = tenant_session()
            for n in range(2):
                visitor = visitors.identify(session, tenant.ref, None)
                routing.visitor_says(session, visitor, client_id=f"before-{n:04d}", body="hi", max_length=100)
        provisioning.downgrade_tenant(tenant.ref, "0001")
        assert "handler" not in _columns(app, tenant, "conversations")
        with tenant_context(tenant.ref):
            # As the foundation left them: one conversation answered by an agent, one not yet.
            session = tenant_session()
            session.execute(update(Conversation).where(Conversation.id == 1)
                            .values(assigned_agent_id=tenant.agents[0].id))
            session.commit()

        provisioning.migrate_tenant(tenant.ref)
        with tenant_context(tenant.ref):
            session = tenant_session()
            rows = session.execute(select(Conversation.id, Conversation.handler, Conversation.waiting_since.is_not(None))
                                   .order_by(Conversation.id)).all()
            assert [tuple(r) for r in rows] == [(1, "agent", False), (2, "queue", True)]
            settings = session.get(ReceptionSettings, 1)
            assert (settings.reception_mode, settings.default_max_concurrent, settings.prechat_fields) == \
                ("human_only", 5, [])
            assert set(session.scalars(select(User.presence))) == {"offline"}
