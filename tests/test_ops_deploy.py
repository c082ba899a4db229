"""Operations: the files under deploy/: compose.yaml's shape, the Dockerfile's lint, and nginx
(Debian's, with the project's nginx.conf) in front of two real server processes."""
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import yaml

from tests.clients import VisitorClient, login
from tests.conftest import ROOT, free_port, need

DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_the_services_ports_and_health_checks(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web1", "web2", "worker", "nginx"} <= set(services)
    assert services["nginx"]["ports"] == ["${SWITCHBOARD_HTTP_PORT:-8080}:80"]
    assert not any("ports" in services[name] for name in services if name != "nginx"), "only nginx is published"
    for name in ("postgres", "redis", "web1", "web2", "worker", "nginx"):
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    assert "/readyz" in " ".join(services["web1"]["healthcheck"]["test"])
    for web in ("web1", "web2"):
        assert services[web]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[web]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["migrate"]["command"][-2:] == ["tenants", "migrate"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]


def test_compose_writes_no_secret(compose):
    secret_names = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)

    def environments(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "environment":
                    yield value
                else:
                    yield from environments(value)
        elif isinstance(node, list):
            for item in node:
                yield from environments(item)

    found = 0
    for environment in environments(compose):
        for name, value in environment.items():
            if secret_names.search(name):
                found += 1
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*|:-)\}", str(value)), f"{name} is written in compose.yaml"
            for url_password in re.findall(r"://[^:/@]+:([^@]+)@", str(value)):
                assert url_password.startswith("${"), f"{name} carries a password"
    assert found >= 3  # POSTGRES_PASSWORD (twice) and SECRET_KEY at least


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv/bin/hadolint")
    try:
        linted = subprocess.run([hadolint, "--failure-threshold", "info", str(DEPLOY / "Dockerfile")],
                                capture_output=True, text=True, timeout=60)
    except (FileNotFoundError, PermissionError, OSError) as error:
        pytest.skip(f"hadolint cannot run here: {error}")
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_nginx_limits_the_body_to_the_upload_ceiling():
    from saas.config import load_config

    conf = (DEPLOY / "nginx.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", conf)
    ceiling = load_config({"INSTANCE_PATH": str(ROOT / "instance")})["MAX_UPLOAD_BYTES"]
    assert ceiling < int(limit.group(1)) * 1024 * 1024 <= ceiling + 2 * 1024 * 1024


class PollingVisitor(VisitorClient):
    def _connect(self, base_url: str, auth: dict, headers: dict | None = None) -> None:
        self.sio.connect(base_url, namespaces=[self.namespace], auth=auth, transports=["polling"],
                         wait_timeout=5)


@pytest.fixture
def nginx(tmp_path):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    need("nginx", None if Path(binary).exists() else FileNotFoundError("apt-get install nginx-light (.ci/run does)"))
    started = []

    def start(upstream_ports: tuple[int, int]) -> str:
        port = free_port()
        conf = (DEPLOY / "nginx.conf").read_text()
        conf = conf.replace("server web1:5000", f"server 127.0.0.1:{upstream_ports[0]}")
        conf = conf.replace("server web2:5000", f"server 127.0.0.1:{upstream_ports[1]}")
        conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
        conf = conf.replace("/srv/switchboard/static/", f"{ROOT / 'saas' / 'static'}/")
        conf = conf.replace("access_log /dev/stdout;", f"access_log {tmp_path}/access.log;")
        (tmp_path / "nginx.conf").write_text(conf)
        process = subprocess.Popen(
            [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
             "-g", f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                requests.get(url + "/healthz", timeout=1)
                return url
            except requests.RequestException:  # refused, or a loaded machine answered late
                time.sleep(0.1)
        raise AssertionError("nginx did not start")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_through_nginx_polling_and_websocket_clients_chat_across_two_processes(
        start_server, make_tenant, clients, nginx):
    server_a, server_b = start_server(name="a"), start_server(name="b")
    front = SimpleNamespace(url=nginx((server_a.port, server_b.port)))
    tenant = make_tenant(agents=3)

    static = requests.get(front.url + "/static/widget.js", timeout=10)
    assert static.status_code == 200 and static.headers["Server"] == "nginx"  # nginx answered itself
    assert requests.get(front.url + "/metrics", timeout=10).status_code == 404

    # All test clients come from 127.0.0.1, so ip_hash sends them all to one process; an agent
    # connected straight to each process makes sure one of them is on the other process.
    agent_via_nginx = clients.agent(front, tenant, tenant.agents[0])
    agent_on_a = clients.agent(server_a, tenant, tenant.agents[1])
    agent_on_b = clients.agent(server_b, tenant, tenant.agents[2])
    visitor = PollingVisitor(front.url, tenant.widget_key)
    try:
        assert visitor.sio.transport() == "polling"
        assert agent_via_nginx.sio.transport() == "websocket"
        for n in range(3):  # several polling round trips stay on one process (sticky)
            assert visitor.send(f"hello through nginx {n}")["ok"]
        for agent in (agent_via_nginx, agent_on_a, agent_on_b):
            events = [agent.next_event() for _ in range(3)]
            assert [event["message"]["body"] for event in events] == [f"hello through nginx {n}" for n in range(3)]
        conversation = events[-1]["conversation"]
        by_id = {tenant.agents[0].id: agent_via_nginx, tenant.agents[1].id: agent_on_a, tenant.agents[2].id: agent_on_b}
        answering = by_id[conversation["assigned_agent_id"]]
        reply = answering.send(conversation["id"], "a reply")
        assert reply["ok"], reply
        # the visitor's own three messages come back to its room first, then the reply
        assert [visitor.next_event()["body"] for _ in range(4)][-1] == "a reply"
        for agent in by_id.values():  # the reply reaches the consoles on both processes too
            if agent is not answering:
                assert agent.next_event()["message"]["body"] == "a reply"
    finally:
        visitor.close()
