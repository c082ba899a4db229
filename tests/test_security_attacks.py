"""The attack suite: a live server with two tenants, A (the attacker's) and B (the victim), B's data
carrying a unique marker. Every HTTP endpoint of ``app.url_map`` and every event registered on the
/visitor and /agent namespaces is tried with no session, as another visitor of B, and as an agent of
A, with B's slug and B's object ids filled in: it is refused, never answers with a server error, and
B's marker never appears in any response or any event received. New endpoints and events are
covered as soon as they are registered."""
import re
import uuid

import pytest
import requests
import socketio

from tests import sample_files
from tests.clients import TIMEOUT, AgentClient, csrf_token, login, new_client_id

MARKER = f"VictimMarker{uuid.uuid4().hex[:12]}"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Ending the attacker's own session would turn the rest of the walk into the anonymous case.
SKIPPED_ENDPOINTS = {"auth.logout"}


class Victim:
    """Tenant B: a visitor whose name and messages carry the marker, a file, an agent's reply."""

    def __init__(self, server, tenant, clients):
        self.tenant = tenant
        self.visitor = clients.visitor(server, tenant)
        assert self.visitor.call("page:view", {"url": f"https://b.example/{MARKER}", "title": MARKER})["ok"]
        assert self.visitor.send(f"My secret is {MARKER}")["ok"]
        upload = requests.post(f"{server.url}/widget/upload", timeout=TIMEOUT,
                               files={"file": (f"{MARKER}.png", sample_files.png(), "image/png")},
                               data={"key": tenant.widget_key, "token": self.visitor.token,
                                     "client_id": new_client_id()})
        assert upload.status_code == 200, upload.text
        self.attachment = upload.json()["message"]["extras"]["attachment"]["id"]
        agent = clients.agent(server, tenant)
        [conversation] = agent.conversations()
        self.conversation_id = conversation["id"]
        assert agent.send(self.conversation_id, f"Noted, {MARKER}")["ok"]
        panel = agent.call("visitor:panel", {"conversation_id": self.conversation_id})
        self.visitor_public_id = panel["visitor"]["visitor_id"]
        assert agent.call("visitor:contact", {"visitor_id": self.visitor_public_id, "name": MARKER,
                                              "email": f"{MARKER.lower()}@b.example"})["ok"]
        assert MARKER in str(agent.open(self.conversation_id))  # the marker is there to be found

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def id_for(self, name: str):
        """B's object for a parameter or field called ``name``."""
        if "visitor" in name and "id" in name:
            return self.visitor_public_id
        if name in ("public_id", "file_id", "attachment_id"):
            return self.attachment
        return self.conversation_id


@pytest.fixture
def victim(server, make_tenant, clients):
    attacker, target = make_tenant(agents=1), make_tenant(agents=1)
    return attacker, Victim(server, target, clients)


def _assert_clean(where: str, text: str) -> None:
    assert MARKER not in text and MARKER.lower() not in text, f"{where} leaked the other tenant's data"


# --- HTTP ---

def _url(rule, slug: str, victim: Victim) -> str | None:
    path = rule.rule
    for argument in rule.arguments:
        if argument == "tenant_slug":
            value = slug
        elif argument in ("filename", "path"):
            return None  # static files
        else:
            value = str(victim.id_for(argument))
        path = re.sub(rf"<(?:[^:<>]+:)?{argument}>", value, path)
    return path


def _query(victim: Victim, stranger_token: str) -> dict:
    """Ids of B's objects under every name endpoints read them by; B's widget key with the token of
    another visitor of B (a visitor must not reach a fellow visitor's files)."""
    return {"id": victim.conversation_id, "conversation_id": victim.conversation_id,
            "visitor_id": victim.visitor_public_id, "key": victim.tenant.widget_key, "token": stranger_token,
            "q": MARKER[:6], "search": MARKER[:6]}


def _walk(app, server, http: requests.Session, slug: str, victim: Victim, stranger_token: str, token_page: str):
    """Every endpoint once per method; yields (rule, method, response)."""
    token = csrf_token(http.get(server.url + token_page, timeout=TIMEOUT).text)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static") or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        path = _url(rule, slug, victim)
        if path is None:
            continue
        for method in sorted((rule.methods or set()) & ({"GET"} | STATE_CHANGING)):
            data = {**_query(victim, stranger_token), "csrf_token": token} if method in STATE_CHANGING else None
            response = http.request(method, server.url + path, params=_query(victim, stranger_token), data=data,
                                    allow_redirects=False, timeout=TIMEOUT)
            yield rule, method, response


def _refused(response: requests.Response, slug: str) -> bool:
    if response.status_code in (401, 403, 404, 405, 400, 409, 429):
        return True
    return response.status_code in (302, 303) and f"/t/{slug}/login" in response.headers.get("Location", "")


