"""The audit log: logins, logouts, invites, team changes, settings saved through any admin screen
and deletions are recorded with who, when, what and from where; owners read it (newest first,
filtered by kind), nobody edits it. A switched-off agent's open socket is refused and closed on its
next event."""
import threading

import requests

from tests.clients import TIMEOUT, csrf_token, login, manage_url, submit_form


def _events(app, tenant) -> list:
    from sqlalchemy import select

    from saas.models import AuditEvent
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        return list(tenant_session().scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _kinds(app, tenant) -> list[str]:
    return [event.kind for event in _events(app, tenant)]


def _team_edit(http, server, tenant, person, **changes):
    fields = {"display_name": person.name, "role": person.role, "is_enabled": True, "max_concurrent": ""}
    return submit_form(http, manage_url(server, tenant, f"team/edit/?id={person.id}"), **{**fields, **changes})


def test_logins_logouts_and_invites_are_recorded_with_the_address(server, app, make_tenant):
    tenant = make_tenant()
    agent = tenant.agents[0]
    page = requests.get(f"{server.url}/t/{tenant.slug}/login", timeout=TIMEOUT)
    requests.post(f"{server.url}/t/{tenant.slug}/login", cookies=page.cookies, timeout=TIMEOUT,
                  data={"csrf_token": csrf_token(page.text), "email": "Mallory@Nowhere.test", "password": "nope"})
    http = login(server.url, tenant.slug, agent.email, agent.password)
    console = http.get(f"{server.url}/t/{tenant.slug}/console/", timeout=TIMEOUT)
    http.post(f"{server.url}/t/{tenant.slug}/logout", data={"csrf_token": csrf_token(console.text)}, timeout=TIMEOUT)
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    admin_page = owner.get(f"{server.url}/t/{tenant.slug}/admin/", timeout=TIMEOUT)
    owner.post(f"{server.url}/t/{tenant.slug}/invites", timeout=TIMEOUT,
               data={"csrf_token": csrf_token(admin_page.text), "role": "agent"})

    events = _events(app, tenant)
    assert [e.kind for e in events] == ["login_failed", "login_ok", "logout", "login_ok", "invite_created"]
    failed, ok, logout, _, invite = events
    assert failed.actor == "Mallory@Nowhere.test" and failed.actor_id is None
    assert ok.actor == agent.email and ok.actor_id == agent.id and logout.actor_id == agent.id
    assert invite.actor_id == tenant.owner.id and invite.detail == "role: agent"
    assert {e.address for e in events} == {"127.0.0.1"}


def test_team_changes_settings_and_deletions_are_recorded_once_each(server, app, make_tenant):
    tenant = make_tenant(agents=2)
    first, second = tenant.agents
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    before = len(_events(app, tenant))
    assert _team_edit(owner, server, tenant, first, role="admin").status_code == 200
    assert _team_edit(owner, server, tenant, second, is_enabled=False).status_code == 200
    assert _team_edit(owner, server, tenant, second, is_enabled=True, display_name="Renamed").status_code == 200
    # A Flask-Admin create and delete, a hand-written settings form, and a plain admin route.
    rule = submit_form(owner, manage_url(server, tenant, "invitationrule/new/"), name="Pricing",
                       message="Questions about prices?", url_pattern="/pricing", min_seconds_on_page="0",
                       min_visits="1", is_enabled=True)
    assert rule.status_code == 200
    assert submit_form(owner, manage_url(server, tenant, "allowedorigins/"),
                       allowed_origins="https://shop.example").status_code == 200
    settings = owner.get(f"{server.url}/t/{tenant.slug}/admin/", timeout=TIMEOUT)
    owner.post(f"{server.url}/t/{tenant.slug}/admin/visitors/identity/rotate", timeout=TIMEOUT,
               data={"csrf_token": csrf_token(settings.text)})
    # A refused settings form changes nothing and records nothing.
    refused = submit_form(owner, manage_url(server, tenant, "allowedorigins/"), allowed_origins="not an origin")
    assert refused.status_code == 400

    from saas.models import InvitationRule
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        rule_id = tenant_session().query(InvitationRule.id).scalar()
    listing = owner.get(manage_url(server, tenant, "invitationrule/"), timeout=TIMEOUT)
    owner.post(manage_url(server, tenant, "invitationrule/delete/"), timeout=TIMEOUT,
               data={"csrf_token": csrf_token(listing.text), "id": str(rule_id)})

    events = _events(app, tenant)[before:]
    summary = [(e.kind, e.target) for e in events]
    assert summary == [
        ("role_changed", f"users {first.id}"),
        ("user_disabled", f"users {second.id}"),
        ("user_enabled", f"users {second.id}"),
        ("settings_changed", f"invitation_rules {rule_id}"),
        ("settings_changed", "allowedorigins.index"),
        ("settings_changed", "admin.rotate_identity_secret"),
        ("record_deleted", f"invitation_rules {rule_id}"),
    ], summary
    assert events[0].detail == "role: agent → admin" and events[0].actor_id == tenant.owner.id
    assert "display_name: Agent 1 → Renamed" in events[2].detail
    assert events[3].detail.startswith("created; name: Pricing")
    assert events[4].detail == "fields: allowed_origins"


def test_owners_read_the_log_newest_first_filtered_by_kind_and_nobody_edits_it(server, app, make_tenant):
    tenant = make_tenant(agents=1, admins=1)
    login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    page = requests.get(f"{server.url}/t/{tenant.slug}/login", timeout=TIMEOUT)
    requests.post(f"{server.url}/t/{tenant.slug}/login", cookies=page.cookies, timeout=TIMEOUT,
                  data={"csrf_token": csrf_token(page.text), "email": "intruder@x.test", "password": "nope"})
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    listing = owner.get(manage_url(server, tenant, "auditlog/"), timeout=TIMEOUT)
    assert listing.status_code == 200
    text = listing.text
    assert text.index(tenant.owner.email) < text.index("intruder@x.test") < text.index(tenant.agents[0].email)
    only_failures = owner.get(manage_url(server, tenant, "auditlog/?flt0_0=login_failed"), timeout=TIMEOUT).text
    assert "intruder@x.test" in only_failures and tenant.agents[0].email not in only_failures
    for path in ("auditlog/new/", "auditlog/edit/?id=1"):
        assert owner.get(manage_url(server, tenant, path), allow_redirects=False, timeout=TIMEOUT).status_code in (
            302, 403, 404)
    settings = owner.get(f"{server.url}/t/{tenant.slug}/admin/", timeout=TIMEOUT)  # for a CSRF token
    assert owner.post(manage_url(server, tenant, "auditlog/delete/"), timeout=TIMEOUT, allow_redirects=False,
                      data={"csrf_token": csrf_token(settings.text), "id": "1"}).status_code in (302, 403, 404)
    assert len(_events(app, tenant)) == 3
    admin = login(server.url, tenant.slug, tenant.admins[0].email, tenant.admins[0].password)
    assert admin.get(manage_url(server, tenant, "auditlog/"), timeout=TIMEOUT).status_code == 403


def test_a_disabled_agents_open_socket_is_refused_and_closed_on_its_next_event(server, make_tenant, clients):
    tenant = make_tenant(agents=1)
    agent = clients.agent(server, tenant)
    assert agent.call("conversations:list", {})["ok"]
    closed = threading.Event()
    agent.sio.on("disconnect", lambda *_: closed.set(), namespace="/agent")
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    person = tenant.agents[0]
    assert _team_edit(owner, server, tenant, person, is_enabled=False).status_code == 200
    refused = agent.call("conversations:list", {})
    assert refused == {"ok": False, "error": {"code": "session_ended",
                                              "message": "Your session has ended: log in again."}}
    assert closed.wait(TIMEOUT), "the server kept the socket open"


def test_a_role_change_applies_to_an_open_socket_at_once(server, make_tenant, clients):
    tenant = make_tenant(agents=0, admins=1)
    admin = clients.agent(server, tenant, tenant.admins[0])
    erase_nobody = {"visitor_id": "nobody"}
    assert admin.call("visitor:erase", erase_nobody)["error"]["code"] == "visitor_not_found"  # allowed to try
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    assert _team_edit(owner, server, tenant, tenant.admins[0], role="agent").status_code == 200
    assert admin.call("visitor:erase", erase_nobody)["error"]["code"] == "forbidden"
    assert admin.call("conversations:list", {})["ok"]  # still connected, with what agents may do


def test_a_report_file_downloaded_is_recorded_as_an_export(server, app, make_tenant):
    from werkzeug.datastructures import MultiDict

    from saas.services.reports import exports
    from tenants import tenant_context, tenant_session
    from tests.report_helpers import MARCH

    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        parameters = exports.parameters_for(session, "sources", MultiDict({**MARCH, "dimension": "utm_campaign"}))
        export = exports.create_export(session, tenant.owner.id, "sources", parameters, "csv")
        exports.run_export(export.id)
        public_id = export.public_id
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    path = f"/t/{tenant.slug}/reports/exports/{public_id}/download"
    assert owner.get(server.url + path, timeout=TIMEOUT).status_code == 200
    [event] = [e for e in _events(app, tenant) if e.kind == "export_downloaded"]
    assert event.actor_id == tenant.owner.id and event.target.startswith(path)
