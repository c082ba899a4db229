"""Issue 5 in real browsers: the visitor's draft previewed to the agent, a canned-reply shortcut
expanding with the visitor's name, read receipts, and a rating with tags reaching the console."""
import pytest

from saas.models import CannedReply
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in
from tests.routing_helpers import configure

pytestmark = pytest.mark.browser


def _add_tenant_wide_reply(app, tenant, shortcut: str, body: str) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.add(CannedReply(shortcut=shortcut, title="Refund", body=body))
        session.commit()


def _chat_open_on_both_sides(server, tenant, page_for, text: str, name: str | None = None):
    """The agent's console and the visitor's widget, the visitor having said ``text`` (after
    giving ``name`` on the start form), and the agent having opened the conversation."""
    agent = page_for()
    browser_log_in(agent, server, tenant, tenant.agents[0])
    visitor = page_for()
    visitor.goto(f"{server.url}/demo/{tenant.slug}")
    visitor.click("[data-sb=launcher]")
    if name is not None:
        visitor.fill("[data-sb=prechat-name]", name)
        visitor.click("[data-sb=start]")
    visitor.fill("[data-sb=input]", text)
    visitor.press("[data-sb=input]", "Enter")
    agent.locator("#conversation-list [data-conversation-id]").click()
    return agent, visitor


def test_canned_shortcut_expands_receipts_show_and_a_rating_with_tags_reaches_the_agent(
        server, app, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    configure(app, tenant, prechat_fields=[{"field": "name", "required": True}])
    _add_tenant_wide_reply(app, tenant, "refund", "Hi {{visitor_name}}, your refund is on its way.")
    agent, visitor = _chat_open_on_both_sides(server, tenant, page_for, "Hello, I was charged twice", name="Grace")
    expect(agent.locator("#messages")).to_contain_text("Hello, I was charged twice")
    # The visitor's read receipt: the agent had the conversation open when the message came.
    expect(visitor.locator("[data-sb=read]")).to_have_count(1)

    # The draft shows in the console before it is sent.
    visitor.locator("[data-sb=input]").press_sequentially("Can I get my money back")
    expect(agent.locator("#visitor-draft")).to_have_text("Can I get my money back")
    visitor.fill("[data-sb=input]", "")
    visitor.locator("[data-sb=input]").dispatch_event("input")
    expect(agent.locator("#visitor-typing")).to_be_hidden()

    # The agent typing shows in the widget, without the text.
    agent.locator("#composer").press_sequentially("Let me check")
    expect(visitor.locator("[data-sb=typing]")).to_have_text("Agent 0 is typing…")
    agent.fill("#composer", "")
    agent.locator("#composer").dispatch_event("input")
    expect(visitor.locator("[data-sb=typing]")).to_have_text("")

    agent.locator("#composer").press_sequentially("/refund")
    agent.press("#composer", " ")
    expect(agent.locator("#composer")).to_have_value("Hi Grace, your refund is on its way. ")
    agent.press("#composer", "Enter")
    expect(visitor.locator("[data-sb=messages]")).to_contain_text("Hi Grace, your refund is on its way.")
    # The widget is open and visible: the agent sees the reply was seen.
    expect(agent.locator("#messages .receipt")).to_have_text("Seen")

    agent.click("#close-conversation")
    rating = visitor.locator("[data-sb=rating]")
    expect(rating).to_be_visible()
    expect(agent.locator("#invite-rating")).to_be_hidden()  # closed: the widget asks by itself
    visitor.click("[data-sb=rating-score-4]")
    visitor.locator("[data-sb=rating-tag]", has_text="Quick response").click()
    visitor.locator("[data-sb=rating-tag]", has_text="Helpful").click()
    visitor.fill("[data-sb=rating-comment]", "Sorted in a minute")
    visitor.click("[data-sb=rating-submit]")
    expect(visitor.locator("[data-sb=rating-note]")).to_have_text("Thanks for your rating!")

    shown = agent.locator("#conversation-rating")
    expect(shown).to_contain_text("4 stars")
    expect(shown).to_contain_text("Quick response, Helpful")
    expect(shown).to_contain_text("Sorted in a minute")

    # The visitor's rating is kept across a reload.
    visitor.reload()
    visitor.click("[data-sb=launcher]")
    expect(visitor.locator("[data-sb=rating-score-4]")).to_have_attribute("aria-pressed", "true")
    expect(visitor.locator("[data-sb=rating-note]")).to_contain_text("Thanks for your rating")


def test_invitation_to_rate_and_personal_canned_replies_managed_and_picked_in_the_console(
        server, app, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    _add_tenant_wide_reply(app, tenant, "thanks", "Thanks from all of us.")
    agent, visitor = _chat_open_on_both_sides(server, tenant, page_for, "Hi")
    # Invited while the conversation is open, the visitor gets the rating form at once.
    expect(visitor.locator("[data-sb=rating]")).to_be_hidden()
    agent.click("#invite-rating")
    expect(visitor.locator("[data-sb=rating]")).to_be_visible()

    agent.click("#canned-manage-open")
    expect(agent.locator("#canned-workspace")).to_contain_text("/thanks")
    agent.fill("#canned-shortcut", "thanks")
    agent.fill("#canned-title", "My thanks")
    agent.fill("#canned-body", "Thank you, {{visitor_name}}! {{agent_name}}")
    agent.click("#canned-form button[type=submit]")
    expect(agent.locator("#canned-mine")).to_contain_text("My thanks")
    expect(agent.locator("#canned-workspace")).not_to_contain_text("/thanks")  # mine replaces it
    agent.fill("#canned-shortcut", "Not valid!")
    agent.fill("#canned-title", "x")
    agent.fill("#canned-body", "x")
    agent.locator("#canned-shortcut").evaluate("input => input.removeAttribute('pattern')")
    agent.click("#canned-form button[type=submit]")
    expect(agent.locator("#canned-error")).to_contain_text("A shortcut is 1-32")
    agent.click("#canned-close")

    agent.locator("#composer").press_sequentially("/my")  # found by its title too
    suggestions = agent.locator("#canned-suggestions li")
    expect(suggestions).to_have_count(1)
    expect(suggestions).to_contain_text("/thanks")
    agent.press("#composer", "Tab")
    nickname = agent.locator("#pane-heading").text_content()  # the visitor gave no name
    expect(agent.locator("#composer")).to_have_value(f"Thank you, {nickname}! Agent 0")
