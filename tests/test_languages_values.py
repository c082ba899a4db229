"""Languages (issue 12), the texts that carry values: refusals naming a value (for agents, visitors
and admins), value names in report cells, export headers in the asking admin's language, and the
role noun "Admin" (管理员) apart from the section "Admin" (管理)."""
import csv
import re

import pytest
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from saas import i18n
from saas.i18n import NP_, Label
from saas.models import CannedReply, ReceptionSettings, User
from saas.services import languages
from saas.services.errors import Invalid
from saas.services.reports import exports
from saas.services.reports.table import value_name
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT, login, manage_url
from tests.report_helpers import MARCH, seed_sources
from tests.test_languages import BrowserVisitor

ZH = "zh-CN"


def _speaks(app, tenant, person, language: str) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        languages.set_profile(session, session.get(User, person.id), language=language, time_zone="")


def test_a_refusal_is_one_msgid_with_its_values_filled_in_the_reader_s_language():
    refused = Invalid("agent_not_online", "%(agent)s is not online.", agent="Ada")
    assert (refused.code, str(refused), refused.message) == ("agent_not_online", "Ada is not online.",
                                                             "Ada is not online.")  # outside a request: English
    assert refused.text(ZH) == "Ada 不在线。"
    # A value that is itself a name is translated with the sentence; a value named like the
    # constructor's own arguments is still a value.
    assert Invalid("invalid_tags", "Choose tags from those offered for %(level)s.",
                   level=Label("satisfied")).text(ZH) == "请从“满意”提供的标签中选择。"
    assert Invalid("unknown_language", "Unknown language %(code)r: use one of %(languages)s.", code="fr",
                   languages="en, zh-CN").text(ZH) == "未知语言 'fr'：请使用以下之一：en, zh-CN。"
    # Without values a "%" is text, not a placeholder.
    assert i18n.translate(ZH, "A URL pattern has no spaces (write %20).") == "URL 模式不能包含空格（请写作 %20）。"
    # A context tells the role from the section; stored values keep their names apart from their shown text.
    assert (i18n.translate(ZH, NP_("role", "Admin")), i18n.translate(ZH, "Admin")) == ("管理员", "管理")
    assert value_name("mobile_web", "channel") == "Mobile website" and value_name("Sales", "department") == "Sales"


def test_a_refusal_s_message_is_read_without_flushing_a_pending_row_or_after_a_failed_flush(app, make_tenant):
    tenant = make_tenant(agents=0)
    refusal = Invalid("shortcut_taken", "The shortcut /%(shortcut)s is already in use.", shortcut="hi")
    for failed_flush in (False, True):
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}), tenant_context(tenant.ref):
            session = tenant_session()
            session.add(CannedReply(owner_id=None, shortcut=f"hi{failed_flush}", title="Hi", body="Hi"))
            session.commit()
            session.add(CannedReply(owner_id=None, shortcut=f"hi{failed_flush}", title="Hi", body="Hi"))
            if failed_flush:
                with pytest.raises(IntegrityError):
                    session.flush()
            assert refusal.message == "快捷词 /hi 已被使用。"  # the workspace has no language: the browser's
            session.rollback()


def test_agents_and_visitors_read_refusals_naming_values_in_their_language(server, app, make_tenant, clients):
    tenant = make_tenant(agents=2)
    chinese_agent, english_agent = tenant.agents
    _speaks(app, tenant, chinese_agent, ZH)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(ReceptionSettings, 1).prechat_fields = [{"field": "name", "required": True}]
        session.commit()
    for person, refusal in ((chinese_agent, "快捷词 /refund 已被使用。"),
                            (english_agent, "The shortcut /refund is already in use.")):
        agent = clients.agent(server, tenant, person)
        reply = {"shortcut": "refund", "title": "Refund", "body": "We refund within 14 days."}
        assert agent.call("canned:save", reply)["ok"]
        assert agent.call("canned:save", reply)["error"] == {"code": "shortcut_taken", "message": refusal}

    chinese = BrowserVisitor(server, tenant, "zh-CN,zh;q=0.9")
    english = BrowserVisitor(server, tenant, "en-GB")
    clients._clients += [chinese, english]
    for visitor, refusal in ((chinese, "请填写您的姓名。"), (english, "Please fill in your name.")):
        assert visitor.start()["error"] == {"code": "prechat_required", "message": refusal}


