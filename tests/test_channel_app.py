"""The app channel (issue 7): a client written against the served OpenAPI document talks to a live
server as an app user; refusals (no key, another tenant's key or token, revoked key, bad
signature) and bad input store nothing; the push webhook fires only while the app is not
connected; the admin screen makes and revokes keys; the JS SDK works in a real browser."""
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
from jsonschema import Draft202012Validator
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from saas.models import AppKey, Conversation, Message, OutboundDelivery, Visitor
from saas.services import app_channel, identity, issued_secrets
from tenants import tenant_context, tenant_session
from tests.rq_helpers import RqWorker
from tests.channel_helpers import Receiver
from tests.clients import csrf_token, login, manage_url, new_client_id

TIMEOUT = 10


class AppApi:
    """Knows nothing of the app API but its OpenAPI document: operations are found by operationId,
    credentials by security scheme, every request body is checked against its schema before it is
    sent and every answer against the schema of its status code."""

    def __init__(self, base_url: str):
        self.doc = requests.get(f"{base_url}/api/app/v1/openapi.json", timeout=TIMEOUT).json()
        assert self.doc["openapi"].startswith("3.1")
        self.root = base_url + self.doc["servers"][0]["url"]
        self.operations = {operation["operationId"]: (method.upper(), path, operation)
                           for path, item in self.doc["paths"].items() for method, operation in item.items()}
        self.schemes = self.doc["components"]["securitySchemes"]

    def _validator(self, content: dict) -> Draft202012Validator:
        # "#/components/…" references resolve inside this schema, which carries the components.
        return Draft202012Validator({**content["application/json"]["schema"], "components": self.doc["components"]})

    def _credentials(self, operation: dict, key: str | None, token: str | None) -> dict:
        headers = {}
        for scheme_name in operation["security"][0]:
            scheme = self.schemes[scheme_name]
            if scheme["type"] == "apiKey" and key is not None:
                headers[scheme["name"]] = key
            if scheme["type"] == "http" and token is not None:
                headers["Authorization"] = f"Bearer {token}"
        return headers

    def call(self, operation_id: str, tenant_slug: str, *, key=None, token=None, body=None, query=None,
             raw: bytes | None = None) -> requests.Response:
        """``body``/``query`` must follow the document; ``raw`` sends bytes as they are (bad input)."""
        method, path, operation = self.operations[operation_id]
        if body is not None:
            self._validator(operation["requestBody"]["content"]).validate(body)
        if query is not None:
            allowed = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
            assert set(query) <= allowed, f"{set(query) - allowed} not in the document"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {**self._credentials(operation, key, token), "Content-Type": "application/json"}
        response = requests.request(method, self.root + path.format(tenant_slug=tenant_slug), params=query, data=data,
                                    headers=headers, timeout=TIMEOUT)
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{operation_id} answered an undocumented {response.status_code}"
        self._validator(documented["content"]).validate(response.json())
        return response


def _user_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def _setup(app, tenant, push_url: str | None = None) -> dict:
    """An app key and the identity secret of ``tenant`` (and its push URL)."""
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        _row, key = issued_secrets.issue(session, AppKey, "Test app", prefix=app_channel.KEY_PREFIX, example="")
        if push_url:
            app_channel.set_push_url(session, push_url)
        return {"key": key, "secret": identity.settings(session).identity_secret,
                "push_secret": app_channel.settings(session).push_secret}


def _start(api: AppApi, tenant, setup: dict, user_id: str = "user-42", **details) -> dict:
    response = api.call("startSession", tenant.slug, key=setup["key"],
                        body={"user_id": user_id, "user_hash": _user_hash(setup["secret"], user_id), **details})
    assert response.status_code == 200, response.text
    return response.json()


def _count(app, tenant, model, *where) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def api(server):
    return AppApi(server.url)


