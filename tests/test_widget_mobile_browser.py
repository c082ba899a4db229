"""The widget on a phone (375×812, touch, a mobile browser): full screen, the composer in view, a
message sent by tapping; on the tenant's site and on the standalone chat page. Both conversations
carry the mobile_web channel."""
import pytest
from sqlalchemy import select

from saas.models import Conversation
from tenants import tenant_context, tenant_session

# The channel is decided by the same code on both backends (tests/test_sources.py); one is enough here.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

PHONE = {"width": 375, "height": 812}
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=3,
                                  user_agent=IPHONE_SAFARI)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _box(locator) -> dict:
    return locator.evaluate("(node) => { const b = node.getBoundingClientRect();"
                            " return {x: b.x, y: b.y, width: b.width, height: b.height}; }")


def _covers_the_screen_and_sends_by_tap(page, text: str) -> None:
    from playwright.sync_api import expect

    panel = page.locator("[data-sb=panel]")
    expect(panel).to_be_visible()
    assert _box(panel) == {"x": 0, "y": 0, **PHONE}
    composer, send = page.locator("[data-sb=input]"), page.locator("[data-sb=send]")
    composer.tap()
    for control in (composer, send):  # entirely inside the screen, not under its bottom edge
        box = _box(control)
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] and box["height"] >= 36, box
    assert composer.evaluate("(node) => getComputedStyle(node).fontSize") == "16px"  # iOS does not zoom
    page.keyboard.type(text)
    send.tap()
    expect(page.locator("[data-sb=message][data-seq] .body")).to_have_text(text)


def _channels(app, tenant) -> list[str]:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalars(select(Conversation.channel)).all()


def test_on_a_phone_the_widget_and_the_chat_page_fill_the_screen_and_send_by_tap(server, app, make_tenant, phone):
    from playwright.sync_api import expect

    tenant = make_tenant()
    phone.goto(f"{server.url}/demo/{tenant.slug}")
    launcher = phone.locator("[data-sb=launcher]")
    expect(launcher).to_be_visible()
    launcher.tap()
    _covers_the_screen_and_sends_by_tap(phone, "Sent from the shop on my phone")
    phone.locator("[data-sb=panel] .close").tap()
    expect(phone.locator("[data-sb=panel]")).to_be_hidden()
    assert _channels(app, tenant) == ["mobile_web"]

    # The shareable link: the chat is the page, open at once, with no launcher and nothing to close.
    phone.context.clear_cookies()
    phone.evaluate("() => localStorage.clear()")  # another visitor
    phone.goto(f"{server.url}/chat/{tenant.widget_key}")
    expect(phone.locator("[data-sb=input]")).to_be_visible()
    expect(launcher).to_be_hidden()
    expect(phone.locator("[data-sb=panel] .close")).to_be_hidden()
    _covers_the_screen_and_sends_by_tap(phone, "Sent from the chat link")
    phone.keyboard.press("Escape")
    expect(phone.locator("[data-sb=panel]")).to_be_visible()
    assert _channels(app, tenant) == ["mobile_web", "mobile_web"]
