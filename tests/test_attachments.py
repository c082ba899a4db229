"""Files in conversations over real HTTP against a live server, on both backends: uploads by visitors
and agents, type sniffing, per-tenant limits, who may download what, and the headers that keep a
file from ever running in a browser."""
import pytest
import requests
from sqlalchemy import func, select

from tests import sample_files
from tests.clients import TIMEOUT, csrf_token, login, manage_url, new_client_id, submit_form

pytestmark = pytest.mark.usefixtures("server")


def upload_as_visitor(server, tenant, visitor, name, data, *, client_id=None, key=None, token=None,
                      claimed_type="image/png"):
    return requests.post(f"{server.url}/widget/upload", timeout=TIMEOUT, data={
        "key": tenant.widget_key if key is None else key, "token": visitor.token if token is None else token,
        "client_id": client_id or new_client_id(),
    }, files={"file": (name, data, claimed_type)})


class Agent:
    """An agent's logged-in HTTP session, as the console page has it (cookie + CSRF token)."""

    def __init__(self, server, tenant, person):
        self.server, self.tenant = server, tenant
        self.http = login(server.url, tenant.slug, person.email, person.password)
        self.csrf = csrf_token(self.http.get(f"{server.url}/t/{tenant.slug}/console/", timeout=TIMEOUT).text)

    def upload(self, conversation_id, name, data, *, slug=None, client_id=None):
        return self.http.post(
            f"{self.server.url}/t/{slug or self.tenant.slug}/console/conversations/{conversation_id}/files",
            data={"client_id": client_id or new_client_id()}, files={"file": (name, data)},
            headers={"X-CSRFToken": self.csrf}, timeout=TIMEOUT, allow_redirects=False)

    def download(self, attachment_id, slug=None):
        return self.http.get(f"{self.server.url}/t/{slug or self.tenant.slug}/console/files/{attachment_id}",
                             timeout=TIMEOUT, allow_redirects=False)


def download_as_visitor(server, tenant, visitor, attachment_id, *, token=None):
    return requests.get(f"{server.url}/widget/files/{attachment_id}", timeout=TIMEOUT,
                        params={"key": tenant.widget_key, "token": visitor.token if token is None else token})


def stored(app, tenant):
    """(messages, attachment rows, files on disk) of the tenant."""
    from saas.models import Attachment, Message
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        messages = session.scalar(select(func.count(Message.id)))
        rows = session.scalar(select(func.count(Attachment.id)))
        root = app.extensions["switchboard_tenants"].files_root(tenant.ref)
        files = sorted(p.name for p in root.iterdir()) if root.exists() else []
    return messages, rows, files


def assert_refused(response, status, code):
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["ok"] is False and body["error"]["code"] == code, body
    assert body["error"]["message"]  # a sentence a person can act on
    return body["error"]["message"]


def test_a_visitors_image_reaches_the_agent_and_is_served_inline(app, make_tenant, server, clients):
    tenant = make_tenant()
    agent_socket = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    image = sample_files.png(5, 4)

    response = upload_as_visitor(server, tenant, visitor, "../../etc/holiday\u202egnp.png", image,
                                 claimed_type="application/x-msdownload")
    assert response.status_code == 200, response.text
    message = response.json()["message"]
    attachment = message["extras"]["attachment"]
    assert attachment["type"] == "png" and attachment["is_image"] and attachment["content_type"] == "image/png"
    assert (attachment["width"], attachment["height"], attachment["size"]) == (5, 4, len(image))
    assert attachment["name"] == "holidaygnp.png"  # no folders, no right-to-left override
    assert message["body"] == "holidaygnp.png" and message["sender"]["type"] == "visitor"

    pushed = agent_socket.next_event()
    assert pushed["message"]["extras"]["attachment"] == attachment
    _messages, rows, files = stored(app, tenant)
    assert rows == 1 and files == [attachment["id"]]  # stored under its random id, not the sender's name

    by_agent = Agent(server, tenant, tenant.agents[0]).download(attachment["id"])
    assert by_agent.status_code == 200 and by_agent.content == image
    assert by_agent.headers["Content-Type"] == "image/png"
    assert "attachment" not in by_agent.headers.get("Content-Disposition", "")
    assert by_agent.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in by_agent.headers["Content-Security-Policy"]

    by_visitor = download_as_visitor(server, tenant, visitor, attachment["id"])
    assert by_visitor.status_code == 200 and by_visitor.content == image
    assert by_visitor.headers["Access-Control-Allow-Origin"] == "*"
    assert by_visitor.headers["X-Content-Type-Options"] == "nosniff"


