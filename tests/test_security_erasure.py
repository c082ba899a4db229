"""Visitor erasure and tenant deletion: a visitor's personal data, trail, visits, files and message
texts go, the conversations stay anonymised; only owners and admins may erase, and it is audited.
Dropping a tenant removes its schema (or file), its files and its exports."""
import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from tests import sample_files
from tests.auto_reply_helpers import timer_driver, wait_for  # noqa: F401 (timer_driver: a fixture, the RQ worker)
from tests.clients import TIMEOUT, new_client_id
from tests.conftest import PASSWORD

MARK = "Zebulon Quackenbush"


def _visitor_with_a_history(server, tenant, clients):
    visitor = clients.visitor(server, tenant)
    assert visitor.call("page:view", {"url": "https://shop.example/secret-page", "title": "Private"})["ok"]
    assert visitor.send(f"Hello, I am {MARK}, call me on 555-0199")["ok"]
    upload = requests.post(f"{server.url}/widget/upload", timeout=TIMEOUT, files={
        "file": ("passport.png", sample_files.png(), "image/png")},
        data={"key": tenant.widget_key, "token": visitor.token, "client_id": new_client_id()})
    assert upload.status_code == 200, upload.text
    agent = clients.agent(server, tenant)
    [conversation] = agent.conversations()
    assert agent.send(conversation["id"], "Hello, how can I help?")["ok"]
    public_id = agent.call("visitor:panel", {"conversation_id": conversation["id"]})["visitor"]["visitor_id"]
    assert agent.call("visitor:contact", {"visitor_id": public_id, "name": MARK, "email": "zq@example.com",
                                          "phone": "+1 555 0199"})["ok"]
    assert agent.call("call:log", {"visitor_id": public_id, "direction": "inbound", "duration_seconds": 60,
                                   "note": f"{MARK} called about an order"})["ok"]
    return visitor, agent, conversation["id"], public_id


def _stored(app, tenant, conversation_id):
    from saas.models import Attachment, AuditEvent, CallEvent, Conversation, Message, PageView, VisitSession
    from saas.services import attachments
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        conversation = session.get(Conversation, conversation_id)
        visitor = conversation.visitor
        files = session.scalars(select(Attachment)).all()
        return {
            "visitor": (visitor.nickname, visitor.name, visitor.email, visitor.phone, visitor.external_id),
            "public_id": visitor.public_id,
            "messages": [(m.sender_type, m.body, m.extras) for m in
                         session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                                         .order_by(Message.seq))],
            "visits": len(session.scalars(select(VisitSession)).all()) + len(session.scalars(select(PageView)).all()),
            "calls": len(session.scalars(select(CallEvent)).all()),
            "files": [attachments.path_of(tenant.ref, f) for f in files],
            "audit": [(e.kind, e.actor_id, e.target) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == "visitor_erased"))],
            "visitor_id": visitor.id,
        }


def test_an_admin_erases_a_visitor_and_the_conversation_stays_anonymised(server, app, make_tenant, clients):
    tenant = make_tenant(agents=1, admins=1)
    visitor, agent, conversation_id, public_id = _visitor_with_a_history(server, tenant, clients)
    before = _stored(app, tenant, conversation_id)
    assert before["visits"] >= 2 and len(before["files"]) == 1 and before["files"][0].exists()
    assert before["calls"] == 1

    # Agents may not erase; another tenant's admin cannot reach this visitor.
    assert agent.call("visitor:erase", {"visitor_id": public_id})["error"]["code"] == "forbidden"
    other = make_tenant(agents=0, admins=1)
    outsider = clients.agent(server, other, other.admins[0])
    assert outsider.call("visitor:erase", {"visitor_id": public_id})["error"]["code"] == "visitor_not_found"

    admin = clients.agent(server, tenant, tenant.admins[0])
    assert admin.call("visitor:erase", {"visitor_id": public_id}) == {"ok": True, "erased": public_id}

    after = _stored(app, tenant, conversation_id)
    assert after["visitor"] == ("Erased visitor", None, None, None, None)
    assert after["public_id"] != public_id
    assert after["messages"] == [("visitor", "[erased]", None), ("visitor", "[erased]", None),
                                 ("agent", "Hello, how can I help?", None)]
    assert after["visits"] == 0 and after["files"] == [] and not before["files"][0].exists()
    assert after["calls"] == 0
    assert after["audit"] == [("visitor_erased", tenant.admins[0].id, f"visitor {after['visitor_id']}")]
    # The erased visitor's old token no longer leads back to the anonymised conversation.
    again = clients.visitor(server, tenant, token=visitor.token)
    assert again.history()["conversation"] is None
    transcript = admin.call("conversation:open", {"conversation_id": conversation_id})
    # The phone number as written, not a bare "555", which a random hex message id can contain.
    assert MARK not in str(transcript) and "555-0199" not in str(transcript) and "555 0199" not in str(transcript)


