"""The Procfile's own lines run a working deployment, configured by the environment alone."""
import time
from types import SimpleNamespace

import pytest
import requests

from saas.models import Invite
from tenants import tenant_context, tenant_session
from tests.conftest import free_port
from tests.rq_helpers import ProcfileProcess, procfile_commands
from tests.test_jobs import _add_expired_invite, _create_invite_over_http


def _wait_until_healthy(url: str, web: ProcfileProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:  # refused, or accepted while the server still loads the app
            pass
        assert web.process.poll() is None, web.log.read_text()
        assert time.monotonic() < deadline, web.log.read_text()
        time.sleep(0.2)


@pytest.fixture
def deployment(backend, app, tmp_path):
    port = free_port()
    env = {**backend.env, "PORT": str(port)}
    assert set(procfile_commands()) >= {"web", "worker"}
    web = ProcfileProcess("web", env, tmp_path / "web.log")
    worker = ProcfileProcess("worker", env, tmp_path / "worker.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, web)
    except BaseException:
        web.stop()
        worker.stop()
        raise

    yield SimpleNamespace(url=url, web=web, worker=worker)
    web.stop()
    worker.stop()


# The Procfile is the PostgreSQL + Redis deployment.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_procfile_web_serves_live_chat_and_worker_runs_jobs(deployment, app, make_tenant, clients):
    tenant = make_tenant()
    agent = clients.agent(deployment, tenant)
    visitor = clients.visitor(deployment, tenant)
    assert visitor.send("through the Procfile web process")["ok"]
    assert agent.next_event()["message"]["body"] == "through the Procfile web process"

    _add_expired_invite(app, tenant)
    _create_invite_over_http(deployment, tenant)
    deadline = time.monotonic() + 20
    while True:
        with app.app_context(), tenant_context(tenant.ref):
            remaining = len(tenant_session().query(Invite).all())
        if remaining == 1:
            break
        assert time.monotonic() < deadline, deployment.worker.log.read_text()[-2000:] + deployment.web.log.read_text()[-2000:]
        time.sleep(0.2)
