"""Languages in a real browser (Playwright driving Debian's chromium): the widget follows the
browser's language unless the workspace fixes one, visitors get the welcome in their language, and
an admin who chose Chinese in their profile sees the console and the admin screens in Chinese."""
import pytest

from saas.models import AutoReply, TranslatedText
from saas.services import languages
from tenants import tenant_context, tenant_session
from tests.conftest import browser_log_in

# What only a browser shows; the storage behind it runs on both backends in test_languages.py.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

ZH = "zh-CN"


@pytest.fixture
def page_in(browser):
    """A page in a fresh browser context whose language (navigator.language, Accept-Language) is ``locale``."""
    contexts = []

    def open_page(locale: str):
        context = browser.new_context(locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _widget(page_in, server, tenant, locale: str):
    page = page_in(locale)
    page.goto(f"{server.url}/demo/{tenant.slug}")
    launcher = page.locator("[data-sb=launcher]")
    launcher.wait_for(state="visible")
    return page, launcher


def test_the_widget_speaks_the_browser_s_language_unless_the_workspace_fixes_one(server, app, make_tenant, page_in):
    tenant = make_tenant()
    page, launcher = _widget(page_in, server, tenant, ZH)
    assert launcher.inner_text() == "聊天" and launcher.get_attribute("aria-label") == "打开聊天"
    launcher.click()
    assert page.locator("[data-sb=input]").get_attribute("placeholder") == "输入您的消息…"
    assert page.locator("[data-sb=send]").inner_text() == "发送"

    page, launcher = _widget(page_in, server, tenant, "en-US")
    assert launcher.inner_text() == "Chat"
    launcher.click()
    assert page.locator("[data-sb=send]").inner_text() == "Send"

    with app.app_context(), tenant_context(tenant.ref):
        languages.set_workspace_language(tenant_session(), "en")
    page, launcher = _widget(page_in, server, tenant, ZH)
    assert launcher.inner_text() == "Chat"  # the workspace's language wins over the browser's
    launcher.click()
    assert page.locator("[data-sb=send]").inner_text() == "Send"


def test_a_visitor_gets_the_welcome_in_their_language_and_others_the_default(server, app, make_tenant, page_in):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        welcome = AutoReply(kind="welcome", text="Welcome! How can we help?")
        session.add(welcome)
        session.flush()
        session.add(TranslatedText(text_key=f"auto_reply:{welcome.id}", language=ZH, text="欢迎！有什么可以帮您？"))
        session.commit()
    for locale, question, expected, unexpected in ((ZH, "你好", "欢迎！有什么可以帮您？", "Welcome!"),
                                                   ("en-GB", "Hello", "Welcome! How can we help?", "欢迎")):
        page, launcher = _widget(page_in, server, tenant, locale)
        launcher.click()
        page.fill("[data-sb=input]", question)
        page.click("[data-sb=send]")
        messages = page.locator("[data-sb=messages]")
        messages.get_by_text(expected).wait_for()
        assert unexpected not in messages.inner_text()


def test_an_admin_who_chose_chinese_sees_the_console_and_the_admin_in_chinese(server, make_tenant, page_in):
    tenant = make_tenant(admins=1)
    page = page_in("en-US")  # the profile, not the browser, decides
    browser_log_in(page, server, tenant, tenant.admins[0])
    assert page.locator("#inbox-heading").inner_text() == "Open conversations"
    page.click("text=My profile")
    page.select_option("#language", ZH)
    page.select_option("#time_zone", "Asia/Shanghai")
    page.click("button[type=submit] >> text=Save")
    page.locator(".flash", has_text="个人资料已保存。").wait_for()
    assert page.locator("html").get_attribute("lang") == ZH

    page.goto(f"{server.url}/t/{tenant.slug}/console/")
    assert page.locator("#inbox-heading").inner_text() == "进行中的对话"
    page.locator("#connection", has_text="已连接").wait_for()  # console.js's own strings, t('Live')

    page.goto(f"{server.url}/t/{tenant.slug}/admin/manage/team/")
    assert page.locator(".nav-tabs .active").first.inner_text().startswith("列表")  # Flask-Admin's catalogue
    assert "团队" in page.locator(".navbar").first.inner_text()  # our menu names
    page.goto(f"{server.url}/t/{tenant.slug}/admin/manage/languages/")
    assert page.locator("label[for=language]").inner_text() == "工作区语言"  # ours
