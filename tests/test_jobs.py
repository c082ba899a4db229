"""Background jobs run inside their tenant: by a real RQ worker on Redis, in-process when embedded."""
import time
from datetime import timedelta

import redis
from rq import Queue
from sqlalchemy import select

import workers
from saas.models import Invite, User
from saas.services import accounts
from tenants import tenant_context, tenant_session
from tests.clients import csrf_token, login
from tests.rq_helpers import drain_queue


def _add_expired_invite(app, tenant) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        owner = session.scalar(select(User).where(User.role == "owner"))
        accounts.create_invite(session, owner, "agent", timedelta(seconds=-1))


def _invites(app, tenant) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return len(tenant_session().scalars(select(Invite)).all())


def _create_invite_over_http(server, tenant) -> None:
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    page = http.get(f"{server.url}/t/{tenant.slug}/admin/")
    response = http.post(f"{server.url}/t/{tenant.slug}/invites",
                         data={"csrf_token": csrf_token(page.text), "role": "agent"}, allow_redirects=False)
    assert response.status_code == 303


def test_a_tenant_job_runs_in_its_tenant_and_only_there(app, backend, server, make_tenant):
    tenant, bystander = make_tenant(), make_tenant()
    _add_expired_invite(app, tenant)
    _add_expired_invite(app, bystander)

    _create_invite_over_http(server, tenant)  # enqueues the purge for this tenant
    if backend.name == "postgresql":
        connection = redis.Redis.from_url(backend.env["REDIS_URL"])
        queue = Queue(workers.QUEUES[0], connection=connection)
        assert queue.count >= 1
        drain_queue(backend.env)  # configured only by the environment
    else:
        deadline = time.monotonic() + 5
        while _invites(app, tenant) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)

    assert _invites(app, tenant) == 1  # the fresh invite stays, the expired one is gone
    assert _invites(app, bystander) == 1  # another tenant's rows are never touched
