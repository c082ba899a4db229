"""Web hardening: security headers, a Content-Security-Policy that forbids inline script while the
console and the admin still work in a real browser, and CSRF on every state-changing endpoint."""
import base64
import hashlib
import html
import re

import pytest
import requests
from werkzeug.routing import Rule

from tests.clients import TIMEOUT, login, manage_url
from tests.conftest import browser_log_in
from tests.test_browser import _visitor_says as visitor_says

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# No cookie: visitor uploads carry the widget key and the visitor token, the channel endpoints a
# provider's signature or a channel token, the app API an app key and the app user's token.
NO_COOKIE_CREDENTIALS = {"widget.upload", "channels.sms_inbound", "channels.sms_voice", "channels.api_inbound",
                         "app_api.startSession", "app_api.sendMessage", "app_api.markRead"}

# Chromium logs every blocked script to the console; the event catches the ones it might not.
_REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('Content Security Policy violation: ' + e.violatedDirective + ' blocked '
                + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def _script_sources(policy: str) -> list[str]:
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("script-src "))
    return directive.split()[1:]


def test_console_and_admin_pages_carry_the_security_headers_and_a_policy_without_inline_script(
        server, make_tenant):
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    for url in (f"{server.url}/t/{tenant.slug}/console/", f"{server.url}/t/{tenant.slug}/admin/",
                manage_url(server, tenant, "team/"), f"{server.url}/t/{tenant.slug}/login"):
        headers = http.get(url, timeout=TIMEOUT).headers
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert headers["X-Frame-Options"] == "SAMEORIGIN", url
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy, url
        sources = _script_sources(policy)
        assert "'self'" in sources and "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, url
        assert "Strict-Transport-Security" not in headers, "HSTS over plain http would be a lie"
    # Every page gets a fresh nonce: a nonce seen once is no key to the next page.
    nonces = {re.search(r"'nonce-([^']+)'", http.get(manage_url(server, tenant, "team/"), timeout=TIMEOUT)
                        .headers["Content-Security-Policy"]).group(1) for _ in range(2)}
    assert len(nonces) == 2
    # The widget script and the tenants' own (demo) page keep working cross-origin: no policy of ours.
    assert requests.get(f"{server.url}/widget.js", timeout=TIMEOUT).headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in requests.get(f"{server.url}/demo/{tenant.slug}", timeout=TIMEOUT).headers


def test_every_inline_handler_on_the_admin_lists_is_allowed_by_its_hash_and_nothing_else_inline(
        server, make_tenant):
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    seen = set()
    for screen in ("team/", "department/", "knowledge/", "autoreply/", "cannedreply/", "businesshours/"):
        page = http.get(manage_url(server, tenant, screen), timeout=TIMEOUT)
        assert page.status_code == 200, screen
        sources = _script_sources(page.headers["Content-Security-Policy"])
        inline = [html.unescape(v) for v in re.findall(r'\son[a-z]+="([^"]*)"', page.text)]
        inline += [html.unescape(v) for v in re.findall(r'href="(javascript:[^"]*)"', page.text)]
        for source in inline:
            digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in sources, f"{screen}: {source!r} would be blocked"
            seen.add(source)
        nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
        for script in re.findall(r"<script\b[^>]*>", page.text):
            assert f'nonce="{nonce}"' in script, f"{screen}: {script} has no nonce"
    assert "return modelActions.execute('delete');" in seen  # the knowledge list's bulk action


def test_hsts_is_sent_over_https_and_behind_a_trusted_proxy_that_says_https_only(app, backend):
    from saas import create_app
    from tests.conftest import app_overrides

    assert "Strict-Transport-Security" in app.test_client().get("/", base_url="https://localhost").headers
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in app.test_client().get("/", headers=forwarded).headers
    behind_proxy = create_app(app_overrides(backend, TRUSTED_PROXIES=1))
    assert "Strict-Transport-Security" in behind_proxy.test_client().get("/", headers=forwarded).headers


@pytest.mark.browser
def test_the_console_chat_and_an_admin_form_work_under_the_policy_with_no_violation(
        server, make_tenant, page_for):
    from playwright.sync_api import expect

    tenant = make_tenant()
    violations: list[str] = []

    def watched_page():
        page = page_for()
        page.context.add_init_script(_REPORT_VIOLATIONS)
        page.on("console", lambda message: "Content Security Policy" in message.text
                and violations.append(f"{page.url}: {message.text}"))
        return page

    agent = watched_page()
    browser_log_in(agent, server, tenant, tenant.agents[0])

    visitor = page_for()
    visitor_says(visitor, server, tenant, "Hello under a strict policy")

    item = agent.locator("#conversation-list [data-conversation-id]")
    expect(item).to_contain_text("Hello under a strict policy")
    item.click()
    expect(agent.locator("#messages .message")).to_have_count(1)
    agent.fill("#composer", "**Welcome**, how can I help?")
    agent.click("#send")
    expect(visitor.locator("[data-sb=messages]")).to_contain_text("how can I help?")

    owner = watched_page()
    browser_log_in(owner, server, tenant, tenant.owner)
    owner.goto(f"{server.url}/t/{tenant.slug}/admin/")
    owner.goto(manage_url(server, tenant, "team/"))
    owner.click("text=Add Filter")
    owner.locator(".field-filters .filter").first.click()  # Flask-Admin's inline onclick handler
    expect(owner.locator(".filter-val, .filter-op").first).to_be_visible()
    owner.goto(manage_url(server, tenant, f"team/edit/?id={tenant.agents[0].id}"))
    owner.fill("input[name=display_name]", "Agent Renamed")
    owner.click("input[type=submit][value=Save]")
    expect(owner.locator("table.model-list")).to_contain_text("Agent Renamed")

    assert violations == [], "\n".join(violations)


def _example_url(rule: Rule, tenant_slug: str) -> str:
    values = {name: tenant_slug if name == "tenant_slug" else "1" for name in rule.arguments}
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def test_every_state_changing_endpoint_refuses_a_post_without_a_csrf_token(server, app, make_tenant):
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    checked = []
    for rule in app.url_map.iter_rules():
        methods = STATE_CHANGING & (rule.methods or set())
        if not methods or rule.endpoint in NO_COOKIE_CREDENTIALS:
            continue
        url = server.url + _example_url(rule, tenant.slug)
        for method in sorted(methods):
            response = http.request(method, url, data={"anything": "1"}, allow_redirects=False, timeout=TIMEOUT)
            assert response.status_code == 400 and "csrf" in response.text.lower(), (
                f"{method} {rule.rule} ({rule.endpoint}) without a CSRF token answered {response.status_code}")
            checked.append(rule.endpoint)
    assert {"auth.login", "auth.logout", "auth.create_invite", "team.edit_view", "console.upload"} <= set(checked)

