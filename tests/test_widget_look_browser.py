"""The widget's look in a real browser: a change in the admin (with its live preview) shows in an
already-embedded widget after a reload, and the widget and a hostile host page leave each other's
styles alone (Shadow DOM plus ``all: initial`` on the host element)."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from saas.models import BusinessHours
from saas.services import widget_look
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in
from tests.sample_files import png

# Storage is covered on both backends by test_widget_look.py; what a browser shows is the same on either.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

DEFAULT_BLUE = "rgb(37, 99, 235)"

# Global rules a careless site might have: every one would wreck a widget living in the page's DOM.
AGGRESSIVE_CSS = """
* { color: rgb(255, 0, 0) !important; font-family: serif !important; font-size: 31px !important;
    box-sizing: content-box !important; margin: 17px !important; line-height: 3 !important;
    letter-spacing: 5px !important; text-transform: uppercase !important; font-style: italic !important; }
button { background: rgb(0, 255, 0) !important; border: 9px dashed rgb(255, 0, 255) !important;
         width: 7px !important; height: 7px !important; padding: 40px !important; border-radius: 0 !important; }
div { display: block !important; position: static !important; width: 50px !important; height: 50px !important;
      background: rgb(255, 255, 0) !important; overflow: hidden !important; opacity: .5 !important; }
textarea, input { display: none !important; }
ol, li { display: none !important; }
[hidden] { display: block !important; }
"""
# The page's own elements, some with the class names the widget uses inside its shadow root.
HOST_BODY = """
<h2 id="host-h2" class="header">Our shop</h2>
<p id="host-note" class="note">Free delivery</p>
<button id="host-button" class="launcher send" type="button">Buy</button>
<div id="host-div" class="panel">A box</div>
<textarea id="host-textarea"></textarea>
"""
PROPERTIES = ("color", "fontFamily", "fontSize", "backgroundColor", "display", "position", "width", "height",
              "borderTopWidth", "paddingTop", "boxSizing", "opacity", "outlineStyle", "letterSpacing")
HOST_ELEMENTS = ("host-h2", "host-note", "host-button", "host-div", "host-textarea")


def _host_page(server, tenant, with_widget: bool) -> str:
    script = f'<script src="{server.url}/widget.js" data-key="{tenant.widget_key}" async></script>' if with_widget else ""
    return (f"<!doctype html><html lang='en'><head><title>Host</title><style>{AGGRESSIVE_CSS}</style></head>"
            f"<body>{HOST_BODY}{script}</body></html>")


@pytest.fixture
def host_site():
    """A customer's website on its own origin (another port), serving the given pages as HTML."""
    servers = []

    def serve(pages: dict[str, str]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args):
                pass

        http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        servers.append(http)
        return f"http://127.0.0.1:{http.server_address[1]}"

    yield serve
    for http in servers:
        http.shutdown()
        http.server_close()


def _computed(page, element_ids) -> dict:
    return page.evaluate("""([ids, props]) => Object.fromEntries(ids.map((id) => {
        const style = getComputedStyle(document.getElementById(id));
        return [id, Object.fromEntries(props.map((p) => [p, style[p]]))];
    }))""", [list(element_ids), list(PROPERTIES)])


def _widget_style(page, selector: str) -> dict:
    return page.locator(selector).evaluate("""(node) => {
        const s = getComputedStyle(node), box = node.getBoundingClientRect();
        return {color: s.color, background: s.backgroundColor, font: s.fontFamily, size: s.fontSize,
                inherited: [s.letterSpacing, s.textTransform, s.fontStyle],
                display: s.display, position: s.position, opacity: s.opacity, left: box.left,
                right: window.innerWidth - box.right, width: box.width, height: box.height};
    }""")


def test_host_page_css_and_the_widget_leave_each_other_alone(server, make_tenant, page_for, host_site):
    from playwright.sync_api import expect

    tenant = make_tenant()
    page = page_for()
    site = host_site({"/with": _host_page(server, tenant, True), "/without": _host_page(server, tenant, False)})
    page.goto(f"{site}/without")
    alone = _computed(page, HOST_ELEMENTS)
    page.goto(f"{site}/with")
    launcher = page.locator("[data-sb=launcher]")
    expect(launcher).to_be_visible()
    # The widget's own rules changed nothing on the host page.
    assert _computed(page, HOST_ELEMENTS) == alone

    # And the page's `* {…}`, `button {…}`, `div {…}` reached nothing inside the widget.
    style = _widget_style(page, "[data-sb=launcher]")
    assert (style["background"], style["color"], style["size"]) == (DEFAULT_BLUE, "rgb(255, 255, 255)", "15px")
    assert (style["height"], style["right"]) == (60, 20) and 60 <= style["width"] <= 80
    assert "serif" != style["font"] and "system-ui" in style["font"]
    assert style["inherited"] == ["normal", "none", "normal"]  # nothing inherited through the host element
    launcher.click()
    panel = _widget_style(page, "[data-sb=panel]")
    assert (panel["display"], panel["position"], panel["opacity"], panel["width"]) == ("flex", "fixed", "1", 360)
    composer = page.locator("[data-sb=input]")
    expect(composer).to_be_visible()
    assert _widget_style(page, "[data-sb=input]")["size"] == "14px"
    composer.fill("Styles stay apart")
    page.locator("[data-sb=send]").click()
    expect(page.locator("[data-sb=message]")).to_have_count(1)
    expect(page.locator("[data-sb=message]")).to_be_visible()
    assert _computed(page, HOST_ELEMENTS) == alone