def test_every_http_endpoint_refuses_strangers_and_never_shows_the_other_tenants_data(
        server, app, victim, clients):
    attacker, target = victim
    stranger = clients.visitor(server, target.tenant)  # another visitor of B
    anonymous = requests.Session()
    public = set()
    for rule, method, response in _walk(app, server, anonymous, attacker.slug, target, stranger.token,
                                        f"/t/{attacker.slug}/login"):
        if method == "GET" and response.status_code == 200:
            public.add(rule.endpoint)  # answers anyone in any workspace: a login page, the demo site
    assert "console.index" not in public and "auth.login" in public

    agent_of_a = login(server.url, attacker.slug, attacker.agents[0].email, attacker.agents[0].password)
    tried = 0
    for http, slug, who in ((anonymous, target.slug, "no session"), (agent_of_a, target.slug, "A's agent"),
                            (agent_of_a, attacker.slug, "A's agent with B's ids")):
        token_page = f"/t/{attacker.slug}/console/" if http is agent_of_a else f"/t/{attacker.slug}/login"
        for rule, method, response in _walk(app, server, http, slug, target, stranger.token, token_page):
            where = f"{who}: {method} {rule.rule} ({rule.endpoint}) → {response.status_code}"
            assert response.status_code < 500, where
            _assert_clean(where, response.text + str(response.headers))
            if slug == target.slug and rule.endpoint not in public:
                assert _refused(response, slug), where
            tried += 1
    assert tried > 3 * 100
    # Control: the check does see B's data where B's own visitor may: the file under its own token.
    own = requests.get(f"{server.url}/widget/files/{target.attachment}", timeout=TIMEOUT,
                       params={"key": target.tenant.widget_key, "token": target.visitor.token})
    assert own.status_code == 200 and MARKER in str(own.headers)


# --- Socket.IO ---

def _handlers(namespace: str) -> dict:
    from saas.extensions import socketio as server_socketio

    return {event: handler for event, handler in server_socketio.server.handlers[namespace].items()
            if event not in ("connect", "disconnect")}


def _value(name: str, schema: dict, victim: Victim):
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    kind = options[0].get("type") if options else "string"
    if kind == "integer":
        if name.endswith("_id") or name == "id":
            return victim.id_for(name)
        return max(schema.get("minimum", 0), 0) if "minimum" in schema else 0
    if kind == "string":
        if name.endswith("_id") and "visitor" in name:
            return victim.visitor_public_id
        return new_client_id() if name == "client_id" else "probe"
    return {"boolean": True, "array": [], "object": {}}.get(kind, "probe")


def aimed_payload(handler, victim: Victim):
    """A payload the event accepts, pointed at B's objects."""
    model = getattr(handler, "payload_model", None)
    if model is None:
        return {}
    properties = model.model_json_schema().get("properties", {})
    payload = {name: _value(name, schema, victim) for name, schema in properties.items()}
    for optional in [None, *[name for name, schema in properties.items() if "default" in schema]]:
        if optional is not None:
            payload.pop(optional, None)
        try:
            model.model_validate(payload)
            return payload
        except Exception:
            continue
    return payload


class Listener:
    """A raw client that records every event and acknowledgement it gets."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.client = socketio.Client(reconnection=False)
        self.received: list = []
        self.client.on("*", lambda event, data=None: self.received.append((event, data)), namespace=namespace)
        self.refusal = None
        self.client.on("connect_error", lambda data: setattr(self, "refusal", data), namespace=namespace)

    def connect(self, server, auth: dict, headers: dict | None = None) -> bool:
        try:
            self.client.connect(server.url, namespaces=[self.namespace], auth=auth, headers=headers or {},
                                transports=["websocket"], wait_timeout=TIMEOUT)
        except socketio.exceptions.ConnectionError:
            return False
        return True

    def close(self):
        if self.client.connected:
            self.client.disconnect()


def test_strangers_cannot_connect_to_the_other_tenants_namespaces(server, victim):
    attacker, target = victim
    http = login(server.url, attacker.slug, attacker.agents[0].email, attacker.agents[0].password)
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items())}
    for namespace, auth, headers in (("/agent", {"tenant": target.tenant.slug}, None),
                                     ("/agent", {"tenant": target.tenant.slug}, cookie),
                                     ("/agent", {}, cookie),
                                     ("/visitor", {}, None),
                                     ("/visitor", {"key": "forged"}, None),
                                     ("/visitor", {"key": target.tenant.widget_key, "token": "forged"}, None)):
        listener = Listener(namespace)
        connected = listener.connect(server, auth, headers)
        listener.close()
        if namespace == "/visitor" and auth.get("token") == "forged":
            continue  # a forged token just makes a new, empty visitor
        assert not connected, f"{namespace} accepted {auth}"


@pytest.mark.parametrize("namespace", ["/visitor", "/agent"])
def test_every_socket_event_aimed_at_the_other_tenants_objects_leaks_nothing(server, victim, clients, namespace):
    attacker, target = victim
    listener = Listener(namespace)
    if namespace == "/visitor":
        assert listener.connect(server, {"key": target.tenant.widget_key})  # a second visitor of B
    else:
        http = login(server.url, attacker.slug, attacker.agents[0].email, attacker.agents[0].password)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        assert listener.connect(server, {"tenant": attacker.slug}, {"Cookie": cookie})
    handlers = _handlers(namespace)
    assert len(handlers) >= 10
    try:
        for event, handler in sorted(handlers.items()):
            payload = aimed_payload(handler, target)
            ack = listener.client.call(event, payload, namespace=namespace, timeout=TIMEOUT)
            where = f"{namespace} {event} {payload}"
            assert isinstance(ack, dict) and "ok" in ack, f"{where}: {ack}"
            assert ack.get("error", {}).get("code") not in ("server_error", "unavailable"), f"{where}: {ack}"
            _assert_clean(where, str(ack))
        listener.client.sleep(0.5)  # pushes caused by the last events
        _assert_clean(f"{namespace} pushes", str(listener.received))
    finally:
        listener.close()
    # The victim's own conversation is unchanged by all of it.
    assert MARKER in str(AgentClient(server.url, target.tenant.slug, login(
        server.url, target.tenant.slug, target.tenant.agents[0].email, target.tenant.agents[0].password))
        .open(target.conversation_id))
