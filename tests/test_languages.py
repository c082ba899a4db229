"""Languages (issue 12): the catalogues, which language each viewer gets, per-language visitor texts,
and bad input refused with nothing saved. The browser side is in test_languages_browser.py."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from saas import i18n
from saas.models import (AutoReply, Conversation, Department, LanguageSettings, RatingSettings, ReceptionSettings,
                         TranslatedText, User, Visitor)
from saas.models.conversations import CLOSED
from saas.services import accounts, languages, ratings
from saas.services.errors import Invalid, ServiceError
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT, VisitorClient, csrf_token, login, manage_url, submit_form

CATALOGUE = i18n.TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES"
ZH = "zh-CN"


def _read_po(path: Path):
    with open(path, "rb") as f:
        return read_po(f)


def _hashable(text):
    """A message's id or string: a text, or (plural forms, ``ngettext``) a list of them."""
    return text if isinstance(text, str) else tuple(text)


def _translated(message) -> bool:
    return bool(message.string) if isinstance(message.string, str) else all(message.string)


# --- the catalogues ---------------------------------------------------------------------------

def test_every_msgid_has_a_chinese_translation():
    catalog = _read_po(CATALOGUE / "messages.po")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100
    assert [m.id for m in messages if not _translated(m)] == []
    assert [m.id for m in messages if m.fuzzy] == []  # pybabel compile would leave them out


def test_every_translation_keeps_its_msgid_s_placeholders():
    """A refusal's or a page's ``%(name)s`` (Python, Jinja) and a script's ``{name}`` are filled by
    name: a translation missing one, or with a stray ``%``, would fail when shown."""
    placeholders = re.compile(r"%\((\w+)\)[sdr]|\{(\w+)\}")
    wrong = []
    for message in _read_po(CATALOGUE / "messages.po"):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else message.string
        expected = set(placeholders.findall(msgid))
        for text in strings:
            stray = "python-format" in message.flags and re.search(r"%(?!\(\w+\)[sdr])", text)
            if set(placeholders.findall(text)) != expected or stray:
                wrong.append((msgid, text))
    assert wrong == []


def test_the_compiled_catalogue_is_up_to_date_with_the_po():
    with open(CATALOGUE / "messages.mo", "rb") as f:
        # Babel before 2.19 reads a message's context (msgctxt) from a .mo as bytes, 2.19 as str
        compiled = {(m.context.decode() if isinstance(m.context, bytes) else m.context, _hashable(m.id)):
                    _hashable(m.string)
                    for m in read_mo(f) if m.id}
    written = {(m.context, _hashable(m.id)): _hashable(m.string) for m in _read_po(CATALOGUE / "messages.po") if m.id}
    assert compiled == written, "run `make translations`"


def test_the_template_and_the_catalogue_have_the_same_msgids():
    template = {(m.context, _hashable(m.id)) for m in _read_po(i18n.TRANSLATIONS / "messages.pot") if m.id}
    catalogue = {(m.context, _hashable(m.id)) for m in _read_po(CATALOGUE / "messages.po") if m.id}
    assert template == catalogue, "run `make translations`"


def test_script_texts_are_the_javascript_msgids_translated():
    texts = i18n.script_texts(ZH)
    assert texts["Chat with us"] == "与我们聊天"  # widget.js
    assert texts["With {name}"] == "由{name}接待"  # console.js, with its placeholder kept
    assert "Profile saved." not in texts  # Python's strings stay on the server
    assert i18n.script_texts("en") == {}  # English is the msgids themselves


# --- choosing a language ----------------------------------------------------------------------

@pytest.mark.parametrize("tags, expected", [
    (["zh-CN", "en"], ZH), (["zh-TW"], ZH), (["zh"], ZH), (["en-GB", "zh-CN"], "en"),
    (["fr-FR", "zh-Hans"], ZH), (["fr", "de"], "en"), ([], "en"),
])
def test_the_browser_s_first_supported_language_wins(tags, expected):
    assert languages.best_language(tags) == expected


