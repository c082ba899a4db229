"""Test clients that talk to a live server exactly as the widget and the console do."""
import queue
import re
import threading
import uuid

import requests
import socketio

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 10


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF token field"
    return match.group(1)


def login(base_url: str, slug: str, email: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base_url}/t/{slug}/login", timeout=TIMEOUT)
    response = http.post(
        f"{base_url}/t/{slug}/login",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        allow_redirects=False, timeout=TIMEOUT,
    )
    assert response.status_code == 302, f"login failed: {response.status_code}"
    return http


def manage_url(server, tenant, path: str) -> str:
    """A Flask-Admin screen of the tenant: /t/<slug>/admin/manage/<path>."""
    return f"{server.url}/t/{tenant.slug}/admin/manage/{path}"


def submit_form(http: requests.Session, url: str, **fields) -> requests.Response:
    """GET the form (for its CSRF token), then POST ``fields``; checkboxes are sent only when true."""
    page = http.get(url, timeout=TIMEOUT)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_token(page.text)}
    for name, value in fields.items():
        if value is True:
            data[name] = "y"
        elif value is not False:
            data[name] = value
    return http.post(url, data=data, timeout=TIMEOUT)


def assert_sent_to_login(response: requests.Response, tenant, what: str = "") -> None:
    """Refused as not logged in to ``tenant``: redirected to its login page."""
    assert response.status_code == 302 and f"/t/{tenant.slug}/login" in response.headers["Location"], what


def new_client_id() -> str:
    return uuid.uuid4().hex


class _Client:
    namespace = ""

    def __init__(self):
        self.sio = socketio.Client(reconnection=False)
        self.inbox: "queue.Queue[dict]" = queue.Queue()
        self.sio.on("message:new", self.inbox.put, namespace=self.namespace)

    def _connect(self, base_url: str, auth: dict, headers: dict | None = None) -> None:
        self.sio.connect(base_url, namespaces=[self.namespace], auth=auth, headers=headers or {},
                         transports=["websocket"], wait_timeout=TIMEOUT)

    def call(self, event: str, data=None, timeout: float = TIMEOUT) -> dict:
        return self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    def next_event(self, timeout: float = TIMEOUT) -> dict:
        return self.inbox.get(timeout=timeout)

    def assert_no_event(self, wait: float = 0.7) -> None:
        try:
            event = self.inbox.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected event: {event}")

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class VisitorClient(_Client):
    namespace = "/visitor"

    def __init__(self, base_url: str, widget_key: str, token: str | None = None):
        super().__init__()
        self._session = threading.Event()
        self.token: str | None = None
        self.nickname: str | None = None
        self.welcome: dict = {}
        self.states: "queue.Queue[dict]" = queue.Queue()
        self.sio.on("session", self._on_session, namespace=self.namespace)
        self.sio.on("conversation:state", self.states.put, namespace=self.namespace)
        self._connect(base_url, {"key": widget_key, "token": token})
        assert self._session.wait(TIMEOUT), "no session event after connect"

    def _on_session(self, data):
        self.token, self.nickname, self.welcome = data["token"], data["nickname"], data
        self._session.set()

    def send(self, body, client_id: str | None = None, timeout: float = TIMEOUT) -> dict:
        return self.call("message:send", {"client_id": client_id or new_client_id(), "body": body}, timeout)

    def history(self, after_seq: int = 0) -> dict:
        return self.call("history", {"after_seq": after_seq})

    def start(self, department_id=None, **prechat) -> dict:
        return self.call("conversation:start", {"department_id": department_id, "prechat": prechat})


class AgentClient(_Client):
    namespace = "/agent"

    def __init__(self, base_url: str, slug: str, http: requests.Session | None):
        super().__init__()
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items()) if http else ""
        self._connect(base_url, {"tenant": slug}, headers={"Cookie": cookie} if cookie else None)

    def send(self, conversation_id, body, client_id: str | None = None) -> dict:
        return self.call("message:send", {"conversation_id": conversation_id,
                                          "client_id": client_id or new_client_id(), "body": body})

    def conversations(self) -> list[dict]:
        reply = self.call("conversations:list", {})
        assert reply["ok"], reply
        return reply["conversations"]

    def open(self, conversation_id, after_seq: int = 0) -> dict:
        return self.call("conversation:open", {"conversation_id": conversation_id, "after_seq": after_seq})


class ClientPool:
    def __init__(self):
        self._clients: list[_Client] = []

    def visitor(self, server, tenant, token: str | None = None) -> VisitorClient:
        client = VisitorClient(server.url, tenant.widget_key, token)
        self._clients.append(client)
        return client

    def agent(self, server, tenant, person=None) -> AgentClient:
        person = person or tenant.agents[0]
        client = AgentClient(server.url, tenant.slug, login(server.url, tenant.slug, person.email, person.password))
        self._clients.append(client)
        return client

    def close_all(self) -> None:
        for client in self._clients:
            client.close()
