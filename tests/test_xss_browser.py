"""The XSS suite: hostile text everywhere a visitor or agent can put text — message text, rich text
(Markdown), the pre-chat name, the page title the widget reports, and file names — shown in a real
browser, in the widget on the demo site and in the agent console. No script may run (no dialog,
no canary set, no element injected) and every text must still read as typed."""
import re

import pytest

from saas.models import ReceptionSettings
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in
from tests.test_attachments import upload_as_visitor

pytestmark = pytest.mark.browser

INJECTED = "xss-injected"
PAYLOADS = [
    "<script>alert(1)</script>",
    "<script>window.__xss=1</script>",
    f'<img id="{INJECTED}" src=x onerror="window.__xss=1;alert(1)">',
    f'<svg id="{INJECTED}" onload="window.__xss=1">',
    "<svg><script>window.__xss=1</script></svg>",
    '<body onload="window.__xss=1">',
    f'<iframe id="{INJECTED}" src="javascript:window.__xss=1"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    f'<a id="{INJECTED}" href="javascript:window.__xss=1">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">css url</div>',
    '<style>@import "javascript:alert(1)"; body{display:none}</style>',
    f'<div id="{INJECTED}" style="width:expression(alert(1))">css expression</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src="x" onerror="&#97;lert(1)">',
    '<details open ontoggle="window.__xss=1">',
    '<input autofocus onfocus="window.__xss=1">',
    '<video><source onerror="window.__xss=1"></video>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    f'<form action="javascript:alert(1)"><button id="{INJECTED}">go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<template><img src=x onerror=alert(1)></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<a href="jav&#x09;ascript:alert(1)">tab in scheme</a>',
    "\u202e<img src=x onerror=alert(1)>",
    "{{7*7}} ${alert(1)} <%= alert(1) %>",
    # Rich text: Markdown around hostile markup and hostile link targets.
    "[click me](javascript:window.__xss=1)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "**<img src=x onerror=alert(1)>** and *<svg onload=alert(1)>*",
    "`<script>alert(1)</script>` inline code",
    "```\n<script>window.__xss=1</script>\n```",
    "- <img src=x onerror=alert(1)>\n- [ok](https://example.test/a)",
    "[<img src=x onerror=alert(1)>](https://example.test)",
    '[x](https://example.test/"onmouseover="alert(1))',
    "see https://example.test/<script>alert(1)</script> now",
]
NAMES = [  # the pre-chat name is at most 80 characters
    "<script>alert(1)</script>",
    f'<img id="{INJECTED}" src=x onerror=alert(1)>',
    '"><svg onload=window.__xss=1>',
    "javascript:alert(1)",
    "**Bold** <b onmouseover=alert(1)>",
]
TITLES = [
    "<script>window.__xss=1</script>",
    f'<img id="{INJECTED}" src=x onerror=alert(1)>',
    "</title><svg onload=alert(1)>",
]
FILE_NAMES = [
    "<img src=x onerror=alert(1)>.txt",
    f'"><svg id="{INJECTED}" onload=alert(1)>.txt',
    "javascript:alert(1).txt",
    "**x** [a](javascript:alert(1)).txt",
]
SCRIPT_NEEDED = ("script, iframe, object, embed, svg, math, style, form, input, video, details, meta, template, "
                 "img:not(.thumb)")


def words(text: str) -> str:
    """What makes a text readable: its letters and digits, in order (markup characters aside)."""
    return re.sub(r"[\W_]", "", text)


def readable(payload: str) -> str:
    # A Markdown link to an allowed address shows its label, not the address.
    return words(re.sub(r"\]\(https?://[^)\s]*\)", "]", payload))


def _watch(page) -> list:
    """Every dialog a script opened (the page_for fixture also fails the test on the first one)."""
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    return dialogs


SCAN = """([rootSelector, scriptNeeded, injected]) => {
  const widget = document.querySelector('#switchboard-widget');
  const roots = [document, widget && widget.shadowRoot].filter(Boolean);
  const found = {canary: window.__xss !== undefined, injected: 0,
                 dangerous: [], handlers: [], badLinks: []};
  for (const root of roots) {
    found.injected += root.querySelectorAll('#' + injected).length;
    for (const area of root.querySelectorAll(rootSelector)) {
      area.querySelectorAll(scriptNeeded).forEach(n => found.dangerous.push(n.outerHTML.slice(0, 80)));
      area.querySelectorAll('*').forEach(n => {
        for (const a of n.attributes) if (/^on/i.test(a.name)) found.handlers.push(n.outerHTML.slice(0, 80));
      });
      area.querySelectorAll('a[href]').forEach(a => {
        if (!/^(https?:|mailto:)/.test(a.href)) found.badLinks.push(a.href);
      });
    }
  }
  return found;
}"""


def assert_nothing_ran(page, dialogs, areas: str) -> None:
    found = page.evaluate(SCAN, [areas, SCRIPT_NEEDED, INJECTED])
    assert dialogs == [], dialogs
    assert found == {"canary": False, "injected": 0, "dangerous": [], "handlers": [], "badLinks": []}, found