def test_profile_then_workspace_then_browser_and_unknown_codes_refused(app, make_tenant, backend):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        agent = session.get(User, tenant.agents[0].id)
        assert languages.widget_language(session, ["zh-CN"]) == ZH
        assert languages.staff_language(session, agent, ["zh-CN"]) == ZH
        languages.set_workspace_language(session, "en")
        assert languages.widget_language(session, ["zh-CN"]) == "en"
        assert languages.staff_language(session, agent, ["zh-CN"]) == "en"
        languages.set_profile(session, agent, language=ZH, time_zone="Asia/Shanghai")
        assert languages.staff_language(session, agent, ["en"]) == ZH
        languages.set_workspace_language(session, "")
        assert languages.settings(session).language is None

        # Unknown codes and zones are refused, and nothing of the refused change is kept.
        languages.set_profile(session, agent, language=ZH, time_zone="Europe/Paris")
        for language, time_zone, code in (("klingon", "UTC", "unknown_language"), ("zh", "UTC", "unknown_language"),
                                          ("en", "Mars/Olympus", "unknown_time_zone")):
            with pytest.raises(Invalid) as refused:
                languages.set_profile(session, agent, language=language, time_zone=time_zone)
            assert refused.value.code == code
            session.rollback()
            assert (agent.language, agent.time_zone) == (ZH, "Europe/Paris")
        with pytest.raises(Invalid, match="Unknown language 'fr'"):
            languages.set_workspace_language(session, "fr")
        session.rollback()
        assert session.get(LanguageSettings, 1).language is None


# --- per-language visitor texts ---------------------------------------------------------------

def test_a_visitor_text_in_their_language_else_the_default(app, make_tenant, backend):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.add(Department(name="Sales", public_name="Sales team"))
        session.add(AutoReply(kind="welcome", text="Welcome!"))
        session.commit()
        owner = session.get(User, tenant.owner.id)
        department, reply = session.scalar(select(Department)), session.scalar(select(AutoReply))
        for key, text in ((f"department:{department.id}", "销售团队"), (f"auto_reply:{reply.id}", "欢迎！"),
                          ("bot_greeting", "您好！我是智能助手。")):
            row = TranslatedText(text_key=key, language=ZH, text=f" {text} ")
            languages.check_translation(session, owner, row)
            session.add(row)
        session.commit()
        assert languages.department_name(session, department, ZH) == "销售团队"
        assert languages.department_name(session, department, "en") == "Sales team"
        assert languages.department_name(session, department, None) == "Sales team"
        assert languages.localized(session, "bot_greeting", ZH, "Hi") == "您好！我是智能助手。"
        assert languages.localized(session, "bot_fallback", ZH, "Sorry") == "Sorry"
        assert {key for key in languages.text_keys(session) if not key.startswith("rating_tag:")} == {
            "bot_greeting", "bot_fallback", "widget_launcher_text", "widget_greeting", f"auto_reply:{reply.id}",
            f"department:{department.id}"}
        # The widget's unchanged default texts come out of the catalogue; an admin's version wins.
        look = {"launcher_text": "Chat", "greeting": "Ask us anything — we reply right here."}
        assert languages.localize_look(session, dict(look), ZH, i18n.script_texts(ZH)) == {
            "launcher_text": "聊天", "greeting": "有任何问题都可以问我们——我们就在这里回复。"}
        session.add(TranslatedText(text_key="widget_greeting", language=ZH, text="欢迎光临"))
        assert languages.localize_look(session, dict(look), ZH, i18n.script_texts(ZH))["greeting"] == "欢迎光临"
        assert languages.localize_look(session, dict(look), "en", {}) == look

        # Refused: unknown language or text, empty or too long, a second version, an agent.
        agent = session.get(User, tenant.agents[0].id)
        good = {"text_key": "bot_fallback", "language": ZH, "text": "抱歉"}
        for change, code in (({"language": "klingon"}, "unknown_language"),
                             ({"text_key": "auto_reply:999"}, "unknown_text"),
                             ({"text": "   "}, "invalid_text"), ({"text": "x" * (languages.MAX_TEXT + 1)}, "invalid_text"),
                             ({"text_key": "bot_greeting"}, "duplicate_translation")):
            with pytest.raises(Invalid) as refused:
                languages.check_translation(session, owner, TranslatedText(**{**good, **change}))
            assert refused.value.code == code
        with pytest.raises(ServiceError, match="Only owners and admins"):
            languages.check_translation(session, agent, TranslatedText(**good))
        languages.check_translation(session, owner, TranslatedText(**good))


