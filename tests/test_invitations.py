"""Proactive invitations on both backends: an agent invites a browsing or queuing visitor, the
widget is told, accepting gives the conversation to that agent; declines and ignores are recorded;
admins' automatic rules fire at most once per visitor per period, across server processes."""
from datetime import timedelta

from sqlalchemy import update

from saas.models import Invitation, utcnow
from saas.services import invitations
from tenants import tenant_context, tenant_session
from tests.clients import manage_url, login, submit_form
from tests.routing_helpers import add_department, configure, conversation, wait_for_state
from tests.tracking_helpers import (
    GOOGLE_REFERRER, invitations_of, next_matching, public_id, view, visitor_row, watch,
)

SITE = "https://shop.example"


def _visitor(server, app, tenant, clients, url=f"{SITE}/"):
    visitor = clients.visitor(server, tenant)
    offers = watch(visitor, "invitation")
    view(visitor, url, "Home")
    return visitor, offers, public_id(app, tenant, visitor.token)


def test_an_agent_invites_a_browsing_visitor_who_accepts_and_gets_that_agent(server, app, make_tenant, clients):
    tenant = make_tenant(agents=2)
    first, inviter = tenant.agents
    clients.agent(server, tenant, first)  # online and idle: automatic assignment would pick this one
    agent = clients.agent(server, tenant, inviter)
    updates = watch(agent, "invitation:updated")
    visitor, offers, visitor_id = _visitor(server, app, tenant, clients)

    sent = agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "Need a hand with sizes?"})
    assert sent["ok"], sent
    offer = offers.get(timeout=10)
    assert (offer["message"], offer["agent_name"], offer["status"]) == ("Need a hand with sizes?", inviter.name,
                                                                        "pending")
    again = agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "Hello?"})
    assert again["error"]["code"] == "already_invited", again
    # A reload shows the pending invitation again.
    assert view(visitor, f"{SITE}/tents", "Tents")["invitation"]["id"] == offer["id"]

    accepted = visitor.call("invitation:answer", {"invitation_id": offer["id"], "answer": "accept"})
    assert accepted["ok"], accepted
    assert (accepted["state"]["handler"], accepted["state"]["agent_name"]) == ("agent", inviter.name)
    conversation_id = accepted["invitation"]["conversation_id"]
    assert conversation(app, tenant, conversation_id).assigned_agent_id == inviter.id
    assert next_matching(updates, lambda u: u["status"] == "accepted")["conversation_id"] == conversation_id
    assert visitor.call("invitation:answer", {"invitation_id": offer["id"], "answer": "decline"})["error"]["code"] \
        == "invitation_answered"
    # Chatting now: no more invitations.
    assert agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "hi"})["error"]["code"] == \
        "already_chatting"


def test_declines_and_ignores_are_recorded_and_answers_are_the_visitors_own(server, app, make_tenant, clients):
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    declining, declining_offers, declining_id = _visitor(server, app, tenant, clients)
    ignoring, ignoring_offers, ignoring_id = _visitor(server, app, tenant, clients)
    for visitor_id in (declining_id, ignoring_id):
        assert agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "Hi there"})["ok"]
    declined_offer, ignored_offer = declining_offers.get(timeout=10), ignoring_offers.get(timeout=10)

    # Nobody answers someone else's invitation.
    stolen = declining.call("invitation:answer", {"invitation_id": ignored_offer["id"], "answer": "accept"})
    assert stolen["error"]["code"] == "invitation_not_found", stolen
    assert declining.call("invitation:answer", {"invitation_id": declined_offer["id"], "answer": "maybe"}
                          )["error"]["code"] == "invalid_answer"
    assert declining.call("invitation:answer", {"invitation_id": declined_offer["id"], "answer": "decline"})["ok"]
    assert ignoring.call("invitation:answer", {"invitation_id": ignored_offer["id"], "answer": "ignore"})["ok"]
    assert [i.status for i in invitations_of(app, tenant, visitor_row(app, tenant, declining_id).id)] == ["declined"]
    assert [i.status for i in invitations_of(app, tenant, visitor_row(app, tenant, ignoring_id).id)] == ["ignored"]

    # A widget that went away never answers: after the answer window the invitation counts as ignored.
    assert agent.call("visitor:invite", {"visitor_id": declining_id, "message": "Still there?"})["ok"]
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = visitor_row(app, tenant, declining_id)
        invitations.expire_unanswered(session, visitor, now=utcnow() + timedelta(minutes=3))
        session.commit()
    assert [i.status for i in invitations_of(app, tenant, visitor_row(app, tenant, declining_id).id)] == \
        ["declined", "ignored"]


