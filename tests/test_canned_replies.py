"""Canned replies: an agent's personal ones (CRUD over the socket, invisible and untouchable to
colleagues and other tenants), tenant-wide ones from the admin screen, and expansion with variables."""
from sqlalchemy import select

from saas.models import CannedReply
from tenants import tenant_context, tenant_session
from tests.clients import login, manage_url, submit_form
from tests.engagement_helpers import chatting
from tests.routing_helpers import configure


def _save(agent, **fields):
    return agent.call("canned:save", {"shortcut": "refund", "title": "Refund", "body": "Your refund is on its way.",
                                      **fields})


def _stored(app, tenant):
    with app.app_context(), tenant_context(tenant.ref):
        return sorted((r.owner_id, r.shortcut, r.body) for r in tenant_session().scalars(select(CannedReply)))


def test_personal_canned_replies_crud_and_isolation(server, app, make_tenant, clients):
    tenant, other = make_tenant(agents=2), make_tenant()
    ada, bo = clients.agent(server, tenant, tenant.agents[0]), clients.agent(server, tenant, tenant.agents[1])
    stranger = clients.agent(server, other)

    created = _save(ada, shortcut="/Refund ", body="Hi {{visitor_name}}, your refund is on its way.")
    assert created["ok"], created
    reply = created["reply"]
    assert (reply["scope"], reply["shortcut"]) == ("personal", "refund")
    changed = _save(ada, id=reply["id"], title="Refund sent", body="Refunded, {{visitor_name}}.")
    assert changed["reply"]["title"] == "Refund sent"
    assert [r["shortcut"] for r in ada.call("canned:list", {})["replies"]] == ["refund"]

    # A colleague and another tenant neither see nor change nor delete it.
    assert bo.call("canned:list", {})["replies"] == []
    assert stranger.call("canned:list", {})["replies"] == []
    for intruder in (bo, stranger):
        assert _save(intruder, id=reply["id"], body="hijacked")["error"]["code"] == "canned_reply_not_found"
        assert intruder.call("canned:delete", {"id": reply["id"]})["error"]["code"] == "canned_reply_not_found"
    # The same shortcut is fine for a colleague (their own scope), not twice for ada.
    assert _save(bo)["ok"]
    assert _save(ada)["error"]["code"] == "shortcut_taken"

    for bad, code in (({"shortcut": "no spaces"}, "invalid_shortcut"), ({"shortcut": ""}, "invalid_shortcut"),
                      ({"shortcut": "x" * 33}, "invalid_shortcut"), ({"title": " "}, "invalid_title"),
                      ({"title": "t" * 81}, "invalid_title"), ({"body": ""}, "invalid_text"),
                      ({"body": "b" * 5001}, "invalid_text"), ({"shortcut": 5}, "invalid_payload")):
        assert _save(ada, **bad)["error"]["code"] == code, bad
    assert _stored(app, tenant) == [(tenant.agents[0].id, "refund", "Refunded, {{visitor_name}}."),
                                    (tenant.agents[1].id, "refund", "Your refund is on its way.")]

    assert ada.call("canned:delete", {"id": reply["id"]})["ok"]
    assert ada.call("canned:list", {})["replies"] == []
    assert [r[0] for r in _stored(app, tenant)] == [tenant.agents[1].id]


def test_tenant_wide_replies_from_admin_expand_with_variables_and_personal_overrides(
        server, app, make_tenant, clients):
    tenant = make_tenant(agents=2)
    admin_http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    url = manage_url(server, tenant, "cannedreply/new/")
    saved = submit_form(admin_http, url, shortcut="hello", title="Greeting",
                        body="Hello {{visitor_name}} ({{visitor_email}}), {{agent_name}} here. {{unknown}}")
    assert saved.status_code == 200
    assert [r[1] for r in _stored(app, tenant)] == ["hello"], saved.text
    duplicate = submit_form(admin_http, url, shortcut="hello", title="Again", body="Again")
    assert "already in use" in duplicate.text
    bad = submit_form(admin_http, url, shortcut="Bad shortcut!", title="Bad", body="Bad")
    assert "A shortcut is 1-32" in bad.text
    assert [r[1] for r in _stored(app, tenant)] == ["hello"]
    # Agents cannot reach the admin screen.
    agent_http = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent_http.get(url, allow_redirects=False).status_code == 403

    configure(app, tenant, prechat_fields=[{"field": "name", "required": False},
                                           {"field": "email", "required": False}])
    agent = clients.agent(server, tenant, tenant.agents[0])
    visitor = clients.visitor(server, tenant)
    started = visitor.start(name="Grace Hopper", email="grace@example.com")
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    listed = agent.call("canned:list", {})["replies"]
    assert [(r["scope"], r["shortcut"]) for r in listed] == [("tenant", "hello")]
    expanded = agent.call("canned:expand", {"conversation_id": conversation_id, "shortcut": "/hello"})
    assert expanded["text"] == "Hello Grace Hopper (grace@example.com), Agent 0 here. {{unknown}}"

    # A personal reply with the same shortcut wins for its owner only.
    assert _save(agent, shortcut="hello", body="Hey {{visitor_name}}!")["ok"]
    assert [r["scope"] for r in agent.call("canned:list", {})["replies"]] == ["personal"]
    assert agent.call("canned:expand", {"conversation_id": conversation_id, "shortcut": "hello"})["text"] == \
        "Hey Grace Hopper!"
    colleague = clients.agent(server, tenant, tenant.agents[1])
    assert colleague.call("canned:expand", {"conversation_id": conversation_id, "shortcut": "hello"})["text"] \
        .startswith("Hello Grace Hopper")
    missing = agent.call("canned:expand", {"conversation_id": conversation_id, "shortcut": "nothing"})
    assert missing["error"]["code"] == "unknown_shortcut"


def test_expansion_uses_the_nickname_when_the_visitor_gave_no_name(server, make_tenant, clients):
    tenant = make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    assert _save(agent, shortcut="hi", body="Hi {{visitor_name}}{{visitor_email}}")["ok"]
    expanded = agent.call("canned:expand", {"conversation_id": conversation_id, "shortcut": "hi"})
    assert expanded["text"] == f"Hi {visitor.nickname}"
    other = make_tenant()
    stranger = clients.agent(server, other)
    assert stranger.call("canned:expand", {"conversation_id": conversation_id, "shortcut": "hi"})["error"]["code"] \
        in ("conversation_not_found", "unknown_shortcut")
