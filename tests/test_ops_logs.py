"""Operations: a live server logs one JSON line per request, socket event and job, with the
tenant, a request id and the duration, and never the words, passwords or tokens that passed."""
import json

import requests

from tests.clients import login
from tests.resilient import wait_for


def _lines(server) -> list[dict]:
    parsed = []
    for raw in server.log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            parsed.append(json.loads(raw))
    return parsed


def test_requests_and_socket_events_are_json_lines_without_secrets(backend, start_server, make_tenant, clients):
    server = start_server()
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    cookie = http.cookies.get("session")
    assert cookie
    proxy_id = "from-the-proxy-1234"
    answered = requests.get(server.url + "/healthz?secret=q-9f8e7d", headers={"X-Request-ID": proxy_id},
                            timeout=10)
    assert answered.headers["X-Request-ID"] == proxy_id

    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    words = "please keep this sentence out of the logs 7g3k"
    assert visitor.send(words)["ok"]
    agent.next_event()

    def logged():
        lines = _lines(server)
        sends = [line for line in lines if line.get("kind") == "socket" and line.get("event") == "message:send"]
        return lines if sends else None

    lines = wait_for(logged, 10, "the socket event's log line")
    health = [line for line in lines if line.get("kind") == "http" and line.get("request_id") == proxy_id]
    assert len(health) == 1
    assert health[0]["endpoint"] == "site.healthz" and health[0]["status"] == 200
    assert isinstance(health[0]["duration_ms"], float)

    logins = [line for line in lines if line.get("kind") == "http" and line.get("method") == "POST"
              and line.get("tenant") == tenant.slug and line.get("route", "").endswith("/login")]
    assert logins, "the login POST has a line with the tenant's slug"
    assert len({line["request_id"] for line in lines if line.get("kind") == "http"}) == \
        len([line for line in lines if line.get("kind") == "http"])  # one id per request

    send = next(line for line in lines if line.get("kind") == "socket" and line.get("event") == "message:send")
    assert send["tenant"] == tenant.slug and send["namespace"] == "/visitor" and send["outcome"] == "ok"
    assert send["request_id"] and isinstance(send["duration_ms"], float)

    text = server.log_path.read_text(errors="replace")
    assert words not in text
    assert "q-9f8e7d" not in text
    assert tenant.agents[0].password not in text
    assert visitor.token not in text
    assert cookie not in text


def test_a_job_logs_one_line_with_its_tenant_and_outcome(app, make_tenant, caplog):
    import workers

    tenant = make_tenant()
    with app.app_context(), caplog.at_level("INFO", logger="switchboard.access"):
        workers._run("os.getcwd", tenant.ref.id, ())
    jobs = [record for record in caplog.records if getattr(record, "kind", None) == "job"]
    assert len(jobs) == 1
    assert jobs[0].tenant == tenant.slug and jobs[0].job == "os.getcwd" and jobs[0].outcome == "ok"
    assert jobs[0].duration_ms >= 0
