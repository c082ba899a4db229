"""Team management (Flask-Admin) under /t/<slug>/admin/manage/: who may change whom."""
import re
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import select

from saas.models import User
from tenants import tenant_context, tenant_session
from tests.clients import assert_sent_to_login, csrf_token, login


def _edit(http, server, tenant, user_id, **fields):
    url = f"{server.url}/t/{tenant.slug}/admin/manage/team/edit/?id={user_id}"
    form = http.get(url)
    assert form.status_code == 200, form.status_code
    data = {"csrf_token": csrf_token(form.text), **fields}
    if data.pop("is_enabled", True):
        data["is_enabled"] = "y"  # an unchecked checkbox is simply absent
    return http.post(url, data=data)


def _stored(app, tenant, user_id) -> User:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().get(User, user_id)


@pytest.fixture
def team(make_tenant):
    return make_tenant(agents=2, admins=1)


def test_owner_sees_the_team_and_changes_an_agents_role_and_name(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    listing = http.get(f"{server.url}/t/{team.slug}/admin/manage/team/")
    assert listing.status_code == 200
    assert all(person.email in listing.text for person in [team.owner, *team.agents])

    agent = team.agents[0]
    _edit(http, server, team, agent.id, display_name="Ada Admin", role="admin")
    stored = _stored(app, team, agent.id)
    assert (stored.display_name, stored.role) == ("Ada Admin", "admin")


def test_the_brand_link_leads_to_this_workspaces_admin_screens(server, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    page = http.get(f"{server.url}/t/{team.slug}/admin/manage/knowledge/")
    [brand] = re.findall(r'<a class="navbar-brand" href="([^"]+)"', page.text)
    assert brand == f"/t/{team.slug}/admin/manage/"
    home = http.get(urljoin(page.url, brand))
    assert home.status_code == 200 and home.url == f"{server.url}/t/{team.slug}/admin/manage/team/"


def test_a_switched_off_account_can_no_longer_log_in(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    agent = team.agents[1]
    _edit(http, server, team, agent.id, display_name=agent.name, role="agent", is_enabled=False)
    assert _stored(app, team, agent.id).is_enabled is False
    http = requests.Session()
    page = http.get(f"{server.url}/t/{team.slug}/login")
    refused = http.post(f"{server.url}/t/{team.slug}/login", allow_redirects=False,
                        data={"csrf_token": csrf_token(page.text), "email": agent.email, "password": agent.password})
    assert refused.status_code == 401


def test_only_an_owner_makes_owners_and_nobody_demotes_themselves_or_the_last_owner(server, app, team):
    admin_http = login(server.url, team.slug, team.admins[0].email, team.owner.password)
    refused = _edit(admin_http, server, team, team.agents[0].id, display_name="x", role="owner")
    assert "Only an owner can make or unmake owners." in refused.text
    assert _stored(app, team, team.agents[0].id).role == "agent"

    owner_http = login(server.url, team.slug, team.owner.email, team.owner.password)
    refused = _edit(owner_http, server, team, team.owner.id, display_name="Owner", role="agent")
    assert "You cannot switch off or change the role of your own account." in refused.text
    assert _stored(app, team, team.owner.id).role == "owner"

    # With a second owner the first may be changed by that second owner, but not the last one.
    _edit(owner_http, server, team, team.admins[0].id, display_name="Admin", role="owner")
    second_owner = login(server.url, team.slug, team.admins[0].email, team.owner.password)
    _edit(second_owner, server, team, team.owner.id, display_name="Owner", role="admin")
    assert _stored(app, team, team.owner.id).role == "admin"
    with app.app_context(), tenant_context(team.ref):
        owners = tenant_session().scalars(select(User).where(User.role == "owner")).all()
    assert [o.id for o in owners] == [team.admins[0].id]


def test_agents_and_other_tenants_cannot_reach_team_management(server, make_tenant, team):
    agent_http = login(server.url, team.slug, team.agents[0].email, team.agents[0].password)
    assert agent_http.get(f"{server.url}/t/{team.slug}/admin/manage/team/", allow_redirects=False).status_code == 403

    stranger = make_tenant()
    stranger_http = login(server.url, stranger.slug, stranger.owner.email, stranger.owner.password)
    response = stranger_http.get(f"{server.url}/t/{team.slug}/admin/manage/team/edit/?id=1", allow_redirects=False)
    assert_sent_to_login(response, team)
