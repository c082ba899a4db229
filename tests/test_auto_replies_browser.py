"""The widget's leave-a-message form in a real browser (Playwright driving Debian's chromium)."""
import pytest

from tests.auto_reply_helpers import configure, timer_driver, wait_for  # noqa: F401 (timer_driver: a fixture)
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser


def test_with_nobody_online_the_widget_takes_a_message_for_later(server, app, make_tenant, page_for, clients):
    tenant = make_tenant()
    configure(app, tenant, "no_agent", "Nobody is online right now: leave us a message.")
    page = page_for()
    page.goto(f"{server.url}/demo/{tenant.slug}")
    page.click("[data-sb=launcher]")
    form = page.locator("[data-sb=leave-form]")
    form.wait_for(state="visible")
    assert page.locator("[data-sb=leave-note]").inner_text() == "Nobody is online right now: leave us a message."
    assert page.locator("[data-sb=input]").is_hidden()  # no chat composer while nobody can answer

    page.fill("[data-sb=leave-name]", "Ann")
    page.fill("[data-sb=leave-email]", "ann@")
    page.fill("[data-sb=leave-body]", "Where is my parcel?")
    page.click("[data-sb=leave-send]")
    error = page.locator("[data-sb=leave-form] .error")
    error.wait_for(state="visible")
    assert "valid email" in error.inner_text()

    page.fill("[data-sb=leave-email]", "ann@example.com")
    page.click("[data-sb=leave-send]")
    form.wait_for(state="hidden")
    page.locator("[data-sb=messages]", has_text="Where is my parcel?").wait_for()
    page.locator("[data-sb=messages]", has_text="Nobody is online right now").wait_for()

    agent = clients.agent(server, tenant)  # comes online later and finds it
    (conversation,) = agent.conversations()
    assert conversation["visitor"]["email"] == "ann@example.com"
    assert conversation["last_message"]["body"] == "Where is my parcel?"


@pytest.mark.usefixtures("timer_driver")
def test_the_console_alerts_the_agent_who_has_not_replied(server, app, make_tenant, page_for, clients):
    tenant = make_tenant()
    configure(app, tenant, "agent_silent", "Thanks for waiting.", seconds=2)
    page = page_for()
    browser_log_in(page, server, tenant, tenant.agents[0])
    wait_for(lambda: clients.agent(server, tenant).conversations() == [], what="the console online")
    visitor = clients.visitor(server, tenant)
    assert visitor.send("Hello?")["ok"]
    page.locator("#notice", has_text="is still waiting for your reply").wait_for(timeout=20_000)
    assert page.locator("#notice").inner_text() == f"{visitor.nickname} is still waiting for your reply."
