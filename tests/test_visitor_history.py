"""A second agent sees all of a visitor's conversations, with the bot and with another agent,
readable in full (both backends)."""
from tests.routing_helpers import configure, wait_for_state
from tests.tracking_helpers import public_id, view


def test_after_a_transfer_the_second_agent_reads_the_earlier_bot_and_agent_conversations(
        server, app, make_tenant, clients):
    tenant = make_tenant(agents=2)
    ada_person, bo_person = tenant.agents
    configure(app, tenant, reception_mode="bot_only", reopen_window_minutes=0)
    ada = clients.agent(server, tenant, ada_person)
    visitor = clients.visitor(server, tenant)
    view(visitor, "https://shop.example/returns", "Returns")

    # An earlier conversation with the bot, closed.
    assert visitor.send("What is your returns policy?")["ok"]
    with_bot = visitor.history()["conversation"]["id"]
    assert ada.call("conversation:close", {"conversation_id": with_bot})["ok"]

    # Then one with Ada, who transfers it to Bo.
    configure(app, tenant, reception_mode="human_only")
    assert visitor.send("Can a person help me?")["ok"]
    with_ada = wait_for_state(visitor, lambda s: s["handler"] == "agent" and s["conversation_id"] != with_bot)
    assert ada.send(with_ada["conversation_id"], "Hi, Ada here.")["ok"]
    bo = clients.agent(server, tenant, bo_person)
    moved = ada.call("conversation:transfer", {"conversation_id": with_ada["conversation_id"],
                                               "to_agent_id": bo_person.id, "note": "returns question"})
    assert moved["ok"], moved

    panel = bo.call("visitor:panel", {"conversation_id": with_ada["conversation_id"]})
    assert panel["ok"], panel
    listed = {c["id"]: c for c in panel["visitor"]["conversations"]}
    assert list(listed) == [with_ada["conversation_id"], with_bot]  # newest first
    assert listed[with_ada["conversation_id"]]["participants"] == [ada_person.name]
    assert listed[with_bot]["participants"] == ["Assistant (bot)"] and listed[with_bot]["status"] == "closed"
    assert panel["visitor"]["visitor_id"] == public_id(app, tenant, visitor.token)

    earlier = bo.call("visitor:transcript", {"conversation_id": with_bot})
    bodies = [(m["sender"]["type"], m["body"]) for m in earlier["messages"]]
    assert ("visitor", "What is your returns policy?") in bodies
    assert any(kind == "bot" for kind, _body in bodies)
    later = bo.call("visitor:transcript", {"conversation_id": with_ada["conversation_id"]})
    assert [(m["sender"]["name"], m["body"]) for m in later["messages"]][-2:] == \
        [(panel["visitor"]["nickname"], "Can a person help me?"), (ada_person.name, "Hi, Ada here.")]
