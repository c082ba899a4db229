"""Reception configuration (Flask-Admin) under /t/<slug>/admin/manage/: departments and their members,
channel modes, the workspace's reception settings and each agent's capacity."""
import re

import pytest
import requests
from sqlalchemy import select

from saas.models import ChannelMode, Department, DepartmentMember, ReceptionSettings, User
from tenants import tenant_context, tenant_session
from tests.clients import assert_sent_to_login, csrf_token, login, manage_url, submit_form


@pytest.fixture
def team(make_tenant):
    return make_tenant(agents=3, admins=1)


def _selected(html: str, name: str) -> set[str]:
    select_element = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_element, f"no <select> named {name}"
    return set(re.findall(r'<option selected value="([^"]*)"', select_element.group(1)))


def _department_form(**overrides):
    fields = {"name": "Sales", "public_name": "Buy from us", "description": "Prices and orders",
              "is_hidden": False, "assignment": "auto", "reception_mode": "__None", "members": []}
    return {**fields, **overrides}


def _query(app, tenant, statement):
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalars(statement).all()


def _departments(app, tenant) -> list[Department]:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        departments = session.scalars(select(Department).order_by(Department.id)).all()
        session.expunge_all()
        return departments


def _members(app, tenant, department_id) -> set[int]:
    return set(_query(app, tenant, select(DepartmentMember.user_id)
                      .where(DepartmentMember.department_id == department_id)))


def _settings(app, tenant) -> ReceptionSettings:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        row = session.get(ReceptionSettings, 1)
        session.expunge(row)
        return row


def test_admin_creates_edits_and_deletes_a_department_with_its_members(server, app, team):
    http = login(server.url, team.slug, team.admins[0].email, team.owner.password)
    first, second, third = team.agents
    form = http.get(manage_url(server, team, "department/new/"))
    assert all(agent.email in form.text for agent in team.agents)  # members are chosen from the team

    created = submit_form(http, manage_url(server, team, "department/new/"),
                         **_department_form(members=[first.id, second.id], assignment="manual"))
    assert created.status_code == 200
    [department] = _departments(app, team)
    assert (department.name, department.public_name, department.description) == ("Sales", "Buy from us",
                                                                                  "Prices and orders")
    assert (department.is_hidden, department.assignment, department.reception_mode) == (False, "manual", None)
    assert _members(app, team, department.id) == {first.id, second.id}
    listing = http.get(manage_url(server, team, "department/"))
    assert "Buy from us" in listing.text and first.name in listing.text and "inherit" in listing.text

    edit_url = manage_url(server, team, f"department/edit/?id={department.id}")
    assert _selected(http.get(edit_url).text, "members") == {str(first.id), str(second.id)}
    submit_form(http, edit_url, **_department_form(is_hidden=True, reception_mode="bot_first",
                                                  members=[second.id, third.id]))
    [department] = _departments(app, team)
    assert (department.is_hidden, department.reception_mode) == (True, "bot_first")
    assert _members(app, team, department.id) == {second.id, third.id}

    submit_form(http, edit_url, **_department_form(members=[]))
    assert _members(app, team, department.id) == set()
    assert _departments(app, team)[0].reception_mode is None  # back to "inherit"

    submit_form(http, edit_url, **_department_form(members=[first.id]))
    token = csrf_token(http.get(manage_url(server, team, "department/")).text)
    deleted = http.post(manage_url(server, team, "department/delete/"), data={"csrf_token": token, "id": department.id})
    assert deleted.status_code == 200
    assert _departments(app, team) == []
    assert _query(app, team, select(DepartmentMember)) == []


