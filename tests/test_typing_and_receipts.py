"""Typing indicators (the visitor's draft previewed to agents; agents typing shown without text)
and read receipts both ways, over real Socket.IO connections on both backends."""
from saas.models import Conversation
from tenants import tenant_context, tenant_session
from tests.engagement_helpers import Heard, chatting


def test_visitor_draft_reaches_own_tenants_agents_only(server, make_tenant, clients):
    tenant, other = make_tenant(), make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    stranger_agent = clients.agent(server, other)
    other_visitor = clients.visitor(server, tenant)
    previews, stranger_hears, other_visitor_hears = (
        Heard(agent, "typing"), Heard(stranger_agent, "typing"), Heard(other_visitor, "typing"))

    assert visitor.call("typing", {"draft": "I would like a ref"})["ok"]
    assert previews.next() == {"conversation_id": conversation_id, "from": "visitor", "typing": True,
                               "draft": "I would like a ref"}
    assert visitor.call("typing", {"draft": ""})["ok"]  # stopped: the preview goes away
    assert previews.next() == {"conversation_id": conversation_id, "from": "visitor", "typing": False, "draft": ""}
    stranger_hears.assert_none()
    other_visitor_hears.assert_none()


def test_typing_refused_without_an_open_conversation_or_over_the_length_limit(server, make_tenant, clients):
    tenant = make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    previews = Heard(agent, "typing")
    newcomer = clients.visitor(server, tenant)
    assert newcomer.call("typing", {"draft": "hi"})["error"]["code"] == "conversation_not_open"
    assert visitor.call("typing", {"draft": "x" * 5001})["error"]["code"] == "draft_too_long"
    assert visitor.call("typing", {"draft": 5})["error"]["code"] == "invalid_payload"
    assert agent.call("conversation:close", {"conversation_id": conversation_id})["ok"]
    assert visitor.call("typing", {"draft": "still here"})["error"]["code"] == "conversation_not_open"
    assert agent.call("typing", {"conversation_id": conversation_id, "typing": True})["error"]["code"] == \
        "conversation_not_open"
    previews.assert_none()


def test_agent_typing_reaches_the_visitor_without_text(server, make_tenant, clients):
    tenant, other = make_tenant(), make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    heard = Heard(visitor, "typing")
    bystander = clients.visitor(server, tenant)
    bystander_hears = Heard(bystander, "typing")
    assert agent.call("typing", {"conversation_id": conversation_id, "typing": True})["ok"]
    pushed = heard.next()
    assert pushed == {"conversation_id": conversation_id, "typing": True, "name": tenant.agents[0].name}
    assert agent.call("typing", {"conversation_id": conversation_id, "typing": False})["ok"]
    assert heard.next()["typing"] is False
    bystander_hears.assert_none()

    # Another tenant's agent cannot reach this conversation (its id does not exist over there).
    stranger = clients.agent(server, other)
    assert not stranger.call("typing", {"conversation_id": conversation_id, "typing": True})["ok"]
    heard.assert_none()


def test_read_receipts_both_ways_are_pushed_and_persist(server, app, make_tenant, clients):
    tenant = make_tenant()
    agent, visitor, conversation_id = chatting(server, tenant, clients)
    agent_receipts, visitor_receipts = Heard(agent, "receipt:visitor"), Heard(visitor, "receipt:agents")
    agent.send(conversation_id, "Hi! How can I help?")
    agent.send(conversation_id, "Are you there?")

    seen = visitor.call("conversation:seen", {"seq": 2})
    assert seen["ok"] and seen["visitor_read_seq"] == 2 and seen["agents_read_seq"] == 0
    assert agent_receipts.next() == {"conversation_id": conversation_id, "visitor_read_seq": 2}
    # Never backwards, never past the last message.
    assert visitor.call("conversation:seen", {"seq": 1})["visitor_read_seq"] == 2
    assert visitor.call("conversation:seen", {"seq": 99})["visitor_read_seq"] == 3
    assert agent.open(conversation_id)["conversation"]["visitor_read_seq"] == 3

    assert agent.call("conversation:read", {"conversation_id": conversation_id, "seq": 1})["ok"]
    assert visitor_receipts.next() == {"conversation_id": conversation_id, "read_seq": 1}

    # A reload of either side shows the same state.
    again = clients.visitor(server, tenant, token=visitor.token)
    assert again.call("conversation:seen", {"seq": 0})["agents_read_seq"] == 1
    assert [c["visitor_read_seq"] for c in agent.conversations()] == [3]
    with app.app_context(), tenant_context(tenant.ref):
        assert tenant_session().get(Conversation, conversation_id).visitor_read_seq == 3
    assert visitor.call("conversation:seen", {"seq": -1})["error"]["code"] == "invalid_payload"
