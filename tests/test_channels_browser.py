"""In the console: an SMS conversation carries its channel tag, an agent's reply shows its
delivery status live until delivered, and a call logged in the visitor panel appears there."""
import requests

from saas.services import sms
from tests.channel_helpers import configure_channels, fast_server, receiver_for  # noqa: F401 (fixtures)
from tests.conftest import browser_log_in

AUTH_TOKEN = "browser-test-auth-token"


def test_an_sms_reply_shows_its_delivery_status_and_a_logged_call_shows_in_the_panel(
        app, make_tenant, fast_server, receiver_for, page_for):
    from playwright.sync_api import expect

    provider = receiver_for([503, 200])
    tenant = make_tenant()
    configure_channels(app, tenant, sms_auth_token=AUTH_TOKEN, sms_number="+15005550006",
                       sms_outbound_url=provider.url)
    agent = page_for()
    browser_log_in(agent, fast_server, tenant, tenant.agents[0])

    url = f"{fast_server.url}/t/{tenant.slug}/channels/sms/inbound"
    fields = {"From": "+14155550111", "To": "+15005550006", "Body": "Do you open on Sunday?",
              "MessageSid": "SM" + "ab" * 16}
    signed = {sms.SIGNATURE_HEADER: sms.twilio_signature(AUTH_TOKEN, url, sorted(fields.items()))}
    assert requests.post(url, data=fields, headers=signed, timeout=10).status_code == 200

    item = agent.locator("#conversation-list [data-conversation-id]")
    expect(item.locator(".channel-tag")).to_have_text("SMS")
    item.click()
    agent.fill("#composer", "Yes, from 10 to 4.")
    agent.click("#send")
    reply = agent.locator("#messages .message.from-agent")
    expect(reply.locator(".delivery")).to_have_text("SMS: Delivered", timeout=15_000)
    assert [r.answered for r in provider.received] == [503, 200]

    expect(agent.locator("#visitor-heading")).to_have_text("+14155550111")
    agent.select_option("#call-direction", "inbound")
    agent.fill("#call-minutes", "2")
    agent.fill("#call-note", "Asked about <b>Sunday</b> hours")
    agent.click("#call-log button[type=submit]")
    logged = agent.locator("#visitor-calls li")
    expect(logged).to_have_count(1)
    expect(logged).to_contain_text("Inbound call · logged by Agent 0 · 2 min 0 s")
    expect(logged.locator(".note")).to_have_text("Asked about <b>Sunday</b> hours")  # text, not markup
