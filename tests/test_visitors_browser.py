"""Visitor tracking in real browsers: the widget reports pages (loads and pushState) with their
source, the agent's panel follows live; an agent's invitation and an automatic rule in the widget."""
import json

import pytest
from sqlalchemy import select

from saas.models import Conversation, Invitation, InvitationRule
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

SEARCH = "https://www.google.com/search?q=waterproof+hiking+boots"
UTM = "utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale"


def _details(agent, nickname: str | None = None):
    """Open the panel of the (only) visitor on the site from the live list."""
    from playwright.sync_api import expect

    row = agent.locator("#live-list li")
    expect(row).to_have_count(1)
    if nickname:
        expect(row.locator(".name")).to_have_text(nickname)
    row.locator("button[data-show]").click()
    expect(agent.locator("#visitor-panel")).to_be_visible()


def test_source_trail_of_three_pages_and_the_panel_following_live(server, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    agent = page_for()
    browser_log_in(agent, server, tenant, tenant.agents[0])
    expect(agent.locator("#live-empty")).to_be_visible()

    visitor = page_for()
    visitor.goto(f"{server.url}/demo/{tenant.slug}?{UTM}", referer=SEARCH)
    _details(agent)
    facts = agent.locator("#visitor-facts")
    expect(facts.locator("[data-fact=source]")).to_have_text(
        "campaign · google: “waterproof hiking boots” · campaign spring-sale")
    expect(facts.locator("[data-fact=terms]")).to_have_text("waterproof hiking boots")
    expect(facts.locator("[data-fact=landing]")).to_have_text(f"/demo/{tenant.slug}")
    expect(facts.locator("[data-fact=channel]")).to_have_text("web")
    trail = agent.locator("#visitor-trail li")
    expect(trail).to_have_count(1)

    # A full page load, then a single-page-app route change with a title that looks like markup.
    visitor.click("header nav a:text('Boots')")
    visitor.wait_for_url(f"{server.url}/demo/{tenant.slug}/boots")
    expect(trail).to_have_count(2)
    visitor.evaluate("""() => {
        history.pushState({}, '', location.pathname.replace('/boots', '/packs'));
        document.title = '<b>Packs</b> <img src=x onerror="document.title=1">';
    }""")
    expect(trail).to_have_count(3)  # arrived live: the agent did nothing
    expect(trail.locator(".title")).to_have_text(
        ["Company " + tenant.slug + " — Outdoor Gear", "Boots — Company " + tenant.slug + " — Outdoor Gear",
         '<b>Packs</b> <img src=x onerror="document.title=1">'])
    expect(trail.locator(".url").nth(2)).to_have_text(f"{server.url}/demo/{tenant.slug}/packs")
    assert agent.locator("#visitor-panel b, #visitor-panel img, #live-list img").count() == 0
    expect(facts.locator("[data-fact=current]")).to_contain_text("<b>Packs</b>")
    expect(agent.locator("#live-list .current-page")).to_contain_text("<b>Packs</b>")
    expect(agent.locator("#live-list .state")).to_have_text("browsing")


def test_an_invited_visitor_accepts_and_a_rule_fires_once_in_its_period(server, app, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    agent = page_for()
    browser_log_in(agent, server, tenant, tenant.agents[0])
    visitor = page_for()
    visitor.goto(f"{server.url}/demo/{tenant.slug}")
    _details(agent)

    invite = agent.locator("#visitor-invite")
    expect(invite).to_be_visible()
    agent.fill("#visitor-invite-message", "Hello! Looking for a tent?")
    invite.locator("button[type=submit]").click()
    popup = visitor.locator("[data-sb=invitation]")
    expect(popup).to_be_visible()
    expect(popup.locator("[data-sb=invitation-message]")).to_have_text("Hello! Looking for a tent?")
    expect(popup).to_contain_text(tenant.agents[0].name)
    popup.locator("[data-sb=invitation-accept]").click()

    expect(popup).to_be_hidden()
    expect(visitor.locator("[data-sb=panel]")).to_be_visible()
    expect(visitor.locator("[data-sb=status]")).to_have_text(f"You are chatting with {tenant.agents[0].name}")
    expect(agent.locator("#visitor-invite-status")).to_have_text("Invitation accepted.")
    expect(agent.locator("#mine-list [data-conversation-id]")).to_have_count(1)
    expect(agent.locator("#live-list .state")).to_have_text("chatting")
    with app.app_context(), tenant_context(tenant.ref):
        (assigned,) = tenant_session().scalars(select(Conversation.assigned_agent_id)).all()
    assert assigned == tenant.agents[0].id

    # An automatic rule, in another visitor's browser: once, and not again within the period.
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.add(InvitationRule(name="Boots", url_pattern="/boots", message="Boots fit small: ask us!"))
        session.commit()
    other = page_for()
    other.goto(f"{server.url}/demo/{tenant.slug}")
    other.click("header nav a:text('Boots')")
    other_popup = other.locator("[data-sb=invitation]")
    expect(other_popup.locator("[data-sb=invitation-message]")).to_have_text("Boots fit small: ask us!")
    expect(other_popup).to_contain_text("A message for you:")
    other_popup.locator("[data-sb=invitation-decline]").click()
    expect(other_popup).to_be_hidden()
    other.reload()
    other.evaluate("() => history.pushState({}, '', location.pathname + '?again=1')")
    other.wait_for_timeout(1500)  # time for a page view and its rule check to come back, if any
    expect(other_popup).to_be_hidden()
    with app.app_context(), tenant_context(tenant.ref):
        statuses = tenant_session().scalars(select(Invitation.status).where(Invitation.rule_id.is_not(None))).all()
    assert statuses == ["declined"]


def test_a_signed_in_user_on_a_second_device_merges_into_one_contact(server, app, make_tenant, page_for):
    from playwright.sync_api import expect

    from saas.services import identity

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        secret = identity.settings(tenant_session()).identity_secret
    settings = {"user_id": "u-1", "user_hash": identity.user_hash(secret, "u-1"), "name": "Ada Lovelace",
                "email": "ada@example.com"}
    signed_in = f"window.switchboardSettings = {json.dumps(settings)};"

    laptop = page_for()
    laptop.add_init_script(signed_in)
    laptop.goto(f"{server.url}/demo/{tenant.slug}")
    expect(laptop.locator("[data-sb=launcher]")).to_be_visible()

    phone = page_for()
    phone.goto(f"{server.url}/demo/{tenant.slug}")
    phone.click("[data-sb=launcher]")
    phone.fill("[data-sb=input]", "Asked before signing in")
    phone.press("[data-sb=input]", "Enter")
    expect(phone.locator("[data-sb=message]")).to_have_count(1)
    phone.add_init_script(signed_in)
    phone.reload()
    phone.click("[data-sb=launcher]")
    expect(phone.locator("[data-sb=message]")).to_have_count(1)  # the conversation came along

    agent = page_for()
    browser_log_in(agent, server, tenant, tenant.agents[0])
    agent.locator("#conversation-list [data-conversation-id]").click()
    expect(agent.locator("#visitor-heading")).to_have_text("Ada Lovelace")
    expect(agent.locator("#visitor-facts [data-fact=identity]")).to_have_text("Signed in on your site")
    expect(agent.locator("#visitor-facts [data-fact=visits]")).to_have_text("2")  # one per device
    expect(agent.locator("#live-list li")).to_have_count(1)  # one person, two devices

    # A forged hash: nothing merges, and the widget still works as an anonymous visitor.
    forger = page_for()
    forger.add_init_script(f"window.switchboardSettings = {json.dumps({**settings, 'user_hash': '0' * 64})};")
    forger.goto(f"{server.url}/demo/{tenant.slug}")
    forger.click("[data-sb=launcher]")
    expect(forger.locator("[data-sb=message]")).to_have_count(0)
    expect(agent.locator("#live-list li")).to_have_count(2)
