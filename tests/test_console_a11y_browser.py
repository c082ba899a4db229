"""Issue 12, accessibility of the console and the admin: axe-core finds no serious or critical
violation (console with a conversation open, the settings page, Flask-Admin screens), and an agent
with only a keyboard reaches a conversation and replies: Enter sends, Shift+Enter adds a line, the
focus is always visible, and what the visitor writes is announced."""
import pytest

from tests.accessibility import axe_violations, describe
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PUSHED_MS = 15_000  # a push's effect on a page, on a machine other test runs keep busy


@pytest.fixture
def agent_page(browser):
    # axe-core is injected as an inline script, which the app's CSP rightly refuses.
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_console_and_admin_pages_have_no_serious_axe_violations(server, make_tenant, agent_page, clients):
    from playwright.sync_api import expect

    tenant = make_tenant()
    page = agent_page
    browser_log_in(page, server, tenant, tenant.owner)  # the owner is an agent too, and sees the admin
    expect(page.locator("#connection")).to_have_text("Live", timeout=PUSHED_MS)
    assert clients.visitor(server, tenant).send("Hello, my parcel never arrived")["ok"]
    page.locator("#conversation-list .conversation-item").click(timeout=PUSHED_MS)
    expect(page.locator("#messages")).to_contain_text("my parcel never arrived", timeout=PUSHED_MS)
    page.locator("#notification-settings summary").click()
    violations = axe_violations(page)
    assert not violations, describe(violations)

    for path in ("admin/", "admin/manage/reception/", "admin/manage/team/"):
        page.goto(f"{server.url}/t/{tenant.slug}/{path}")
        violations = axe_violations(page)
        assert not violations, f"{path}:\n{describe(violations)}"


def _focused(page) -> dict:
    return page.evaluate("""() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return {id: el.id, className: el.className, outline: style.outlineStyle, width: style.outlineWidth};
    }""")


def test_keyboard_only_agent_opens_a_conversation_and_replies(server, make_tenant, page_for, clients):
    from playwright.sync_api import expect

    tenant = make_tenant()
    page = page_for()
    browser_log_in(page, server, tenant, tenant.agents[0])
    expect(page.locator("#connection")).to_have_text("Live", timeout=PUSHED_MS)
    visitor = clients.visitor(server, tenant)
    assert visitor.send("Do you ship to Norway?")["ok"]
    expect(page.locator("#mine-list .conversation-item")).to_have_count(1, timeout=PUSHED_MS)

    # The first Tab reaches the skip link, which jumps past the top bar.
    page.keyboard.press("Tab")
    assert _focused(page)["className"] == "skip-link"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"

    # Tab on to the conversation: every stop on the way shows where the focus is.
    for _ in range(15):
        page.keyboard.press("Tab")
        focused = _focused(page)
        assert focused["outline"] != "none" and focused["width"] != "0px", focused
        if focused["className"] == "conversation-item":
            break
    else:
        pytest.fail("the conversation is not reachable with Tab")
    page.keyboard.press("Enter")
    composer = page.locator("#composer")
    expect(composer).to_be_focused()

    page.keyboard.type("Yes, we do.")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Delivery takes 3 days.")
    expect(composer).to_have_value("Yes, we do.\nDelivery takes 3 days.")
    page.keyboard.press("Enter")
    expect(composer).to_have_value("")
    reply = visitor.next_event(timeout=PUSHED_MS / 1000)
    while reply["sender"]["type"] != "agent":  # the visitor hears their own messages too
        reply = visitor.next_event(timeout=PUSHED_MS / 1000)
    assert reply["body"] == "Yes, we do.\nDelivery takes 3 days."
    expect(page.locator("#messages .message.from-agent")).to_contain_text("Delivery takes 3 days.")

    # What the visitor says next is announced to a screen reader, once, as it arrives.
    assert visitor.send("Great, thanks!")["ok"]
    expect(page.locator("#console-announcer")).to_have_text(f"{visitor.nickname}: Great, thanks!",
                                                            timeout=PUSHED_MS)