def test_a_zh_visitor_sees_rating_tags_and_levels_in_chinese_and_rates_with_the_stored_tag(app, make_tenant,
                                                                                            backend):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        ratings.update_settings(session, enabled=True, scale="levels3",
                                tags={"levels3": {1: "Slow", 3: "Fast, Kind"}, "stars5": {5: "Fast"}})
        owner = session.get(User, tenant.owner.id)
        row = TranslatedText(text_key="rating_tag:Fast", language=ZH, text="很快")
        languages.check_translation(session, owner, row)
        session.add(row)
        visitor = Visitor(public_id="zh-rater", nickname="访客", language=ZH)
        session.add(visitor)
        session.flush()
        conversation = Conversation(visitor_id=visitor.id, status=CLOSED)
        session.add(conversation)
        session.commit()
        # "Fast", offered on both scales, is one text to translate.
        assert sorted(key for key in languages.text_keys(session) if key.startswith("rating_tag:")) == [
            "rating_tag:Fast", "rating_tag:Kind", "rating_tag:Slow"]

        chinese = ratings.form(session, conversation, ZH)["levels"]
        assert [(lv["score"], lv["level"], lv["label"], lv["tags"], lv["tag_labels"]) for lv in chinese] == [
            (1, "unsatisfied", "不满意", ["Slow"], {"Slow": "Slow"}), (2, "neutral", "一般", [], {}),
            (3, "satisfied", "满意", ["Fast", "Kind"], {"Fast": "很快", "Kind": "Kind"})]
        english = ratings.form(session, conversation, "en")["levels"][2]
        assert (english["label"], english["tag_labels"]) == ("satisfied", {"Fast": "Fast", "Kind": "Kind"})

        rating = ratings.rate(session, visitor, conversation.id, score=3, tags=["Fast"], comment="")
        assert (rating.level, rating.tags) == ("satisfied", ["Fast"])
        with pytest.raises(Invalid) as refused:  # the shown label is not a tag
            ratings.rate(session, visitor, conversation.id, score=3, tags=["很快"], comment="")
        assert refused.value.code == "invalid_tags"
        assert session.get(type(rating), rating.id).tags == ["Fast"]


# --- over HTTP and Socket.IO, on a live server --------------------------------------------------

class BrowserVisitor(VisitorClient):
    """A widget whose browser asks for ``accept_language`` (the socket handshake carries it)."""

    def __init__(self, server, tenant, accept_language: str):
        self.accept_language = accept_language
        super().__init__(server.url, tenant.widget_key)

    def _connect(self, base_url, auth, headers=None):
        super()._connect(base_url, auth, {**(headers or {}), "Accept-Language": self.accept_language})


def test_the_widget_catalogue_follows_the_browser_unless_the_workspace_fixes_one(server, app, make_tenant):
    tenant = make_tenant()
    url = f"{server.url}/widget/i18n.json?key={tenant.widget_key}"

    def catalogue(accept_language):
        response = requests.get(url, headers={"Accept-Language": accept_language}, timeout=TIMEOUT)
        assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
        return response.json()

    chinese = catalogue("zh-CN,zh;q=0.9,en;q=0.8")
    assert chinese["language"] == ZH and chinese["texts"]["Send"] == "发送"
    assert catalogue("en-US,en;q=0.9") == {"language": "en", "texts": {}}
    with app.app_context(), tenant_context(tenant.ref):
        languages.set_workspace_language(tenant_session(), ZH)
    assert catalogue("en-US,en;q=0.9")["language"] == ZH
    assert requests.get(f"{server.url}/widget/i18n.json?key=nope-nope-nope", timeout=TIMEOUT).status_code == 404


