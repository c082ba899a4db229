"""Automatic replies and business hours are configured in Flask-Admin by owners and admins, and
everything is validated: kinds, seconds (bounded), one reply per kind and scope, time zones,
schedules and holidays."""
import re

import pytest
from sqlalchemy import select

from saas.models import AutoReply, BusinessHours, Department
from tenants import tenant_context, tenant_session
from tests.clients import login, manage_url, submit_form


@pytest.fixture
def team(make_tenant):
    return make_tenant(agents=1, admins=1)


def _rows(app, tenant, model) -> list:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        rows = session.scalars(select(model).order_by(model.id)).all()
        session.expunge_all()
        return rows


def _reply(**overrides) -> dict:
    return {"kind": "agent_silent", "department": "__None", "is_enabled": True,
            "text": "An agent will be with you shortly.", "seconds": "30", **overrides}


def _assert_saved(response) -> None:
    assert response.status_code == 200 and "Record was successfully" in response.text, \
        re.findall(r'(?:invalid-feedback|alert)[^>]*>([^<]+)', response.text)


def test_an_admin_sets_replies_for_the_workspace_and_a_department(server, app, team):
    with app.app_context(), tenant_context(team.ref):
        session = tenant_session()
        session.add(Department(name="Sales", public_name="Sales"))
        session.commit()
        sales_id = session.scalar(select(Department.id))
    http = login(server.url, team.slug, team.admins[0].email, team.admins[0].password)
    new_url = manage_url(server, team, "autoreply/new/")
    assert "Sales" in http.get(new_url).text  # departments are offered as scopes

    for fields in (_reply(), _reply(department=str(sales_id), seconds="5"),
                   _reply(kind="welcome", text=" Hi! ", seconds="")):
        _assert_saved(submit_form(http, new_url, **fields))
    rows = _rows(app, team, AutoReply)
    assert [(r.kind, r.department_id, r.seconds, r.text, r.is_enabled) for r in rows] == [
        ("agent_silent", None, 30, "An agent will be with you shortly.", True),
        ("agent_silent", sales_id, 5, "An agent will be with you shortly.", True),
        ("welcome", None, None, "Hi!", True),
    ]
    listing = http.get(manage_url(server, team, "autoreply/"))
    assert "workspace" in listing.text and "Sales" in listing.text

    edit_url = manage_url(server, team, f"autoreply/edit/?id={rows[0].id}")
    _assert_saved(submit_form(http, edit_url, **_reply(is_enabled=False, seconds="45")))
    assert (_rows(app, team, AutoReply)[0].is_enabled, _rows(app, team, AutoReply)[0].seconds) == (False, 45)


def test_one_reply_per_kind_and_scope(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    new_url = manage_url(server, team, "autoreply/new/")
    submit_form(http, new_url, **_reply())
    duplicate = submit_form(http, new_url, **_reply(text="Another"))
    assert "already set for that scope" in duplicate.text
    assert len(_rows(app, team, AutoReply)) == 1


def test_agents_cannot_configure_automatic_replies(server, app, team):
    http = login(server.url, team.slug, team.agents[0].email, team.agents[0].password)
    assert http.get(manage_url(server, team, "autoreply/new/")).status_code == 403
    assert http.get(manage_url(server, team, "businesshours/new/")).status_code == 403


def _hours(**overrides) -> dict:
    return {"department": "__None", "is_enabled": True, "time_zone": "Europe/Paris",
            "schedule_text": "mon-fri 09:00-17:00\nsat 10:00-12:00", "holidays_text": "2026-12-25\n2026-01-01",
            **overrides}


def test_an_admin_sets_business_hours(server, app, team):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    _assert_saved(submit_form(http, manage_url(server, team, "businesshours/new/"), **_hours()))
    (hours,) = _rows(app, team, BusinessHours)
    assert hours.time_zone == "Europe/Paris" and hours.department_id is None
    assert hours.schedule["mon"] == [["09:00", "17:00"]] and hours.schedule["sat"] == [["10:00", "12:00"]]
    assert hours.holidays == ["2026-01-01", "2026-12-25"]
    edit = http.get(manage_url(server, team, f"businesshours/edit/?id={hours.id}")).text
    assert "mon 09:00-17:00" in edit and "2026-12-25" in edit  # shown back as written
    assert "mon 09:00-17:00" in http.get(manage_url(server, team, "businesshours/")).text


@pytest.mark.parametrize("screen, fields, message", [
    ("autoreply", _reply(seconds="0"), "Seconds are 1 to 604800"),
    ("autoreply", _reply(seconds="604801"), "Seconds are 1 to 604800"),
    ("autoreply", _reply(seconds="-5"), "Seconds are 1 to 604800"),
    ("autoreply", _reply(seconds=""), "This reply waits: set its seconds."),
    ("autoreply", _reply(kind="welcome", seconds="10"), "This reply is sent at once"),
    ("autoreply", _reply(text="   "), "The message is 1 to 2000 characters."),
    ("autoreply", _reply(text="x" * 2001), "The message is 1 to 2000 characters."),
    ("autoreply", _reply(kind="birthday"), "Not a valid choice"),
    ("autoreply", _reply(seconds="soon"), "Not a valid integer value"),
    ("businesshours", _hours(time_zone="Mars/Olympus"), "Unknown time zone"),
    ("businesshours", _hours(time_zone=""), "This field is required."),
    ("businesshours", _hours(schedule_text="weekdays 9-5"), "Line 1"),
    ("businesshours", _hours(schedule_text="mon 09:00-17:00\ntue 17:00-17:00"), "Line 2"),
    ("businesshours", _hours(holidays_text="christmas"), "is not a date"),
])
def test_bad_settings_are_refused_with_a_clear_error_and_nothing_stored(server, app, team, screen, fields, message):
    http = login(server.url, team.slug, team.owner.email, team.owner.password)
    refused = submit_form(http, manage_url(server, team, f"{screen}/new/"), **fields)
    assert refused.status_code == 200 and message in refused.text
    assert _rows(app, team, AutoReply) == [] and _rows(app, team, BusinessHours) == []