def test_an_agents_pdf_reaches_the_visitor_and_is_only_ever_a_download(app, make_tenant, server, clients):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    conversation_id = visitor.send("Can you send me the invoice?")["message"]["conversation_id"]
    visitor.next_event()  # its own message
    agent = Agent(server, tenant, tenant.agents[0])
    document = sample_files.pdf()

    response = agent.upload(conversation_id, "Invoice 42.pdf", document)
    assert response.status_code == 200, response.text
    attachment = response.json()["message"]["extras"]["attachment"]
    assert attachment["type"] == "pdf" and not attachment["is_image"] and attachment["name"] == "Invoice 42.pdf"
    assert visitor.next_event()["extras"]["attachment"] == attachment

    for download in (agent.download(attachment["id"]),
                     download_as_visitor(server, tenant, visitor, attachment["id"])):
        assert download.status_code == 200 and download.content == document
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "Invoice 42.pdf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("cat.png", sample_files.ELF, "executable_refused"),
    ("cat.png", sample_files.WINDOWS_EXE, "executable_refused"),
    ("cat.png", sample_files.SHELL_SCRIPT, "executable_refused"),
    ("drawing.svg", sample_files.SVG, "file_type_not_allowed"),
    ("drawing.png", sample_files.SVG, "file_type_not_allowed"),
    ("page.txt", sample_files.HTML, "file_type_not_allowed"),
    ("photo.txt", sample_files.png(), "file_type_mismatch"),
    ("report.pdf", b"just some words\n", "file_type_mismatch"),
    ("blob.bin", bytes(range(256)), "file_type_not_allowed"),
    ("empty.txt", b"", "empty_file"),
])
def test_the_bytes_decide_what_a_file_is_and_refusals_store_nothing(app, make_tenant, server, clients, name,
                                                                    data, code):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    assert_refused(upload_as_visitor(server, tenant, visitor, name, data), 400, code)
    assert stored(app, tenant) == (0, 0, [])


def test_a_foreign_or_missing_extension_becomes_the_sniffed_one(make_tenant, server, clients):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    for name, expected in (("notes", "notes.txt"), ("setup.exe", "setup.exe.txt"), ("pixel.html", "pixel.html.png")):
        data = sample_files.png() if expected.endswith(".png") else b"hello\n"
        response = upload_as_visitor(server, tenant, visitor, name, data)
        assert response.status_code == 200, response.text
        assert response.json()["message"]["extras"]["attachment"]["name"] == expected


def test_the_tenants_size_limit_and_types_apply_with_clear_errors(app, make_tenant, server, clients):
    tenant = make_tenant(admins=1)
    visitor = clients.visitor(server, tenant)
    admin = login(server.url, tenant.slug, tenant.admins[0].email, tenant.admins[0].password)
    saved = submit_form(admin, manage_url(server, tenant, "filesettings/"), max_file_kb="2", allowed_types="png")
    assert saved.status_code == 200 and "File settings saved." in saved.text

    message = assert_refused(upload_as_visitor(server, tenant, visitor, "big.png", sample_files.png(40, 40) + b"\0" * 3000),
                             413, "file_too_large")
    assert "2 KB" in message or "0.0 MB" not in message
    message = assert_refused(upload_as_visitor(server, tenant, visitor, "notes.txt", b"hello\n"), 400,
                             "file_type_not_allowed")
    assert "PNG image" in message
    assert stored(app, tenant) == (0, 0, [])
    assert upload_as_visitor(server, tenant, visitor, "small.png", sample_files.png()).status_code == 200

    refused = submit_form(admin, manage_url(server, tenant, "filesettings/"), max_file_kb="999999999",
                          allowed_types="png")
    assert refused.status_code == 400 and "The largest file is between 1 KB and" in refused.text
    agent = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent.get(manage_url(server, tenant, "filesettings/"), timeout=TIMEOUT).status_code == 403


def test_an_upload_into_another_tenants_conversation_is_refused(app, make_tenant, server, clients):
    ours, theirs = make_tenant(), make_tenant()
    their_visitor = clients.visitor(server, theirs)
    their_conversation = their_visitor.send("hello")["message"]["conversation_id"]
    agent = Agent(server, ours, ours.agents[0])

    # Their conversation's id means nothing in our workspace…
    assert_refused(agent.upload(their_conversation, "x.png", sample_files.png()), 404, "conversation_not_found")
    # …and our login means nothing in theirs.
    assert_refused(agent.upload(their_conversation, "x.png", sample_files.png(), slug=theirs.slug), 401,
                   "unauthorized")
    # A visitor token of one tenant is worthless with another tenant's widget key.
    assert_refused(upload_as_visitor(server, ours, their_visitor, "x.png", sample_files.png()), 400, "bad_token")
    assert_refused(upload_as_visitor(server, theirs, their_visitor, "x.png", sample_files.png(), token=""), 400,
                   "bad_token")
    assert_refused(upload_as_visitor(server, theirs, their_visitor, "x.png", sample_files.png(), key="nope" * 4),
                   404, "unknown_widget_key")
    assert stored(app, ours) == (0, 0, [])
    assert stored(app, theirs) == (1, 0, [])


