"""The first live chat in a real browser: Playwright driving Debian's chromium."""
import pytest

from tests.conftest import browser_log_in as _log_in

pytestmark = pytest.mark.browser

def _visitor_says(page, server, tenant, text: str) -> None:
    """On the tenant's demo site: open the widget and send ``text``."""
    page.goto(f"{server.url}/demo/{tenant.slug}")
    page.click("[data-sb=launcher]")
    page.fill("[data-sb=input]", text)
    page.press("[data-sb=input]", "Enter")


def test_visitor_and_agent_chat_live_in_two_browsers_and_both_keep_history_after_reload(
        server, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    agent = page_for()
    _log_in(agent, server, tenant, tenant.agents[0])
    expect(agent.locator("#conversation-list [data-conversation-id]")).to_have_count(0)

    visitor = page_for()
    _visitor_says(visitor, server, tenant, "Hello from the browser")
    expect(visitor.locator("[data-sb=message]")).to_have_count(1)

    # The agent sees the new conversation appear without reloading, with an unread badge.
    item = agent.locator("#conversation-list [data-conversation-id]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Hello from the browser")
    expect(item.locator(".unread")).to_have_text("1")
    item.click()
    expect(agent.locator("#messages .message")).to_have_count(1)
    expect(agent.locator("#messages")).to_contain_text("Hello from the browser")

    agent.fill("#composer", "Hi! How can I help?")
    agent.click("#send")
    expect(visitor.locator("[data-sb=messages]")).to_contain_text("Hi! How can I help?")
    expect(visitor.locator("[data-sb=message].from-agent")).to_have_count(1)

    visitor.reload()
    visitor.click("[data-sb=launcher]")
    expect(visitor.locator("[data-sb=message]")).to_have_count(2)
    expect(visitor.locator("[data-sb=message]").nth(0)).to_contain_text("Hello from the browser")
    expect(visitor.locator("[data-sb=message]").nth(1)).to_contain_text("Hi! How can I help?")

    agent.reload()
    agent.locator("#conversation-list [data-conversation-id]").click()
    expect(agent.locator("#messages .message")).to_have_count(2)
    expect(agent.locator("#messages .message").nth(1)).to_contain_text("Hi! How can I help?")


def test_message_text_is_shown_as_text_never_run_as_html(server, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    agent = page_for()
    _log_in(agent, server, tenant, tenant.agents[0])
    visitor = page_for()
    payload = '<img src=x onerror="document.title=\'pwned\'"><script>alert(1)</script>'
    _visitor_says(visitor, server, tenant, payload)

    agent.locator("#conversation-list [data-conversation-id]").click()
    expect(agent.locator("#messages .message")).to_contain_text(payload)
    assert agent.locator("#messages img").count() == 0
    assert visitor.locator("[data-sb=messages] img").count() == 0
    assert "pwned" not in agent.title() and "pwned" not in visitor.title()


def test_a_push_lost_with_a_crashed_server_is_fetched_once_the_next_message_shows_the_gap(
        server, app, make_tenant, page_for):
    """Messages committed but never pushed (their server died between commit and emit) leave a
    hole in the seqs; the next live message reveals it and both clients fetch what is missing."""
    from playwright.sync_api import expect

    from saas.models import User
    from saas.services import conversations
    from tenants import tenant_context, tenant_session
    from tests.clients import new_client_id

    tenant = make_tenant()
    agent = page_for()
    _log_in(agent, server, tenant, tenant.agents[0])
    visitor = page_for()
    _visitor_says(visitor, server, tenant, "hello")
    agent.locator("#conversation-list [data-conversation-id]").click()
    expect(agent.locator("#messages .message")).to_have_count(1)

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        [row] = conversations.inbox(session, session.get(User, tenant.agents[0].id))
        conversation = row.conversation
        conversations.post_visitor_message(session, conversation.visitor, conversation, client_id=new_client_id(),
                                           body="committed, never pushed (visitor)")
        conversations.post_agent_message(session, session.get(User, tenant.agents[0].id), conversation,
                                         client_id=new_client_id(), body="committed, never pushed (agent)")

    agent.fill("#composer", "the next live message")
    agent.click("#send")
    expected = ["hello", "committed, never pushed (visitor)", "committed, never pushed (agent)", "the next live message"]
    for page, selector in ((visitor, "[data-sb=message]"), (agent, "#messages .message")):
        messages = page.locator(selector)
        expect(messages).to_have_count(4)
        for n, text in enumerate(expected):
            expect(messages.nth(n)).to_contain_text(text)