def test_the_bot_greets_each_visitor_in_their_language(server, app, make_tenant, clients):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(ReceptionSettings, 1).reception_mode = "bot_only"
        rating_settings = session.get(RatingSettings, 1)
        rating_settings.enabled, rating_settings.scale = True, "levels3"
        session.add(TranslatedText(text_key="bot_greeting", language=ZH, text="您好！请问有什么可以帮您？"))
        session.commit()
        default_greeting = session.get(ReceptionSettings, 1).bot_greeting
    chinese = BrowserVisitor(server, tenant, "zh-CN,zh;q=0.9")
    english = BrowserVisitor(server, tenant, "en-GB")
    clients._clients += [chinese, english]
    assert chinese.welcome["language"] == ZH and english.welcome["language"] == "en"
    for visitor, greeting in ((chinese, "您好！请问有什么可以帮您？"), (english, default_greeting)):
        assert visitor.send("hello")["ok"]
        bodies = [m["body"] for m in visitor.history()["messages"]]
        assert greeting in bodies, bodies
    # The rating form's levels, and a refusal's message, in the visitor's language.
    for visitor, satisfied, refusal in ((chinese, "满意", "会话结束后即可评价。"),
                                        (english, "satisfied", "You can rate this conversation once it has ended.")):
        form = visitor.call("rating:form", {})
        assert form["levels"][-1]["label"] == satisfied and form["levels"][-1]["level"] == "satisfied"
        refused = visitor.call("rating:submit", {"conversation_id": form["conversation_id"], "score": 3, "tags": [],
                                                 "comment": ""})
        assert refused["error"] == {"code": "conversation_open", "message": refusal}
    with app.app_context(), tenant_context(tenant.ref):
        stored = dict(tenant_session().execute(select(Visitor.nickname, Visitor.language)).all())
    assert stored == {chinese.nickname: ZH, english.nickname: "en"}


def test_an_agent_s_profile_refuses_an_unknown_language_and_keeps_a_good_one(server, app, make_tenant):
    tenant = make_tenant()
    agent = tenant.agents[0]
    http = login(server.url, tenant.slug, agent.email, agent.password)
    url = f"{server.url}/t/{tenant.slug}/console/profile"
    refused = submit_form(http, url, language="xx-YY", time_zone="Asia/Shanghai")
    assert refused.status_code == 400 and "Unknown language" in refused.text
    assert submit_form(http, url, language=ZH, time_zone="Nowhere/Else").status_code == 400
    with app.app_context(), tenant_context(tenant.ref):
        user = tenant_session().get(User, agent.id)
        assert (user.language, user.time_zone) == (None, None)
    saved = submit_form(http, url, language=ZH, time_zone="Asia/Shanghai")
    assert saved.status_code == 200 and "个人资料已保存。" in saved.text and '<html lang="zh-CN">' in saved.text
    with app.app_context(), tenant_context(tenant.ref):
        user = tenant_session().get(User, agent.id)
        assert (user.language, user.time_zone) == (ZH, "Asia/Shanghai")
    console = http.get(f"{server.url}/t/{tenant.slug}/console/", timeout=TIMEOUT).text
    assert "进行中的对话" in console and 'data-time-zone="Asia/Shanghai"' in console


