"""The widget with the keyboard alone and under axe-core: open, send, new line, close; no serious or
critical violations, closed or open, on a tenant's site and on the standalone chat page."""
import pytest

from tests.accessibility import axe_violations, describe

# What a browser shows does not depend on where rows are stored: one backend is enough.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

WIDGET = {"include": [["#switchboard-widget"]]}  # the demo site around it is the tenant's, not ours


def _focused(page) -> dict:
    """The element focused inside the widget's shadow root (None outside it), and its focus ring."""
    return page.evaluate("""() => {
        const host = document.getElementById('switchboard-widget');
        const node = host && document.activeElement === host ? host.shadowRoot.activeElement : null;
        if (!node) return null;
        const style = getComputedStyle(node);
        return {sb: node.dataset.sb || null, outline: style.outlineStyle, width: style.outlineWidth};
    }""")


def test_keyboard_alone_opens_the_widget_sends_a_message_and_closes_it(server, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    page = page_for()
    page.goto(f"{server.url}/demo/{tenant.slug}")
    launcher = page.locator("[data-sb=launcher]")
    expect(launcher).to_be_visible()
    for _ in range(40):  # Tab through the demo shop's links and buttons to the widget, last on the page
        page.keyboard.press("Tab")
        if (_focused(page) or {}).get("sb") == "launcher":
            break
    focus = _focused(page)
    assert focus and focus["sb"] == "launcher", "the launcher is not reachable with Tab"
    assert focus["outline"] == "solid" and focus["width"] == "3px"  # a visible focus ring

    page.keyboard.press("Enter")
    panel = page.locator("[data-sb=panel]")
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    assert _focused(page)["sb"] == "input"  # straight into the composer
    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("second line")
    expect(page.locator("[data-sb=message]")).to_have_count(0)
    page.keyboard.press("Enter")
    message = page.locator("[data-sb=message] .body")
    expect(message).to_have_text("First line\nsecond line")
    expect(page.locator("[data-sb=message][data-seq]")).to_have_count(1)  # stored by the server
    expect(page.locator("[data-sb=input]")).to_have_value("")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert _focused(page)["sb"] == "launcher"  # focus goes back where it came from


def test_axe_finds_no_serious_violations_in_the_widget_closed_open_or_as_a_page(server, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    page = page_for()
    page.goto(f"{server.url}/demo/{tenant.slug}")
    expect(page.locator("[data-sb=launcher]")).to_be_visible()
    assert not (found := axe_violations(page, WIDGET)), describe(found)

    page.click("[data-sb=launcher]")
    page.fill("[data-sb=input]", "Is this readable?")
    page.press("[data-sb=input]", "Enter")
    expect(page.locator("[data-sb=message][data-seq]")).to_have_count(1)
    assert not (found := axe_violations(page, WIDGET)), describe(found)
    # What screen readers need beyond axe's rules: a named dialog, a list that announces new messages.
    assert page.locator("[data-sb=panel]").get_attribute("role") == "dialog"
    assert page.locator("[data-sb=panel]").get_attribute("aria-label")
    messages = page.locator("[data-sb=messages]")
    assert (messages.get_attribute("aria-live"), messages.get_attribute("aria-relevant")) == ("polite", "additions")

    page.goto(f"{server.url}/chat/{tenant.widget_key}")  # our own page: all of it is checked
    expect(page.locator("[data-sb=input]")).to_be_visible()
    assert not (found := axe_violations(page)), describe(found)
