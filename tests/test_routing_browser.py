"""Routing in real browsers: the widget's start form and live queue status, the console's sections,
presence, take/close/transfer. Playwright driving Debian's chromium against the live server."""
import pytest

from tests.conftest import browser_log_in as _log_in
from tests.routing_helpers import add_department, configure

pytestmark = pytest.mark.browser


def _configure(app, tenant, **settings_values) -> dict:
    """Reception settings plus two departments (one hidden) that the tenant's agent serves."""
    configure(app, tenant, **settings_values)
    return {
        "support": add_department(app, tenant, "Support team", [tenant.agents[0]], public_name="Support",
                                  description="Orders, delivery and returns"),
        "hidden": add_department(app, tenant, "Escalations", [tenant.agents[0]], is_hidden=True),
    }


FORM_SETTINGS = {
    "department_picker": True,
    "prechat_fields": [{"field": "name", "required": True}, {"field": "email", "required": False}],
    "default_max_concurrent": 1,
}


def _open_widget(page, server, tenant):
    page.goto(f"{server.url}/demo/{tenant.slug}")
    page.click("[data-sb=launcher]")


def _start(page, name, email, department="Support"):
    page.fill("[data-sb=prechat-name]", name)
    page.fill("[data-sb=prechat-email]", email)
    page.select_option("[data-sb=department]", label=department)
    page.click("[data-sb=start]")


def test_start_form_queue_places_live_and_console_sections(server, app, make_tenant, page_for):
    tenant = make_tenant(agents=1)
    departments = _configure(app, tenant, **FORM_SETTINGS)
    _form_queue_and_console(server, tenant, departments, page_for)


def _form_queue_and_console(server, tenant, departments, page_for):
    from playwright.sync_api import expect

    # (1) The start form: only the visible department, the asked fields, server-side validation.
    ada = page_for()
    _open_widget(ada, server, tenant)
    form = ada.locator("[data-sb=start-form]")
    expect(form).to_be_visible()
    expect(ada.locator("[data-sb=input]")).to_be_hidden()
    expect(ada.locator("[data-sb=department] option")).to_have_text(["Any department", "Support"])
    assert ada.locator(f"[data-sb=department] option[value='{departments['hidden']}']").count() == 0
    expect(ada.locator("[data-sb=prechat-name]")).to_have_attribute("required", "")
    assert ada.locator("[data-sb=prechat-phone]").count() == 0
    assert ada.locator("[data-sb=prechat-email]").get_attribute("required") is None

    ada.click("[data-sb=start]")  # no name: the server refuses, the form stays
    alert = form.locator("[role=alert]")
    expect(alert).to_have_text("Please fill in your name.")
    expect(form).to_be_visible()

    _start(ada, "Ada Lovelace", "nope")
    expect(alert).to_have_text("Please enter a valid email address.")
    expect(form).to_be_visible()

    ada.fill("[data-sb=prechat-email]", "ada@example.com")
    ada.click("[data-sb=start]")
    expect(form).to_be_hidden()
    expect(ada.locator("[data-sb=input]")).to_be_visible()

    # (2) Nobody online: places 1 and 2, and the visitors are told they keep their place.
    status = ada.locator("[data-sb=status]")
    expect(status).to_have_text(
        "You are number 1 in the queue · about 1 min · no one is online right now, you keep your place")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(ada.locator("[data-sb=human]")).to_be_hidden()

    grace = page_for()
    _open_widget(grace, server, tenant)
    _start(grace, "Grace Hopper", "grace@example.com")
    grace_status = grace.locator("[data-sb=status]")
    expect(grace_status).to_contain_text("You are number 2 in the queue · about 2 min")

    # The agent opens the console: online by connecting, one free slot (capacity 1).
    agent = page_for()
    _log_in(agent, server, tenant, tenant.agents[0])
    expect(agent.locator("#presence")).to_have_value("online")
    expect(status).to_have_text("You are chatting with Agent 0")
    expect(grace_status).to_have_text("You are number 1 in the queue · about 1 min")

    # (3) The console: Ada is mine, Grace waits first in the Support queue with a Take button.
    mine = agent.locator("#mine-list li")
    waiting = agent.locator("#waiting-list li")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Ada Lovelace")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Grace Hopper")
    expect(waiting).to_contain_text("#1 in the Support team queue")
    expect(waiting.locator("button.pick")).to_be_visible()
    expect(agent.locator("#section-others")).to_be_hidden()

    mine.locator(".conversation-item").click()
    expect(agent.locator("#pane-heading")).to_have_text("Ada Lovelace")
    expect(agent.locator("#pane-contact")).to_have_text("ada@example.com")
    expect(agent.locator("#pane-holder")).to_have_text("With you.")

    # Taking Grace now fails (at capacity): the reason is shown, nothing moves.
    waiting.locator("button.pick").click()
    expect(agent.locator("#notice")).to_have_text("You are at your maximum number of conversations.")
    expect(waiting).to_have_count(1)

    # Closing Ada's conversation frees the slot: Grace is assigned by herself, live on both sides.
    agent.click("#close-conversation")
    expect(status).to_have_text("This conversation has ended")
    expect(grace_status).to_have_text("You are chatting with Agent 0")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Grace Hopper")
    expect(waiting).to_have_count(0)
    expect(agent.locator("#conversation-list")).not_to_contain_text("Ada Lovelace")
    expect(agent.locator("#pane-holder")).to_have_text("This conversation is closed.")
    expect(agent.locator("#composer")).to_be_disabled()
    # Ada's widget offers the form again for a new conversation.
    expect(ada.locator("[data-sb=start-form]")).to_be_visible()

    # The agent talks to Grace, then transfers her to a department with an internal note
    # (an in-page panel, no browser dialog); as the only member online, the agent gets her back.
    mine.locator(".conversation-item").click()
    expect(agent.locator("#pane-heading")).to_have_text("Grace Hopper")
    agent.fill("#composer", "Hello Grace!")
    agent.click("#send")
    expect(grace.locator("[data-sb=messages]")).to_contain_text("Hello Grace!")
    agent.click("#transfer-open")
    panel = agent.locator("#transfer-panel")
    expect(panel).to_be_visible()
    expect(agent.locator("#transfer-target optgroup[label='Online colleagues'] option")).to_have_text(
        ["Nobody else is online"])
    agent.select_option("#transfer-target", f"department:{departments['hidden']}")
    agent.fill("#transfer-note", "VIP customer, <b>be nice</b>")
    agent.click("#transfer-confirm")
    expect(panel).to_be_hidden()
    expect(agent.locator("#notice")).to_have_text("Transferred to Escalations.")
    expect(mine).to_contain_text("Grace Hopper")
    expect(grace_status).to_have_text("You are chatting with Agent 0")

    # Presence: away is pushed back to the select.
    agent.select_option("#presence", "away")
    expect(agent.locator("#presence")).to_have_class("presence presence-away")
    agent.reload()
    expect(agent.locator("#presence")).to_have_value("away")  # a chosen away survives reconnecting