def test_a_new_look_set_in_the_admin_shows_in_an_embedded_widget_after_reload(server, app, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    visitor = page_for()
    visitor.goto(f"{server.url}/demo/{tenant.slug}")
    launcher = visitor.locator("[data-sb=launcher]")
    expect(launcher).to_have_text("Chat")
    assert _widget_style(visitor, "[data-sb=launcher]")["background"] == DEFAULT_BLUE

    # The admin's live preview follows the form before anything is saved, with the server's contrast check.
    admin = page_for()
    browser_log_in(admin, server, tenant, tenant.owner)
    admin.goto(f"{server.url}/t/{tenant.slug}/admin/manage/widget_look/")
    preview = admin.locator("#look-preview")
    admin.fill("#color", "#ffd700")
    expect(admin.locator("[data-look=contrast]")).to_have_text("Text contrast 12.64:1 — meets WCAG 2.1 AA.")
    header = admin.locator(".look-header")
    assert header.evaluate("(node) => getComputedStyle(node).backgroundColor") == "rgb(255, 215, 0)"
    assert header.evaluate("(node) => getComputedStyle(node).color") == "rgb(17, 24, 39)"  # the server's choice
    admin.fill("#color", "#777777")
    expect(admin.locator("[data-look=contrast]")).to_contain_text("reaches only 4.47:1")
    admin.check("#position-left")
    expect(preview).to_have_attribute("data-position", "left")
    admin.fill("#launcher_text", "Help")
    expect(admin.locator("[data-look=launcher]")).to_have_text("Help")
    admin.fill("#greeting", "Hello from the preview")
    expect(admin.locator("[data-look=greeting]")).to_have_text("Hello from the preview")
    admin.set_input_files("#logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png(32, 32)}])
    expect(admin.locator("[data-look=logo]")).to_be_visible()
    admin.fill("#color", "#7c2d12")
    expect(admin.locator("[data-look=contrast]")).to_have_text("Text contrast 9.37:1 — meets WCAG 2.1 AA.")
    admin.click("#look-form button[type=submit]")
    expect(admin.locator(".alert")).to_contain_text("Widget look saved")

    # Same page, same snippet: a reload is all it takes.
    visitor.reload()
    expect(launcher).to_have_text("Help")
    style = _widget_style(visitor, "[data-sb=launcher]")
    assert (style["background"], style["color"], style["left"]) == ("rgb(124, 45, 18)", "rgb(255, 255, 255)", 20)
    launcher.click()
    expect(visitor.locator("[data-sb=panel]")).to_contain_text("Hello from the preview")
    logo = visitor.locator("[data-sb=logo]")
    expect(logo).to_be_visible()
    assert logo.evaluate("(img) => img.complete && img.naturalWidth") == 32
    assert _widget_style(visitor, "[data-sb=panel]")["left"] == 20

    # Asked to hide outside business hours, and closed all week: no launcher for a new visitor.
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        look = widget_look.look(session)
        assert look.color == "#7c2d12"
        widget_look.update(session, color=look.color, position=look.position, launcher_text=look.launcher_text,
                           greeting=look.greeting, hide_outside_hours=True)
        session.add(BusinessHours(time_zone="UTC", schedule={}, holidays=[]))
        session.commit()
    visitor.context.clear_cookies()
    visitor.evaluate("() => localStorage.clear()")
    visitor.reload()
    expect(visitor.locator("[data-sb=leave-form]")).to_be_attached()  # the session (look included) arrived
    visitor.wait_for_timeout(500)  # and the connect, which shows the launcher when it may be shown
    expect(launcher).to_be_hidden()
    visitor.goto(f"{server.url}/chat/{tenant.widget_key}")  # the shared link still offers to leave a message
    expect(visitor.locator("[data-sb=leave-form]")).to_be_visible()