def test_an_app_user_sends_and_receives_through_the_documented_api(app, server, api, make_tenant, clients):
    tenant = make_tenant()
    setup = _setup(app, tenant)
    agent = clients.agent(server, tenant)

    session = _start(api, tenant, setup, name="Ada Lovelace", email="ada@example.com")
    assert session["user_id"] == "user-42" and session["nickname"] == "Ada Lovelace"
    assert session["socket"]["auth"] == {"key": tenant.widget_key, "token": session["token"]}
    token = session["token"]

    client_id = new_client_id()
    sent = api.call("sendMessage", tenant.slug, key=setup["key"], token=token,
                    body={"client_id": client_id, "body": "Where is my order?"}).json()
    assert sent["duplicate"] is False and sent["message"]["seq"] == 1
    resent = api.call("sendMessage", tenant.slug, key=setup["key"], token=token,
                      body={"client_id": client_id, "body": "Where is my order?"}).json()
    assert resent["duplicate"] is True and resent["message"]["id"] == sent["message"]["id"]

    pushed = agent.next_event()
    assert pushed["message"]["body"] == "Where is my order?" and pushed["conversation"]["channel"] == "app"
    conversation_id = pushed["conversation"]["id"]
    reply = agent.send(conversation_id, "It ships today.")
    assert reply["ok"], reply

    listed = api.call("listMessages", tenant.slug, key=setup["key"], token=token, query={"after_seq": 1}).json()
    assert listed["conversation"]["id"] == conversation_id and listed["conversation"]["channel"] == "app"
    assert [(m["seq"], m["sender"]["type"], m["body"]) for m in listed["messages"]] == [
        (reply["message"]["seq"], "agent", "It ships today.")]

    read = api.call("markRead", tenant.slug, key=setup["key"], token=token,
                    body={"seq": reply["message"]["seq"]}).json()
    assert read["visitor_read_seq"] == reply["message"]["seq"]

    # The same user again (another device): the same contact and conversation, one message stored.
    again = _start(api, tenant, setup)
    history = api.call("listMessages", tenant.slug, key=setup["key"], token=again["token"], query={}).json()
    assert [m["body"] for m in history["messages"]] == ["Where is my order?", "It ships today."]
    assert _count(app, tenant, Visitor, Visitor.external_id == "user-42") == 1


def test_calls_without_a_valid_key_or_token_of_this_tenant_are_refused(app, server, api, make_tenant):
    tenant, other = make_tenant(), make_tenant()
    setup, other_setup = _setup(app, tenant), _setup(app, other)
    token = _start(api, tenant, setup)["token"]
    other_token = _start(api, other, other_setup)["token"]
    send = {"client_id": new_client_id(), "body": "hello"}

    def refused(status: int, code: str, operation_id: str = "sendMessage", **credentials):
        body = send if operation_id == "sendMessage" else {"user_id": "user-42",
                                                          "user_hash": _user_hash(setup["secret"], "user-42")}
        response = api.call(operation_id, credentials.pop("slug", tenant.slug), body=body, **credentials)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code

    refused(401, "bad_app_key", token=token)  # no key
    refused(401, "bad_app_key", key="sbapp_" + "x" * 43, token=token)  # unknown key
    refused(401, "bad_app_key", key=other_setup["key"], token=token)  # another tenant's key
    refused(401, "bad_app_key", "startSession", key=other_setup["key"])
    refused(401, "bad_token", key=setup["key"])  # no user token
    refused(401, "bad_token", key=setup["key"], token=other_token)  # another tenant's user
    refused(401, "bad_token", key=setup["key"], token=token + "x")  # forged
    refused(404, "unknown_workspace", key=setup["key"], token=token, slug="no-such-workspace")

    # A bad signature is refused and makes no contact.
    response = api.call("startSession", tenant.slug, key=setup["key"],
                        body={"user_id": "mallory", "user_hash": _user_hash("not the secret", "mallory")})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_identity_signature"
    assert _count(app, tenant, Visitor, Visitor.external_id == "mallory") == 0

    # A revoked key stops working at once.
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        issued_secrets.revoke(session, AppKey, app_channel.authenticate(session, setup["key"]).id)
    refused(401, "bad_app_key", key=setup["key"], token=token)
    assert _count(app, tenant, Message) == 0 and _count(app, other, Message) == 0


def test_a_read_commits_nothing_but_the_key_s_use_noted_once_a_minute(app, make_tenant):
    tenant = make_tenant(agents=0)
    setup = _setup(app, tenant)
    http, base = app.test_client(), f"/api/app/v1/t/{tenant.slug}"
    started = http.post(f"{base}/session", headers={"X-App-Key": setup["key"]},
                        json={"user_id": "user-7", "user_hash": _user_hash(setup["secret"], "user-7")})
    headers = {"X-App-Key": setup["key"], "Authorization": f"Bearer {started.get_json()['token']}"}

    def key_last_used():
        with app.app_context(), tenant_context(tenant.ref):
            return tenant_session().scalar(select(AppKey.last_used_at))

    commits = []

    def count(_connection):
        commits.append(1)

    event.listen(Engine, "commit", count)
    try:
        assert http.get(f"{base}/messages", headers=headers).status_code == 200
        assert commits == []  # the key's use is already noted this minute
        noted_earlier = key_last_used() - timedelta(minutes=2)
        with app.app_context(), tenant_context(tenant.ref):
            session = tenant_session()
            session.execute(update(AppKey).values(last_used_at=noted_earlier))
            session.commit()
        commits.clear()
        assert http.get(f"{base}/messages", headers=headers).status_code == 200
        assert len(commits) == 1 and key_last_used() > noted_earlier
    finally:
        event.remove(Engine, "commit", count)


