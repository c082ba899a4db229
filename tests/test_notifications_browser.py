"""Issue 12, agent notifications: one agent with two console tabs in one browser (the same profile:
shared localStorage, Web Locks and permission) is notified once per event, only of the kinds they
keep on, sees the unseen count in both titles, and a tab they look at clears it in both. The queue
alert's server side (the longest wait, counted by the server) is checked over Socket.IO."""
import time
from datetime import timedelta

import pytest

from saas.models import Conversation
from saas.models.base import utcnow
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in
from tests.engagement_helpers import Heard

QUEUE_ALERT_SECONDS = 120  # the default
TITLE = "Console — Switchboard"
PUSHED_MS = 15_000  # a push's effect on a page, on a machine other test runs keep busy

# Every Notification constructed and every beep started in a tab, recorded for the test to count.
RECORDER = """
window.raisedNotifications = [];
window.beeps = 0;
if (window.Notification) {
  const Original = window.Notification;
  window.Notification = class extends Original {
    constructor(title, options) { super(title, options); window.raisedNotifications.push(title); }
  };
}
const startOscillator = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function () { window.beeps += 1; return startOscillator.apply(this, arguments); };
"""


@pytest.fixture
def console_tabs(browser):
    """``open(server, tenant, person, count)``: that many console tabs of one agent in one browser
    profile that may notify, none of them in front of the agent yet."""
    contexts = []

    def open_tabs(server, tenant, person, count=2):
        from playwright.sync_api import expect

        context = browser.new_context()
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.grant_permissions(["notifications"], origin=server.url)
        context.add_init_script(RECORDER)
        tabs = [context.new_page() for _ in range(count)]
        browser_log_in(tabs[0], server, tenant, person)
        for tab in tabs[1:]:
            tab.goto(f"{server.url}/t/{tenant.slug}/console/")
        for tab in tabs:
            expect(tab.locator("#connection")).to_have_text("Live", timeout=PUSHED_MS)
            # Headless pages all claim the focus; an agent away from the screen blurs them all.
            tab.evaluate("window.dispatchEvent(new Event('blur'))")
        return tabs

    yield open_tabs
    for context in contexts:
        context.close()


def raised(tabs) -> list[str]:
    return [title for tab in tabs for title in tab.evaluate("window.raisedNotifications")]


def beeps(tabs) -> int:
    return sum(tab.evaluate("window.beeps") for tab in tabs)


def wait_until(condition) -> None:
    deadline = time.monotonic() + PUSHED_MS / 1000
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def expect_raised(tabs, count: int, settle: float = 1.0) -> list[str]:
    """Waits until ``count`` notifications were raised in all tabs together, then checks that no
    other tab adds one a moment later."""
    wait_until(lambda: len(raised(tabs)) >= count)
    time.sleep(settle)
    titles = raised(tabs)
    assert len(titles) == count, titles
    return titles


def wait_in_line_since(app, tenant, conversation_id: int, minutes: int) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(Conversation, conversation_id).waiting_since = utcnow() - timedelta(minutes=minutes)
        session.commit()


def set_kind(tab, kind: str, on: bool) -> None:
    settings = tab.locator("#notification-settings")
    if settings.get_attribute("open") is None:
        settings.locator("summary").click()
    box = settings.locator(f"input[name={kind}]")
    box.check() if on else box.uncheck()