def test_hostile_text_never_runs_in_the_widget_or_the_console_and_stays_readable(
        app, server, make_tenant, page_for, clients):
    from playwright.sync_api import expect

    assert len(PAYLOADS) >= 30
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(ReceptionSettings, 1).prechat_fields = [{"field": "name", "required": False}]
        session.commit()

    agent_page = page_for()
    agent_dialogs = _watch(agent_page)
    browser_log_in(agent_page, server, tenant, tenant.agents[0])

    # The visitor, with a hostile pre-chat name, on a site whose single-page app sets a hostile title
    # and moves on: the widget reports the title.
    visitor_page = page_for()
    visitor_dialogs = _watch(visitor_page)
    visitor_page.goto(f"{server.url}/demo/{tenant.slug}")
    visitor_page.evaluate("title => { document.title = title; history.pushState({}, '', '?step=2'); }", TITLES[0])
    visitor_page.click("[data-sb=launcher]")
    visitor_page.fill("[data-sb=prechat-name]", NAMES[0])
    visitor_page.click("[data-sb=start]")
    visitor_page.fill("[data-sb=input]", "Hello, I have a question")
    visitor_page.press("[data-sb=input]", "Enter")
    expect(visitor_page.locator("[data-sb=message]")).to_have_count(1)
    token = visitor_page.evaluate(f"localStorage.getItem('switchboard:{tenant.widget_key}:token')")

    # The same visitor (its token) and the agent send every payload as a message.
    visitor = clients.visitor(server, tenant, token)
    conversation_id = visitor.history()["conversation"]["id"]
    agent = clients.agent(server, tenant)
    for payload in PAYLOADS:
        assert visitor.send(payload)["ok"]
        assert agent.send(conversation_id, payload)["ok"]
    stored_names = []
    for name in FILE_NAMES:
        response = upload_as_visitor(server, tenant, visitor, name, b"just text\n")
        assert response.status_code == 200, response.text
        stored_names.append(response.json()["message"]["extras"]["attachment"]["name"])
    # More visitors, each with a hostile name and page title, as their widgets would report them.
    for index, name in enumerate(NAMES[1:]):
        other = clients.visitor(server, tenant)
        view = other.call("page:view", {"url": f"https://shop.example.test/p{index}",
                                        "title": TITLES[index % len(TITLES)]})
        assert view["ok"], view
        assert other.start(name=name)["ok"]
        assert other.send(PAYLOADS[index])["ok"]

    total = 1 + 2 * len(PAYLOADS) + len(FILE_NAMES)
    expect(visitor_page.locator("[data-sb=message]")).to_have_count(total, timeout=20_000)
    item = agent_page.locator(f"#conversation-list [data-conversation-id='{conversation_id}']")
    item.click()
    expect(agent_page.locator("#messages .message")).to_have_count(total, timeout=20_000)
    expect(agent_page.locator("#conversation-list [data-conversation-id]")).to_have_count(len(NAMES))

    # Every message reads as typed, in both places, in order (the visitor's, then the agent's copy).
    widget_texts = visitor_page.locator("[data-sb=message] .body").all_inner_texts()
    console_texts = agent_page.locator("#messages .message .body").all_inner_texts()
    for texts in (widget_texts, console_texts):
        sent = texts[1:1 + 2 * len(PAYLOADS)]
        for index, payload in enumerate(PAYLOADS):
            assert readable(payload) in words(sent[2 * index]), (payload, sent[2 * index])
            assert readable(payload) in words(sent[2 * index + 1]), (payload, sent[2 * index + 1])
        files = texts[1 + 2 * len(PAYLOADS):]
        for name, shown in zip(stored_names, files):
            assert name in shown, (name, shown)
    # Formatting that is allowed did render: as elements, with safe links.
    rich = agent_page.locator("#messages a[href='https://example.test/a']").first
    expect(rich).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(rich).to_have_attribute("target", "_blank")
    assert visitor_page.locator("[data-sb=message] strong").count() >= 2
    assert visitor_page.locator("[data-sb=message] pre code").count() == 2

    # Names in the inbox and the pane, page titles in the live visitors list: text, as typed.
    inbox = agent_page.locator("#conversation-list").inner_text()
    for name in NAMES:
        assert words(name) in words(inbox), (name, inbox)
    expect(agent_page.locator("#pane-heading")).to_contain_text(NAMES[0])
    live = agent_page.locator("#live-list")
    for title in TITLES:
        expect(live).to_contain_text(title)

    assert_nothing_ran(visitor_page, visitor_dialogs, "[data-sb=messages]")
    assert_nothing_ran(agent_page, agent_dialogs, "#messages, #conversation-list, #live-list, #pane-heading")
    # Interacting does not run anything either: hover and click every link and file card.
    for link in agent_page.locator("#messages a").all():
        link.hover()
    assert_nothing_ran(agent_page, agent_dialogs, "#messages")