def test_bot_holds_the_visitor_and_hands_over_on_request(server, app, make_tenant, page_for):
    tenant = make_tenant(agents=1)
    _configure(app, tenant, reception_mode="bot_first")  # no picker, no form: the first message starts
    _bot_then_human(server, tenant, page_for)


def _bot_then_human(server, tenant, page_for):
    from playwright.sync_api import expect

    visitor = page_for()
    _open_widget(visitor, server, tenant)
    expect(visitor.locator("[data-sb=start-form]")).to_be_hidden()
    visitor.fill("[data-sb=input]", "Where is my order?")
    visitor.press("[data-sb=input]", "Enter")
    bot = visitor.locator("[data-sb=message].from-agent")
    expect(bot.first).to_contain_text("Assistant")  # shown like an agent, with the sender's name
    status = visitor.locator("[data-sb=status]")
    expect(status).to_have_text("You are chatting with our assistant")

    human = visitor.locator("[data-sb=human]")
    expect(human).to_be_visible()
    human.click()
    # Nobody is online: the bot keeps the visitor company, who now has a place in the queue.
    expect(status).to_have_text("You are chatting with our assistant · You are number 1 in the queue · about 1 min"
                                " · no one is online right now, you keep your place")
    expect(human).to_be_hidden()

    agent = page_for()
    _log_in(agent, server, tenant, tenant.agents[0])
    expect(status).to_have_text("You are chatting with Agent 0")
    mine = agent.locator("#mine-list li")
    expect(mine).to_have_count(1)
    mine.locator(".conversation-item").click()
    expect(agent.locator("#messages")).to_contain_text("Where is my order?")
    expect(agent.locator("#messages .from-bot")).not_to_have_count(0)
