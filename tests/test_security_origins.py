"""Per-tenant allowed origins: a tenant that lists its sites gets its widget refused elsewhere (the
/visitor connect and the widget's upload), with CORS headers naming only the allowed origin; the
server's own pages and non-browser clients keep working; a tenant with no list allows any site."""
import pytest
import requests
import socketio

from tests import sample_files
from tests.clients import TIMEOUT, login, manage_url, new_client_id, submit_form

SHOP = "https://shop.example"
EVIL = "https://evil.example"


def _allow(app, tenant, text: str) -> None:
    from saas.security import origins
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        origins.save(tenant_session(), text)
        tenant_session().commit()


def _connect(server, tenant, origin: str | None):
    """(True, None) or (False, refusal data) for a /visitor connect sent with this Origin header."""
    # websocket-client sends an Origin of its own (the server's) unless told which, or none.
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin} if origin else {
        "suppress_origin": True})
    refusals = []
    client.on("connect_error", refusals.append, namespace="/visitor")
    try:
        client.connect(server.url, namespaces=["/visitor"], auth={"key": tenant.widget_key}, transports=["websocket"],
                       wait_timeout=TIMEOUT)
    except socketio.exceptions.ConnectionError:
        return False, refusals[0] if refusals else None
    client.disconnect()
    return True, None


def _upload(server, tenant, token: str, origin: str | None) -> requests.Response:
    return requests.post(f"{server.url}/widget/upload", timeout=TIMEOUT, headers={"Origin": origin} if origin else {},
                         data={"key": tenant.widget_key, "token": token, "client_id": new_client_id()},
                         files={"file": ("a.png", sample_files.png(), "image/png")})


def test_origins_are_normalised_and_junk_is_refused(app):
    from saas.security import origins
    from saas.services.errors import Invalid

    assert origins.parse(" https://Shop.Example/any/path \n\nhttp://localhost:8000\nhttps://shop.example") == [
        SHOP, "http://localhost:8000"]
    for junk in ("shop.example", "ftp://shop.example", "https://", "https://user@shop.example",
                 "https://shop.example:99999", "javascript:alert(1)"):
        with pytest.raises(Invalid):
            origins.parse(junk)
    with pytest.raises(Invalid):
        origins.parse("\n".join(f"https://s{n}.example" for n in range(51)))


def test_a_listed_tenant_refuses_other_sites_on_the_socket_and_the_upload(server, app, make_tenant, clients):
    listed, open_tenant = make_tenant(), make_tenant()
    _allow(app, listed, f"{SHOP}\nhttp://localhost:8000")

    assert _connect(server, listed, SHOP) == (True, None)
    assert _connect(server, listed, "http://localhost:8000") == (True, None)
    assert _connect(server, listed, server.url) == (True, None)  # the demo page, served by this server
    assert _connect(server, listed, None) == (True, None)  # not a browser page
    refused, data = _connect(server, listed, EVIL)
    assert not refused and data["data"] == {"code": "origin_not_allowed",
                                            "message": "This chat widget is not enabled on this website."}
    assert _connect(server, listed, "https://shop.example.evil.example")[0] is False
    assert _connect(server, listed, "null")[0] is False
    assert _connect(server, open_tenant, EVIL) == (True, None)

    token = clients.visitor(server, listed).token
    allowed = _upload(server, listed, token, SHOP)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP and "Origin" in allowed.headers["Vary"]
    foreign = _upload(server, listed, token, EVIL)
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in foreign.headers
    open_token = clients.visitor(server, open_tenant).token
    anywhere = _upload(server, open_tenant, open_token, EVIL)
    assert anywhere.status_code == 200 and anywhere.headers["Access-Control-Allow-Origin"] == "*"

    # The widget's texts: readable by the listed sites only (public data, so not refused outright).
    def texts(tenant, origin):
        return requests.get(f"{server.url}/widget/i18n.json", params={"key": tenant.widget_key},
                            headers={"Origin": origin}, timeout=10).headers
    assert texts(listed, SHOP)["Access-Control-Allow-Origin"] == SHOP
    assert "Access-Control-Allow-Origin" not in texts(listed, EVIL)
    assert texts(open_tenant, EVIL)["Access-Control-Allow-Origin"] == "*"


def test_the_admin_screen_saves_the_list_and_warns_while_it_is_empty(server, app, make_tenant):
    tenant = make_tenant(agents=1, admins=1)
    admin = login(server.url, tenant.slug, tenant.admins[0].email, tenant.admins[0].password)
    url = manage_url(server, tenant, "allowedorigins/")
    assert "any website" in admin.get(url, timeout=TIMEOUT).text
    saved = submit_form(admin, url, allowed_origins=f"{SHOP}/\n")
    assert saved.status_code == 200 and "Allowed sites saved." in saved.text and "any website" not in saved.text
    refused = submit_form(admin, url, allowed_origins="not-an-origin")
    assert refused.status_code == 400 and "is not a site origin" in refused.text
    assert SHOP in admin.get(url, timeout=TIMEOUT).text
    agent = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent.get(url, timeout=TIMEOUT, allow_redirects=False).status_code == 403


@pytest.mark.browser
def test_the_demo_page_still_chats_when_the_tenant_lists_its_sites(server, app, make_tenant, page_for):
    from tests.test_browser import _visitor_says as visitor_says

    from sqlalchemy import select

    from saas.models import Message
    from tenants import tenant_context, tenant_session
    from tests.auto_reply_helpers import wait_for

    tenant = make_tenant()
    _allow(app, tenant, SHOP)
    visitor_says(page_for(), server, tenant, "Hello from the demo page")

    def stored():
        with app.app_context(), tenant_context(tenant.ref):
            return tenant_session().scalar(select(Message.body).where(Message.body == "Hello from the demo page"))

    wait_for(stored, what="the demo page's message to be stored")