def test_only_the_conversations_visitor_and_the_tenants_agents_may_download(make_tenant, server, clients):
    ours, theirs = make_tenant(), make_tenant()
    visitor, other_visitor = clients.visitor(server, ours), clients.visitor(server, ours)
    attachment_id = upload_as_visitor(server, ours, visitor, "me.png", sample_files.png()).json()[
        "message"]["extras"]["attachment"]["id"]
    their_agent = Agent(server, theirs, theirs.agents[0])

    assert download_as_visitor(server, ours, visitor, attachment_id).status_code == 200
    assert_refused(download_as_visitor(server, ours, other_visitor, attachment_id), 404, "file_not_found")
    assert_refused(download_as_visitor(server, ours, visitor, attachment_id, token=""), 400, "bad_token")
    assert_refused(requests.get(f"{server.url}/widget/files/{attachment_id}", timeout=TIMEOUT), 404,
                   "unknown_widget_key")
    assert_refused(their_agent.download(attachment_id), 404, "file_not_found")  # not in their workspace
    cross = their_agent.download(attachment_id, slug=ours.slug)  # their login, our workspace
    assert cross.status_code == 302 and f"/t/{ours.slug}/login" in cross.headers["Location"]
    anonymous = requests.get(f"{server.url}/t/{ours.slug}/console/files/{attachment_id}", timeout=TIMEOUT,
                             allow_redirects=False)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    our_agent = Agent(server, ours, ours.agents[0])
    for not_an_id in ("secret_key", "..%2F..%2Fsecret_key", attachment_id + "x" * 20):
        assert our_agent.download(not_an_id).status_code == 404


def test_a_resent_upload_is_stored_once(app, make_tenant, server, clients):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    client_id = new_client_id()
    first = upload_as_visitor(server, tenant, visitor, "a.png", sample_files.png(), client_id=client_id).json()
    again = upload_as_visitor(server, tenant, visitor, "a.png", sample_files.png(), client_id=client_id).json()
    assert again["duplicate"] is True and again["message"]["id"] == first["message"]["id"]
    assert stored(app, tenant) == (1, 1, [first["message"]["extras"]["attachment"]["id"]])


def test_a_closed_conversation_refuses_an_agents_file(app, make_tenant, server, clients):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    conversation_id = visitor.send("hi")["message"]["conversation_id"]
    agent_socket = clients.agent(server, tenant)
    assert agent_socket.call("conversation:pick", {"conversation_id": conversation_id})["ok"]
    assert agent_socket.call("conversation:close", {"conversation_id": conversation_id})["ok"]
    agent = Agent(server, tenant, tenant.agents[0])
    assert_refused(agent.upload(conversation_id, "x.png", sample_files.png()), 400, "conversation_closed")
    assert stored(app, tenant)[1:] == (0, [])


def test_dropping_a_tenant_removes_its_files(app, make_tenant, server, clients):
    from tenants import provisioning

    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    assert upload_as_visitor(server, tenant, visitor, "a.png", sample_files.png()).status_code == 200
    root = app.extensions["switchboard_tenants"].files_root(tenant.ref)
    assert any(root.iterdir())
    with app.app_context():
        provisioning.drop_tenant(tenant.ref)
    assert not root.exists()


def test_formatted_text_arrives_as_sanitised_html_and_plain_text_stays_plain(make_tenant, server, clients):
    tenant = make_tenant()
    agent_socket = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    sent = visitor.send("**Order** 42 is *late*, see https://shop.test/o/42 <img src=x onerror=alert(1)>")
    html = sent["message"]["extras"]["html"]
    assert "<strong>Order</strong>" in html and "<em>late</em>" in html
    assert ('<a href="https://shop.test/o/42" target="_blank" rel="noopener noreferrer nofollow">'
            in html)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert agent_socket.next_event()["message"]["extras"]["html"] == html
    assert visitor.send("just words")["message"]["extras"] == {}


def test_a_malformed_upload_is_refused_clearly_and_stores_nothing(app, make_tenant, server, clients):
    tenant = make_tenant()
    visitor = clients.visitor(server, tenant)
    no_file = requests.post(f"{server.url}/widget/upload", timeout=TIMEOUT,
                            data={"key": tenant.widget_key, "token": visitor.token, "client_id": new_client_id()})
    assert_refused(no_file, 400, "no_file")
    assert_refused(upload_as_visitor(server, tenant, visitor, "a.png", sample_files.png(), client_id="bad id!"),
                   400, "invalid_client_id")
    agent = Agent(server, tenant, tenant.agents[0])
    agent.csrf = "forged"
    assert_refused(agent.upload(1, "a.png", sample_files.png()), 400, "csrf_failed")
    assert stored(app, tenant) == (0, 0, [])