@pytest.mark.browser
def test_an_owner_erases_from_the_console_panel_after_confirming_and_agents_have_no_button(
        server, app, make_tenant, clients, page_for):
    from playwright.sync_api import expect

    from tests.accessibility import axe_violations, describe
    from tests.conftest import browser_log_in

    tenant = make_tenant(agents=1)
    owner, agent = page_for(), page_for()
    for page, person in ((owner, tenant.owner), (agent, tenant.agents[0])):
        browser_log_in(page, server, tenant, person)
        expect(page.locator("#connection")).to_have_text("Live")
    visitor = clients.visitor(server, tenant)
    assert visitor.send(f"Hello, I am {MARK}")["ok"]
    for page in (owner, agent):
        page.locator(".conversation-item").first.click()
        expect(page.locator("#visitor-panel")).to_be_visible()
    expect(agent.locator("#visitor-contact")).to_be_visible()
    assert agent.locator("#visitor-erase, #visitor-erase-ask").count() == 0

    ask = owner.locator("#visitor-erase-ask")
    expect(ask).to_have_text("Erase personal data")
    ask.click()
    expect(owner.locator("#visitor-erase-confirm")).to_be_visible()
    expect(owner.locator("#visitor-erase-no")).to_be_focused()
    violations = axe_violations(owner, "#visitor-erase")
    assert not violations, describe(violations)
    owner.locator("#visitor-erase-no").click()  # cancelled: nothing happens
    expect(ask).to_be_visible()
    ask.click()
    owner.locator("#visitor-erase-yes").click()
    expect(owner.locator("#notice")).to_have_text("Personal data erased.")
    expect(owner.locator("#visitor-heading")).to_have_text("Erased visitor")  # the conversation, anonymised
    expect(agent.locator("#visitor-heading")).to_have_text("Erased visitor")  # told by visitor:updated

    from saas.models import AuditEvent, Message
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        assert [m.body for m in session.scalars(select(Message).where(Message.sender_type == "visitor"))] == [
            "[erased]"]
        erasures = session.scalars(select(AuditEvent).where(AuditEvent.kind == "visitor_erased"))
        assert [e.actor_id for e in erasures] == [tenant.owner.id]


def test_erasure_from_the_admin_page(server, app, make_tenant, clients):
    from tests.clients import csrf_token, login, manage_url

    tenant = make_tenant(agents=1)
    _visitor, _agent, conversation_id, public_id = _visitor_with_a_history(server, tenant, clients)
    owner = login(server.url, tenant.slug, tenant.owner.email, PASSWORD)
    form = owner.get(manage_url(server, tenant, "dataprivacy/"), timeout=TIMEOUT)
    done = owner.post(manage_url(server, tenant, "dataprivacy/erase"), timeout=TIMEOUT,
                      data={"csrf_token": csrf_token(form.text), "visitor_id": public_id})
    assert done.status_code == 200 and "personal data is erased" in done.text
    assert _stored(app, tenant, conversation_id)["visitor"][0] == "Erased visitor"
    unknown = owner.post(manage_url(server, tenant, "dataprivacy/erase"), timeout=TIMEOUT,
                         data={"csrf_token": csrf_token(form.text), "visitor_id": "nobody"})
    assert unknown.status_code == 200 and "No such visitor" in unknown.text


def test_dropping_a_tenant_removes_its_storage_files_and_exports(app, backend, make_tenant):
    from sqlalchemy import inspect

    from saas.extensions import db
    from saas.services import tenant_export
    from tenants import provisioning, registry, tenant_context

    tenant = make_tenant()
    router = app.extensions["switchboard_tenants"]
    with app.app_context():
        files = router.files_root(tenant.ref)
        files.mkdir(parents=True, exist_ok=True)
        (files / "a-file").write_bytes(b"x")
        with tenant_context(tenant.ref):
            tenant_export.build("switchboard-x-20260101T000000Z-0000abcd.tar.gz")
        exports = router.exports_root(tenant.ref)
        assert list(exports.iterdir())
        provisioning.drop_tenant(tenant.ref)
        assert registry.find_by_slug(tenant.slug) is None
        assert not files.exists() and not exports.exists()
        if router.is_sqlite:
            assert not Path(router.sqlite_file(tenant.ref)).exists()
        else:
            assert router.schema(tenant.ref) not in inspect(db.engine).get_schema_names()


def test_an_owner_exports_all_data_as_a_job_and_downloads_it(server, app, make_tenant, clients, timer_driver):
    import io
    import json
    import tarfile

    from tests.clients import csrf_token, login, manage_url

    tenant = make_tenant(agents=0, admins=1)
    visitor = clients.visitor(server, tenant)
    assert visitor.send(MARK)["ok"]
    owner = login(server.url, tenant.slug, tenant.owner.email, PASSWORD)
    admin = login(server.url, tenant.slug, tenant.admins[0].email, PASSWORD)
    page = owner.get(manage_url(server, tenant, "dataprivacy/"), timeout=TIMEOUT)
    admins_page = admin.get(manage_url(server, tenant, "dataprivacy/"), timeout=TIMEOUT)
    assert "Export now" in page.text and "Export now" not in admins_page.text
    refused = admin.post(manage_url(server, tenant, "dataprivacy/export"), timeout=TIMEOUT, allow_redirects=False,
                         data={"csrf_token": csrf_token(admins_page.text)})
    assert refused.status_code == 403
    started = owner.post(manage_url(server, tenant, "dataprivacy/export"), timeout=TIMEOUT,
                         data={"csrf_token": csrf_token(page.text)})
    assert started.status_code == 200 and "being built" in started.text

    def listed_link():
        found = re.search(r'href="([^"]+/dataprivacy/export/[^"]+)"',
                          owner.get(manage_url(server, tenant, "dataprivacy/"), timeout=TIMEOUT).text)
        return found and found.group(1)

    link = wait_for(listed_link, timeout=30, what="the export to be built")
    assert admin.get(server.url + link, timeout=TIMEOUT).status_code == 403
    archive = owner.get(server.url + link, timeout=TIMEOUT)
    assert archive.status_code == 200 and "attachment" in archive.headers["Content-Disposition"]
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        assert json.load(tar.extractfile("manifest.json"))["slug"] == tenant.slug
        assert "database" in tar.getnames()
    assert owner.get(manage_url(server, tenant, "dataprivacy/export/../../secret_key"),
                     timeout=TIMEOUT).status_code == 404

    from saas.models import AuditEvent
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        kinds = [e.kind for e in tenant_session().scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds[-2:] == ["export_requested", "export_downloaded"]