def test_a_queuing_visitor_accepting_is_taken_out_of_the_queue_by_the_agent(server, app, make_tenant, clients):
    tenant = make_tenant()
    manual = add_department(app, tenant, "Sales", [tenant.agents[0]], assignment="manual")
    agent = clients.agent(server, tenant)
    visitor, offers, visitor_id = _visitor(server, app, tenant, clients)
    started = visitor.start(department_id=manual)
    assert started["ok"] and started["state"]["handler"] == "queue", started
    live = agent.call("visitors:live", {})["visitors"]
    assert [(row["visitor_id"], row["state"]) for row in live] == [(visitor_id, "queuing")]

    assert agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "I can help now"})["ok"]
    offer = offers.get(timeout=10)
    accepted = visitor.call("invitation:answer", {"invitation_id": offer["id"], "answer": "accept"})
    assert accepted["invitation"]["conversation_id"] == started["conversation"]["id"]
    wait_for_state(visitor, lambda s: s["handler"] == "agent")
    assert conversation(app, tenant, started["conversation"]["id"]).assigned_agent_id == tenant.agents[0].id


def test_an_agent_without_a_free_slot_or_offline_cannot_invite(server, app, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, default_max_concurrent=1)
    agent = clients.agent(server, tenant)
    busy = clients.visitor(server, tenant)
    assert busy.send("hi")["ok"]  # assigned to the only agent: now at capacity
    _visitor_client, _offers, visitor_id = _visitor(server, app, tenant, clients)
    full = agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "hello"})
    assert full["error"]["code"] == "at_capacity", full
    assert agent.call("presence:set", {"state": "away"})["ok"]
    away = agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "hello"})
    assert away["error"]["code"] == "not_online", away
    assert agent.call("visitor:invite", {"visitor_id": visitor_id, "message": "  "})["error"]["code"] == \
        "invalid_invitation"


def _add_rule(server, tenant, **fields):
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    return submit_form(http, manage_url(server, tenant, "invitationrule/new/"), **{
        "name": "Boots from search", "message": "Looking for boots? Ask us about sizes.", "url_pattern": "",
        "min_seconds_on_page": "0", "min_visits": "1", "source_kind": "", "search_engine": "", "utm_campaign": "",
        "is_enabled": True, **fields})


def test_an_automatic_rule_fires_once_per_period_across_processes(server, start_server, app, make_tenant, clients):
    tenant = make_tenant()
    refused = _add_rule(server, tenant, url_pattern="*a*b*c*d*e*f*")
    assert "at most 5" in refused.text
    assert _add_rule(server, tenant, url_pattern="*/boots*", source_kind="search", search_engine="Google").ok

    visitor = clients.visitor(server, tenant)
    offers = watch(visitor, "invitation")
    assert view(visitor, f"{SITE}/tents", "Tents", GOOGLE_REFERRER)["invitation"] is None  # wrong page
    assert offers.empty()
    view(visitor, f"{SITE}/boots/scree-mid", "Scree Mid Boots", f"{SITE}/tents")
    offer = offers.get(timeout=10)
    assert (offer["message"], offer["agent_name"]) == ("Looking for boots? Ask us about sizes.", None)
    assert visitor.call("invitation:answer", {"invitation_id": offer["id"], "answer": "decline"})["ok"]

    # Within the period: not again, here nor through another server process.
    view(visitor, f"{SITE}/boots", "Boots", f"{SITE}/boots/scree-mid")
    other_process = start_server(name="second")
    same_visitor = clients.visitor(other_process, tenant, token=visitor.token)
    later_offers = watch(same_visitor, "invitation")
    view(same_visitor, f"{SITE}/boots?colour=brown", "Boots", f"{SITE}/boots")
    assert offers.empty() and later_offers.empty()
    visitor_id = visitor_row(app, tenant, public_id(app, tenant, visitor.token)).id
    assert len(invitations_of(app, tenant, visitor_id)) == 1

    # Once the period (60 minutes by default) is over, the rule may invite again.
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.execute(update(Invitation).values(created_at=utcnow() - timedelta(minutes=61)))
        session.commit()
    view(same_visitor, f"{SITE}/boots?colour=black", "Boots", f"{SITE}/boots")
    assert later_offers.get(timeout=10)["rule_id"] == offer["rule_id"]
    assert len(invitations_of(app, tenant, visitor_id)) == 2