def test_a_chinese_admin_reads_value_names_and_refusals_in_report_pages(server, app, make_tenant):
    tenant = make_tenant(agents=0)
    seed_sources(app, tenant)
    _speaks(app, tenant, tenant.owner, ZH)
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    reports = f"{server.url}/t/{tenant.slug}/reports"
    by_channel = http.get(f"{reports}/sources", params={**MARCH, "dimension": "channel"}, timeout=TIMEOUT).text
    assert '<th scope="row">网站</th>' in by_channel and '<th scope="row">移动网站</th>' in by_channel
    assert '<th scope="row">web</th>' not in by_channel
    by_kind = http.get(f"{reports}/sources", params={**MARCH, "dimension": "source_kind"}, timeout=TIMEOUT).text
    assert '<th scope="row">引荐网站</th>' in by_kind
    custom = http.get(f"{reports}/custom", params={**MARCH, "dimension": "status", "metric": "conversations"},
                      timeout=TIMEOUT).text
    assert '<th scope="row">进行中</th>' in custom
    records = http.get(f"{reports}/records", params=MARCH, timeout=TIMEOUT).text
    assert "<td>网站</td>" in records and "<td>进行中</td>" in records
    refused = http.get(f"{reports}/sources", params={"from": "2026-03-31", "to": "2026-03-01"}, timeout=TIMEOUT)
    assert refused.status_code == 400 and "时间范围的开始（2026-03-31）晚于结束（2026-03-01）。" in refused.text

    _speaks(app, tenant, tenant.owner, "en")
    english = http.get(f"{reports}/sources", params={**MARCH, "dimension": "channel"}, timeout=TIMEOUT).text
    assert '<th scope="row">Website</th>' in english and '<th scope="row">Mobile website</th>' in english


def _csv_export(app, tenant, person, kind: str, args: dict) -> list[list[str]]:
    """An export asked by ``person``, run as the worker would; the file's rows."""
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        export = exports.create_export(session, person.id, kind, exports.parameters_for(session, kind, MultiDict(args)),
                                       "csv")
        exports.run_export(export.id)
        with open(exports.export_path(tenant.ref, export), newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))


def test_an_export_has_the_headers_of_the_asking_admin_s_language_and_the_cells_as_stored(app, make_tenant):
    tenant = make_tenant(agents=0, admins=1)
    seed_sources(app, tenant)
    _speaks(app, tenant, tenant.owner, ZH)
    args = {**MARCH, "dimension": "channel"}
    chinese = _csv_export(app, tenant, tenant.owner, "sources", args)
    english = _csv_export(app, tenant, tenant.admins[0], "sources", args)  # no profile language, nor the workspace
    assert chinese[0][:3] == ["渠道", "访客数", "访问次数"]
    assert english[0][:3] == ["Channel", "Visitors", "Visits"]
    assert chinese[1:] == english[1:] and {"web", "mobile_web"} <= {row[0] for row in english}
    records = _csv_export(app, tenant, tenant.owner, "records", MARCH)
    assert records[0][:5] == ["对话", "开始时间", "关闭时间", "状态", "渠道"]


def test_the_admin_role_is_a_noun_apart_from_the_admin_section(server, app, make_tenant):
    tenant = make_tenant(agents=1, admins=1)
    _speaks(app, tenant, tenant.owner, ZH)
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    team = http.get(manage_url(server, tenant, "team/"), timeout=TIMEOUT).text
    roles = re.findall(r'<td class="col-role">\s*(\S+)\s*</td>', team)
    assert sorted(roles) == sorted(["所有者", "管理员", "客服"]), roles
    assert ">管理<" in http.get(f"{server.url}/t/{tenant.slug}/admin/", timeout=TIMEOUT).text  # the section