def test_admin_language_screens_refuse_unknown_codes_and_pages_follow_the_viewer(server, app, make_tenant):
    tenant = make_tenant()
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    settings_url = manage_url(server, tenant, "languages/")
    refused = submit_form(http, settings_url, language="tlh")
    assert refused.status_code == 400 and "Unknown language" in refused.text
    with app.app_context(), tenant_context(tenant.ref):
        assert languages.settings(tenant_session()).language is None
    assert submit_form(http, settings_url, language=ZH).status_code == 200  # after the redirect
    with app.app_context(), tenant_context(tenant.ref):
        assert languages.settings(tenant_session()).language == ZH

    new_url = manage_url(server, tenant, "translatedtext/new/")
    form = http.get(new_url, timeout=TIMEOUT)
    assert "bot_greeting" in form.text  # the workspace's texts are offered
    for fields in ({"text_key": "bot_greeting", "language": "xx", "text": "hi"},
                   {"text_key": "department:12345", "language": ZH, "text": "hi"}):
        response = http.post(new_url, data={"csrf_token": csrf_token(form.text), **fields}, timeout=TIMEOUT)
        assert response.status_code == 200 and "Record was successfully" not in response.text
    with app.app_context(), tenant_context(tenant.ref):
        assert tenant_session().scalars(select(TranslatedText)).all() == []
    saved = submit_form(http, new_url, text_key="bot_greeting", language=ZH, text="您好")
    # The owner chose no language: the workspace's (now Chinese) applies to Flask-Admin's own strings too.
    assert "创建记录成功。" in saved.text and "列表" in saved.text
    # Our own labels too: a Flask-Admin list's column headers, and a report's table headers (N_-marked).
    team_list = http.get(manage_url(server, tenant, "team/"), timeout=TIMEOUT).text
    assert "最大并发数" in team_list and "在线状态" in team_list and "Max concurrent" not in team_list
    work = http.get(f"{server.url}/t/{tenant.slug}/reports/agents", timeout=TIMEOUT).text
    assert '<th scope="col" class="num">首次响应，中位数</th>' in work and "Messages sent" not in work
    # Cell texts and choices of the admin lists, and the custom report's dimension and metric names.
    assert "工作区默认值" in team_list and "所有者" in team_list and "workspace default" not in team_list
    custom = http.get(f"{server.url}/t/{tenant.slug}/reports/custom",
                      params={"dimension": "status", "metric": "closed_conversations"}, timeout=TIMEOUT).text
    assert '<option value="status" selected>会话状态</option>' in custom
    assert '<th scope="col" class="num">已关闭的会话</th>' in custom and "Closed conversations" not in custom
    with app.app_context(), tenant_context(tenant.ref):
        assert [(r.text_key, r.language, r.text) for r in tenant_session().scalars(select(TranslatedText))] == [
            ("bot_greeting", ZH, "您好")]

    # Server-rendered times: stored in UTC, shown in the viewer's language and time zone.
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        invite, _token = accounts.create_invite(session, session.get(User, tenant.owner.id), "agent",
                                                timedelta(hours=1))
        invite.expires_at = datetime(2026, 12, 24, 22, 30, tzinfo=timezone.utc)
        session.commit()
    settings_page = f"{server.url}/t/{tenant.slug}/admin/"
    chinese = http.get(settings_page, timeout=TIMEOUT).text  # the workspace's language; no zone chosen: UTC
    assert "2026/12/24 22:30 UTC" in chinese and "<h1>工作区设置</h1>" in chinese
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        languages.set_profile(session, session.get(User, tenant.owner.id), language="en", time_zone="Asia/Shanghai")
    english = http.get(settings_page, timeout=TIMEOUT).text  # the profile beats the workspace
    assert re.search(r"12/25/26, 6:30\W+AM Asia/Shanghai", english) and "<h1>Workspace settings</h1>" in english


def test_the_login_and_signup_pages_follow_the_browser(server, make_tenant):
    tenant = make_tenant()
    pages = ((f"/t/{tenant.slug}/login", "忘记密码了？", "Forgot your password?"),
             ("/signup", "创建工作区", "Create a workspace"),
             ("/login", "您在哪个工作区工作？", "Which workspace do you work in?"))
    for path, chinese, english in pages:
        zh = requests.get(server.url + path, headers={"Accept-Language": "zh-CN,zh;q=0.9"}, timeout=TIMEOUT)
        en = requests.get(server.url + path, headers={"Accept-Language": "en-GB"}, timeout=TIMEOUT)
        assert zh.status_code == en.status_code == 200
        assert chinese in zh.text and english not in zh.text and english in en.text