@pytest.mark.browser
def test_each_event_notifies_once_across_tabs_and_looking_at_one_tab_clears_both(
        server, make_tenant, console_tabs, clients):
    from playwright.sync_api import expect

    tenant = make_tenant(agents=2)
    me, colleague = tenant.agents
    tabs = console_tabs(server, tenant, me)
    first, second = tabs

    # A new conversation, given to me (the only agent online): one notification, two titles.
    visitor = clients.visitor(server, tenant)
    assert visitor.send("Hello, anyone there?")["ok"]
    assert expect_raised(tabs, 1) == [f"New conversation with {visitor.nickname}"]
    for tab in tabs:
        expect(tab).to_have_title(f"(1) {TITLE}", timeout=PUSHED_MS)

    # A message in it.
    assert visitor.send("My order is late")["ok"]
    assert expect_raised(tabs, 2)[1] == f"{visitor.nickname}: My order is late"
    for tab in tabs:
        expect(tab).to_have_title(f"(2) {TITLE}", timeout=PUSHED_MS)

    # Messages turned off (in one tab, for both): the next one raises nothing; a transfer still does.
    set_kind(first, "message", False)
    expect(second.locator("#notification-settings input[name=message]")).not_to_be_checked(timeout=PUSHED_MS)
    assert visitor.send("Hello??")["ok"]
    helper = clients.agent(server, tenant, colleague)
    other_visitor = clients.visitor(server, tenant)
    conversation_id = other_visitor.send("I need help with a refund")["message"]["conversation_id"]
    transferred = helper.call("conversation:transfer", {"conversation_id": conversation_id, "to_agent_id": me.id,
                                                        "to_department_id": None, "note": "Refunds are yours"})
    assert transferred["ok"], transferred
    assert expect_raised(tabs, 3)[2] == f"{other_visitor.nickname} was transferred to you"
    assert beeps(tabs) == 3
    for tab in tabs:
        expect(tab).to_have_title(f"(3) {TITLE}", timeout=PUSHED_MS)

    # The agent looks at the second tab: both titles clear.
    second.evaluate("window.dispatchEvent(new Event('focus'))")
    for tab in tabs:
        expect(tab).to_have_title(TITLE, timeout=PUSHED_MS)

    # While a tab is in front of the agent, news beeps but raises no notification and no count.
    assert clients.visitor(server, tenant).send("Hi again")["ok"]  # the colleague has a free slot: theirs
    helper.call("presence:set", {"state": "away"})
    newcomer = clients.visitor(server, tenant)
    assert newcomer.send("Anyone?")["ok"]  # mine
    wait_until(lambda: beeps(tabs) >= 4)
    time.sleep(1)
    assert beeps(tabs) == 4
    assert len(raised(tabs)) == 3
    for tab in tabs:
        expect(tab).to_have_title(TITLE, timeout=PUSHED_MS)


@pytest.mark.browser
def test_a_queue_waiting_too_long_notifies_once_and_kinds_turned_off_raise_nothing(
        server, app, make_tenant, console_tabs, clients):
    from playwright.sync_api import expect

    tenant = make_tenant()
    tabs = console_tabs(server, tenant, tenant.agents[0])
    set_kind(tabs[0], "new_conversation", False)
    tabs[0].select_option("#presence", "away")  # nobody to assign to: the visitor waits
    expect(tabs[1].locator("#presence")).to_have_value("away", timeout=PUSHED_MS)

    # "Waiting" (a new conversation) is off: nothing yet.
    visitor = clients.visitor(server, tenant)
    first = visitor.send("Is anybody there?")["message"]["conversation_id"]
    expect(tabs[1].locator("#waiting-list li")).to_have_count(1, timeout=PUSHED_MS)
    # The first in line has waited past the threshold when the next one joins: one alert, for them.
    wait_in_line_since(app, tenant, first, minutes=5)
    assert clients.visitor(server, tenant).send("Hello?")["ok"]
    titles = expect_raised(tabs, 1, settle=2)
    assert titles == [f"{visitor.nickname} has been waiting too long in the queue"]
    for tab in tabs:
        expect(tab).to_have_title(f"(1) {TITLE}", timeout=PUSHED_MS)


def test_queue_updates_carry_the_longest_wait_counted_by_the_server(server, app, make_tenant, clients):
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    assert agent.call("presence:set", {"state": "away"})["ok"]
    queue = Heard(agent, "queue:updated")

    first = clients.visitor(server, tenant).send("First in line")["message"]["conversation_id"]
    update = queue.next_where(lambda push: push["conversation_ids"] == [first])
    assert 0 <= update["longest_wait_seconds"] <= 5 and update["alert_after_seconds"] == QUEUE_ALERT_SECONDS

    # Five minutes in line (both backends must count in UTC), then someone else joins.
    wait_in_line_since(app, tenant, first, minutes=5)
    second = clients.visitor(server, tenant).send("Second")["message"]["conversation_id"]
    update = queue.next_where(lambda push: push["conversation_ids"] == [first, second])
    assert 300 <= update["longest_wait_seconds"] <= 305