def test_department_names_are_unique_and_a_visitor_facing_name_is_required(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    new_url = manage_url(server, team, "department/new/")
    submit_form(http, new_url, **_department_form(members=[team.agents[0].id]))

    duplicate = submit_form(http, new_url, **_department_form(members=[team.agents[1].id]))
    assert "Already exists." in duplicate.text  # Flask-Admin's own check of the unique column
    duplicate = submit_form(http, new_url, **_department_form(name=" sales ", members=[team.agents[1].id]))
    assert "There is already a department called “sales”." in duplicate.text
    [department] = _departments(app, team)
    assert _members(app, team, department.id) == {team.agents[0].id}

    support = submit_form(http, new_url, **_department_form(name="Support", public_name="Help"))
    assert support.status_code == 200
    support_id = _departments(app, team)[1].id
    renamed = submit_form(http, manage_url(server, team, f"department/edit/?id={support_id}"),
                         **_department_form(name="SALES", public_name="Help"))
    assert "There is already a department called “SALES”." in renamed.text
    assert [d.name for d in _departments(app, team)] == ["Sales", "Support"]

    nameless = submit_form(http, new_url, **_department_form(name="Billing", public_name="   "))
    assert "Enter the name visitors see, 1 to 80 characters." in nameless.text
    assert [d.name for d in _departments(app, team)] == ["Sales", "Support"]

    bogus_member = submit_form(http, new_url, **_department_form(name="Billing", members=[999999]))
    assert "&#39;999999&#39; is not a valid choice for this field." in bogus_member.text
    assert [d.name for d in _departments(app, team)] == ["Sales", "Support"]


def test_channel_modes_are_created_edited_and_not_duplicated(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    new_url = manage_url(server, team, "channelmode/new/")
    submit_form(http, new_url, channel="sms", reception_mode="bot_only")
    submit_form(http, new_url, channel="web", reception_mode="human_first")
    stored = {c.channel: c.reception_mode for c in _query(app, team, select(ChannelMode))}
    assert stored == {"sms": "bot_only", "web": "human_first"}

    again = submit_form(http, new_url, channel="sms", reception_mode="human_only")
    assert "Already exists." in again.text
    bogus = submit_form(http, new_url, channel="fax", reception_mode="human_only")
    assert "Not a valid choice" in bogus.text

    edited = submit_form(http, manage_url(server, team, "channelmode/edit/?id=sms"), reception_mode="bot_first")
    assert edited.status_code == 200
    stored = {c.channel: c.reception_mode for c in _query(app, team, select(ChannelMode))}
    assert stored == {"sms": "bot_first", "web": "human_first"}


def _settings_form(**overrides):
    fields = {"reception_mode": "bot_first", "department_picker": True, "default_max_concurrent": "7",
              "reopen_window_minutes": "60", "bot_handoff_after": "4",
              "prechat_name": "required", "prechat_email": "", "prechat_phone": "optional"}
    return {**fields, **overrides}


def test_reception_settings_are_saved_and_invalid_values_refused(server, app, team):
    http = login(server.url, team.slug, team.admins[0].email, team.owner.password)
    url = manage_url(server, team, "reception/")
    saved = submit_form(http, url, **_settings_form())
    assert saved.status_code == 200 and "Reception settings saved." in saved.text
    row = _settings(app, team)
    assert (row.reception_mode, row.department_picker, row.default_max_concurrent, row.reopen_window_minutes,
            row.bot_handoff_after) == ("bot_first", True, 7, 60, 4)
    assert row.prechat_fields == [{"field": "name", "required": True}, {"field": "phone", "required": False}]
    page = http.get(url).text  # the form shows what is stored
    assert 'value="7"' in page and '<option value="optional" selected>Optional</option>' in page

    refusals = {
        "default_max_concurrent": ("0", "Max concurrent conversations per agent must be a whole number from 1 to 100."),
        "bot_handoff_after": ("99", "The bot hands over after 1 to 20 unanswered messages"),
        "reception_mode": ("bogus", "Choose a reception mode"),
        "reopen_window_minutes": ("ten", "The reopen window must be a whole number of minutes from 0 to 10080"),
        "prechat_email": ("sometimes", "The email is either not asked, optional or required."),
    }
    for field, (value, message) in refusals.items():
        # Every other field valid and different from what is stored: none of it may be saved either.
        others = {"reception_mode": "human_first", "department_picker": False, "default_max_concurrent": "9"}
        refused = submit_form(http, url, **_settings_form(**{**others, field: value}))
        assert refused.status_code == 400, field
        assert message in refused.text, field
        assert f'value="{value}"' in refused.text or field.startswith(("reception_mode", "prechat")), field
        unchanged = _settings(app, team)
        assert (unchanged.reception_mode, unchanged.department_picker, unchanged.default_max_concurrent) == (
            "bot_first", True, 7), field

    submit_form(http, url, **_settings_form(prechat_name="", prechat_phone="", department_picker=False))
    row = _settings(app, team)
    assert (row.prechat_fields, row.department_picker) == ([], False)


def test_settings_page_links_to_the_reception_screens(server, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    page = http.get(f"{server.url}/t/{team.slug}/admin/").text
    for path in ("department/", "channelmode/", "reception/"):
        assert f'href="/t/{team.slug}/admin/manage/{path}"' in page


def _edit_member(http, server, tenant, user: User, max_concurrent):
    return submit_form(http, manage_url(server, tenant, f"team/edit/?id={user.id}"), display_name=user.name,
                      role=user.role, is_enabled=True, max_concurrent=max_concurrent)


def test_an_agents_own_max_concurrent_is_set_cleared_and_checked(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    agent = team.agents[0]

    def stored():
        with app.app_context(), tenant_context(team.ref):
            return tenant_session().get(User, agent.id).max_concurrent

    _edit_member(http, server, team, agent, "3")
    assert stored() == 3
    listing = http.get(manage_url(server, team, "team/")).text
    assert "offline" in listing and "workspace default" in listing  # presence and capacity are listed

    for bad in ("0", "101"):
        refused = _edit_member(http, server, team, agent, bad)
        assert "Max concurrent conversations must be a whole number from 1 to 100" in refused.text, bad
        assert stored() == 3
    refused = _edit_member(http, server, team, agent, "many")
    assert "Not a valid integer value." in refused.text
    assert stored() == 3

    _edit_member(http, server, team, agent, "")
    assert stored() is None


RECEPTION_SCREENS = ("department/", "department/new/", "channelmode/", "channelmode/new/", "reception/",
                     "team/edit/?id=1")


def test_agents_and_other_tenants_cannot_reach_the_reception_screens(server, app, make_tenant, team):
    agent_http = login(server.url, team.slug, team.agents[0].email, team.agents[0].password)
    for path in RECEPTION_SCREENS:
        assert agent_http.get(manage_url(server, team, path), allow_redirects=False).status_code == 403, path
    token = csrf_token(agent_http.get(f"{server.url}/t/{team.slug}/console/").text)
    refused = agent_http.post(manage_url(server, team, "reception/"), allow_redirects=False,
                              data={"csrf_token": token, **_settings_form(default_max_concurrent="50")})
    assert refused.status_code == 403
    refused = agent_http.post(manage_url(server, team, "department/new/"), allow_redirects=False,
                              data={"csrf_token": token, **_department_form()})
    assert refused.status_code == 403
    assert _settings(app, team).default_max_concurrent == 5 and _departments(app, team) == []

    stranger = make_tenant()
    stranger_http = login(server.url, stranger.slug, stranger.owner.email, stranger.owner.password)
    for path in RECEPTION_SCREENS:
        response = stranger_http.get(manage_url(server, team, path), allow_redirects=False)
        assert_sent_to_login(response, team, path)

    anonymous = requests.get(manage_url(server, team, "reception/"), allow_redirects=False)
    assert_sent_to_login(anonymous, team)