def test_bad_input_gets_a_clear_4xx_and_stores_nothing(app, server, api, make_tenant):
    tenant = make_tenant()
    setup = _setup(app, tenant)
    token = _start(api, tenant, setup)["token"]

    def bad(raw: bytes, status: int = 400, operation_id: str = "sendMessage", query=None) -> str:
        response = api.call(operation_id, tenant.slug, key=setup["key"], token=token, raw=raw, query=query)
        assert response.status_code == status, response.text
        return response.json()["error"]["message"]

    oversized = json.dumps({"client_id": new_client_id(), "body": "x" * 200_000}).encode()
    assert "at most" in bad(oversized, 413)
    too_long = json.dumps({"client_id": new_client_id(), "body": "x" * 5001}).encode()
    assert "at most 5000 characters" in bad(too_long)
    assert "client_id" in bad(b'{"body": "no client id"}')
    assert "body" in bad(json.dumps({"client_id": new_client_id()}).encode())
    assert "extra" in bad(json.dumps({"client_id": new_client_id(), "body": "hi", "admin": True}).encode()).lower()
    assert "body" in bad(json.dumps({"client_id": new_client_id(), "body": 42}).encode())
    assert "json" in bad(b'{"client_id": ').lower()
    assert "object" in bad(b'["a list"]').lower() or "dictionary" in bad(b'["a list"]').lower()
    assert "client_id" in bad(json.dumps({"client_id": "bad id!", "body": "hi"}).encode())
    assert "seq" in bad(b'{"seq": -1}', operation_id="markRead")
    assert "after_seq" in bad(b"", operation_id="listMessages", query={"after_seq": "soon"})
    response = requests.get(api.root + f"/t/{tenant.slug}/messages", params={"everything": "1"},
                            headers={"X-App-Key": setup["key"], "Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert response.status_code == 400 and "everything" in response.json()["error"]["message"]

    assert _count(app, tenant, Message) == 0 and _count(app, tenant, Conversation) == 0


@pytest.fixture
def push_receiver(backend, tmp_path):
    """The tenant's push endpoint (a local HTTP server answering 200), and what sends pushes to it
    besides the server: nothing on SQLite, the Procfile's RQ worker on PostgreSQL."""
    receiver = Receiver([200])
    worker = RqWorker(backend.env, tmp_path / "rq-worker.log") if backend.name == "postgresql" else None
    yield receiver
    if worker is not None:
        worker.stop()
    receiver.close()


def _wait_for(condition, timeout: float = 60) -> None:
    """A liveness bound, not a timing assertion: a loaded machine may take long to start a worker."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition()


def test_a_reply_is_pushed_only_while_the_app_is_not_connected(app, backend, server, start_server, api, make_tenant,
                                                               clients, push_receiver):
    receiver = push_receiver
    tenant = make_tenant()
    setup = _setup(app, tenant, push_url=receiver.url)
    session = _start(api, tenant, setup)
    api.call("sendMessage", tenant.slug, key=setup["key"], token=session["token"],
             body={"client_id": new_client_id(), "body": "Any news?"})
    agent = clients.agent(server, tenant)
    conversation_id = agent.conversations()[0]["id"]

    first = agent.send(conversation_id, "Not yet, sorry.")["message"]
    _wait_for(lambda: len(receiver.received) == 1)
    push = receiver.received[0]
    expected = "sha256=" + hmac.new(setup["push_secret"].encode(), push.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(push.headers["X-Switchboard-Signature"], expected)
    assert push.headers["Idempotency-Key"] == f"app-push:{first['id']}"
    payload = json.loads(push.body)
    assert payload == {"event": "message.new", "user_id": "user-42", "conversation_id": conversation_id,
                       "message": {"id": first["id"], "seq": first["seq"], "body": "Not yet, sorry.",
                                   "sender": {"type": "agent", "name": first["sender"]["name"]},
                                   "created_at": first["created_at"]}}

    # The app is connected (its socket, with the session's auth; on PostgreSQL + Redis to another
    # server process than the agent's): replies arrive live, no push.
    app_server = start_server(name="app-socket") if backend.name == "postgresql" else server
    app_socket = clients.visitor(app_server, tenant, token=session["socket"]["auth"]["token"])
    agent.send(conversation_id, "Now it has shipped.")
    assert app_socket.next_event()["body"] == "Now it has shipped."
    # Deliveries are queued with the reply itself, before it is acknowledged: none means no push.
    assert _count(app, tenant, OutboundDelivery) == 1 and len(receiver.received) == 1

    app_socket.close()
    _wait_for(lambda: not _connected(app, tenant))
    agent.send(conversation_id, "It arrives tomorrow.")
    _wait_for(lambda: len(receiver.received) == 2)
    assert json.loads(receiver.received[1].body)["message"]["body"] == "It arrives tomorrow."


def _connected(app, tenant) -> bool:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = session.scalar(select(Visitor).where(Visitor.external_id == "user-42"))
        return app_channel.is_connected(session, visitor.id)


def test_admins_make_a_key_shown_once_set_the_push_url_and_revoke_the_key(app, server, api, make_tenant):
    tenant = make_tenant()
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    page_url = manage_url(server, tenant, "appchannel/")
    page = owner.get(page_url, timeout=TIMEOUT)
    assert page.status_code == 200 and "None yet." in page.text

    made = owner.post(page_url + "secrets", data={"csrf_token": csrf_token(page.text), "name": "iOS app"},
                      timeout=TIMEOUT)
    assert made.status_code == 200
    key = made.text.split('id="new-app-key">', 1)[1].split("<", 1)[0]
    assert key.startswith("sbapp_")
    assert key not in owner.get(page_url, timeout=TIMEOUT).text  # shown once

    refused = owner.post(page_url + "push", data={"csrf_token": csrf_token(page.text), "push_url": "javascript:x"},
                         timeout=TIMEOUT)
    assert refused.status_code == 400 and "https://" in refused.text
    saved = owner.post(page_url + "push", data={"csrf_token": csrf_token(page.text),
                                                "push_url": "https://example.com/push"}, timeout=TIMEOUT)
    assert saved.status_code == 200 and "https://example.com/push" in saved.text

    with app.app_context(), tenant_context(tenant.ref):
        secret = identity.settings(tenant_session()).identity_secret
        key_id = app_channel.authenticate(tenant_session(), key).id
    setup = {"key": key, "secret": secret}
    assert _start(api, tenant, setup)["user_id"] == "user-42"
    owner.post(page_url + f"secrets/{key_id}/revoke", data={"csrf_token": csrf_token(page.text)}, timeout=TIMEOUT)
    body = {"user_id": "user-42", "user_hash": _user_hash(secret, "user-42")}
    assert api.call("startSession", tenant.slug, key=key, body=body).status_code == 401

    agent = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent.get(page_url, timeout=TIMEOUT, allow_redirects=False).status_code == 403


SDK_PAGE = """<!doctype html><html><head><script src="{base}/static/switchboard-sdk.js"></script></head>
<body><p>An app's web view</p></body></html>"""


@pytest.mark.browser
def test_the_sdk_sends_and_receives_in_a_web_view(app, server, make_tenant, clients, page_for):
    tenant = make_tenant()
    setup = _setup(app, tenant)
    agent = clients.agent(server, tenant)
    page = page_for()
    page.set_content(SDK_PAGE.format(base=server.url))
    user_id = f"app-user-{uuid.uuid4().hex[:6]}"
    page.evaluate("""(o) => {
        window.received = [];
        window.chat = Switchboard.connect(o);
        window.chat.onMessage((m) => window.received.push(m.sender.type + ': ' + m.body));
        return window.chat.ready.then(() => window.chat.send('Hello from the app'));
    }""", {"baseUrl": server.url, "tenant": tenant.slug, "appKey": setup["key"], "userId": user_id,
           "userHash": _user_hash(setup["secret"], user_id)})
    pushed = agent.next_event()
    assert pushed["message"]["body"] == "Hello from the app" and pushed["conversation"]["channel"] == "app"
    agent.send(pushed["conversation"]["id"], "Hello, app user")
    page.wait_for_function("window.received.includes('agent: Hello, app user')")
    assert page.evaluate("window.received") == ["visitor: Hello from the app", "agent: Hello, app user"]
    assert page.evaluate("window.chat.history().then((ms) => ms.map((m) => m.seq))") == [1, 2]


def test_the_event_catalogue_names_only_events_the_visitor_namespace_handles(app):
    from saas.extensions import socketio

    catalogue = app.test_client().get("/api/app/v1/events.json").get_json()
    assert catalogue["namespace"] == "/visitor"
    sent_by_apps = {e["event"] for e in catalogue["events"] if e["direction"] == "app→server"}
    assert sent_by_apps == {"history", "message:send", "conversation:seen", "typing", "human:request"}
    assert sent_by_apps <= set(socketio.server.handlers["/visitor"])
    send = next(e for e in catalogue["events"] if e["event"] == "message:send")
    assert set(send["payload"]["required"]) == {"client_id", "body"}
