"""Reception and routing end to end, with real Socket.IO clients against a live server."""
import time

from saas.services import bot
from tests.routing_helpers import (
    add_department, configure, conversation, events, messages_until, presence, wait_for_state,
)


def _bodies(messages, sender_type):
    return [m["body"] for m in messages if m["sender"]["type"] == sender_type]


def test_human_only_queues_until_an_agent_comes_online_then_assigns_in_order(server, app, make_tenant, clients):
    tenant = make_tenant()
    first, second = clients.visitor(server, tenant), clients.visitor(server, tenant)
    assert first.send("first")["ok"] and second.send("second")["ok"]
    assert wait_for_state(first, lambda s: s["position"] == 1)["agents_online"] == 0
    assert wait_for_state(second, lambda s: s["position"] == 2)["handler"] == "queue"

    clients.agent(server, tenant)  # opening the console makes the agent online
    assigned = wait_for_state(first, lambda s: s["handler"] == "agent")
    assert assigned["agent_name"] == "Agent 0" and assigned["position"] is None
    wait_for_state(second, lambda s: s["handler"] == "agent")
    kinds = [(kind, actor) for kind, actor, _ in events(app, tenant, assigned["conversation_id"])]
    assert kinds == [("created", "visitor"), ("queued", "system"), ("assigned", "system")]
    assert events(app, tenant, assigned["conversation_id"])[-1][2]["waited_seconds"] > 0


def test_bot_only_answers_and_never_hands_over(server, app, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, reception_mode="bot_only")
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    visitor.send("What are your opening hours?")
    got = messages_until(visitor, lambda m: m["body"] == bot.FALLBACK_TEXT)
    assert _bodies(got, "bot") == [bot.GREETING, bot.FALLBACK_TEXT]
    visitor.send("Can I talk to a human please?")
    messages_until(visitor, lambda m: m["body"] == bot.NO_HUMANS)
    assert visitor.call("human:request", {})["ok"]
    messages_until(visitor, lambda m: m["body"] == bot.NO_HUMANS)

    conversation_id = got[0]["conversation_id"]
    held = conversation(app, tenant, conversation_id)
    assert (held.handler, held.assigned_agent_id, held.waiting_since) == ("bot", None, None)
    assert agent.conversations()[0]["handler"] == "bot"


def test_bot_first_hands_over_after_n_unanswered_questions_with_the_whole_transcript(
        server, app, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, reception_mode="bot_first", bot_handoff_after=2)
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)
    visitor.send("Where is my parcel?")
    messages_until(visitor, lambda m: m["body"] == bot.FALLBACK_TEXT)
    visitor.send("It was due yesterday")
    messages_until(visitor, lambda m: m["body"] == bot.HANDING_OVER)
    state = wait_for_state(visitor, lambda s: s["handler"] == "agent")
    assert state["agent_name"] == "Agent 0"

    transcript = agent.open(state["conversation_id"])["messages"]
    assert [(m["sender"]["type"], m["body"]) for m in transcript] == [
        ("bot", bot.GREETING), ("visitor", "Where is my parcel?"), ("bot", bot.FALLBACK_TEXT),
        ("visitor", "It was due yesterday"), ("bot", bot.HANDING_OVER),
    ]
    kinds = [kind for kind, _, _ in events(app, tenant, state["conversation_id"])]
    assert kinds == ["created", "bot_started", "handed_over", "assigned"]
    assert events(app, tenant, state["conversation_id"])[2][1] == "bot"


def test_bot_first_hands_over_on_the_button_and_on_a_keyword(server, app, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, reception_mode="bot_first", bot_handoff_after=5)
    clients.agent(server, tenant)
    by_button, by_keyword = clients.visitor(server, tenant), clients.visitor(server, tenant)
    by_button.send("hello")
    messages_until(by_button, lambda m: m["body"] == bot.FALLBACK_TEXT)
    assert by_button.call("human:request", {})["ok"]
    wait_for_state(by_button, lambda s: s["handler"] == "agent")

    by_keyword.send("I want to speak to a real person")
    wait_for_state(by_keyword, lambda s: s["handler"] == "agent")


def test_human_first_uses_the_bot_while_agents_are_full_and_returns_to_a_human(server, app, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, reception_mode="human_first", default_max_concurrent=1)
    agent = clients.agent(server, tenant)
    first = clients.visitor(server, tenant)
    first.send("hi")
    served = wait_for_state(first, lambda s: s["handler"] == "agent")

    second = clients.visitor(server, tenant)
    second.send("hello?")
    holding = wait_for_state(second, lambda s: s["handler"] == "bot" and s["position"] == 1)
    messages_until(second, lambda m: m["body"] == bot.WAITING_WITH_BOT)
    second.send("what about returns?")  # the bot helps meanwhile
    messages_until(second, lambda m: m["body"] == bot.FALLBACK_TEXT)

    assert agent.call("conversation:close", {"conversation_id": served["conversation_id"]})["ok"]
    back = wait_for_state(second, lambda s: s["handler"] == "agent")
    assert back["conversation_id"] == holding["conversation_id"] and back["agent_name"] == "Agent 0"


def test_when_the_last_agent_goes_offline_the_queue_keeps_its_places(server, app, make_tenant, clients):
    tenant = make_tenant(agents=2)
    configure(app, tenant, default_max_concurrent=1)
    first_agent = clients.agent(server, tenant, tenant.agents[0])
    served, waiting = clients.visitor(server, tenant), clients.visitor(server, tenant)
    served.send("one")
    wait_for_state(served, lambda s: s["handler"] == "agent")
    waiting.send("two")
    wait_for_state(waiting, lambda s: s["position"] == 1 and s["agents_online"] == 1)

    assert first_agent.call("presence:set", {"state": "offline"})["presence"] == "offline"
    state = wait_for_state(waiting, lambda s: s["agents_online"] == 0)
    assert state["position"] == 1 and state["handler"] == "queue"
    # The offline agent keeps the conversation already in hand; a colleague coming online takes the queue.
    assert conversation(app, tenant, served.history()["conversation"]["id"]).assigned_agent_id == tenant.agents[0].id
    clients.agent(server, tenant, tenant.agents[1])
    assert wait_for_state(waiting, lambda s: s["handler"] == "agent")["agent_name"] == "Agent 1"


def test_departments_and_the_prechat_form_route_and_validate(server, app, make_tenant, clients):
    tenant, stranger = make_tenant(agents=2), make_tenant()
    for n in range(5):
        add_department(app, stranger, f"Elsewhere {n}")
    configure(app, tenant, department_picker=True,
              prechat_fields=[{"field": "name", "required": True}, {"field": "email", "required": False}])
    support = add_department(app, tenant, "Support", [tenant.agents[1]], description="Help with orders")
    sales = add_department(app, tenant, "Sales", [tenant.agents[0]])
    hidden = add_department(app, tenant, "Internal", [tenant.agents[0]], is_hidden=True)
    clients.agent(server, tenant, tenant.agents[0])
    clients.agent(server, tenant, tenant.agents[1])

    visitor = clients.visitor(server, tenant)
    assert visitor.welcome["department_picker"] is True
    assert [d["name"] for d in visitor.welcome["departments"]] == ["Sales", "Support"]
    assert visitor.welcome["prechat_fields"][0] == {"field": "name", "required": True}

    refused = [
        (visitor.send("hi before the form"), "prechat_required"),
        (visitor.start(hidden, name="Ada"), "unknown_department"),
        (visitor.start(5, name="Ada"), "unknown_department"),  # an id that exists only in the other tenant
        (visitor.start(support), "prechat_required"),
        (visitor.start(support, name="Ada", email="nope"), "invalid_prechat"),
        (visitor.start(support, name="Ada", phone="+47 555 0100"), "invalid_prechat"),  # not asked
        (visitor.start(support, name="A" * 81), "invalid_prechat"),
    ]
    assert [(r["ok"], r["error"]["code"]) for r, _ in refused] == [(False, code) for _, code in refused]
    assert visitor.history()["conversation"] is None  # nothing was created

    started = visitor.start(support, name="Ada Lovelace", email="ada@example.test")
    assert started["ok"] and started["conversation"]["department_id"] == support
    assert started["conversation"]["visitor"]["name"] == "Ada Lovelace"
    assert wait_for_state(visitor, lambda s: s["handler"] == "agent")["agent_name"] == "Agent 1"
    assert visitor.start(sales, name="Ada")["conversation"]["id"] == started["conversation"]["id"]  # still open


def test_transfer_to_an_agent_with_an_internal_note_and_to_a_department(server, app, make_tenant, clients):
    tenant, stranger = make_tenant(agents=3), make_tenant(agents=6)
    billing = add_department(app, tenant, "Billing", [tenant.agents[2]])
    ada, bo = clients.agent(server, tenant, tenant.agents[0]), clients.agent(server, tenant, tenant.agents[1])
    visitor = clients.visitor(server, tenant)
    visitor.send("My invoice is wrong")
    conversation_id = wait_for_state(visitor, lambda s: s["agent_name"] == "Agent 0")["conversation_id"]

    refused = {
        "offline": ada.call("conversation:transfer", {"conversation_id": conversation_id,
                                                      "to_agent_id": tenant.agents[2].id}),
        "stranger": ada.call("conversation:transfer", {"conversation_id": conversation_id,
                                                       "to_agent_id": stranger.agents[5].id}),
        "both": ada.call("conversation:transfer", {"conversation_id": conversation_id, "to_agent_id": 2,
                                                   "to_department_id": billing}),
        "not mine": bo.call("conversation:transfer", {"conversation_id": conversation_id, "to_agent_id": 2}),
    }
    assert {k: r["error"]["code"] for k, r in refused.items()} == {
        "offline": "agent_not_online", "stranger": "agent_not_found", "both": "invalid_transfer",
        "not mine": "not_your_conversation"}
    assert conversation(app, tenant, conversation_id).assigned_agent_id == tenant.agents[0].id

    moved = ada.call("conversation:transfer", {"conversation_id": conversation_id, "to_agent_id": tenant.agents[1].id,
                                               "note": "VIP customer, be nice"})
    assert moved["ok"] and moved["conversation"]["assigned_agent_id"] == tenant.agents[1].id
    assert wait_for_state(visitor, lambda s: s["agent_name"] == "Agent 1")
    assert all("VIP" not in m["body"] for m in visitor.history()["messages"])  # the note is internal
    transferred = [e for e in events(app, tenant, conversation_id) if e[0] == "transferred"]
    assert transferred == [("transferred", "agent", {"from_agent_id": tenant.agents[0].id,
                                                     "to_agent_id": tenant.agents[1].id,
                                                     "note": "VIP customer, be nice"})]

    to_billing = bo.call("conversation:transfer", {"conversation_id": conversation_id, "to_department_id": billing})
    assert to_billing["ok"] and to_billing["conversation"]["department_id"] == billing
    assert wait_for_state(visitor, lambda s: s["position"] == 1)["agents_online"] == 0
    clients.agent(server, tenant, tenant.agents[2])
    assert wait_for_state(visitor, lambda s: s["handler"] == "agent")["agent_name"] == "Agent 2"


def test_close_then_reopen_within_the_window_returns_to_the_same_agent(server, app, make_tenant, clients):
    tenant = make_tenant(agents=2)
    first_agent = clients.agent(server, tenant, tenant.agents[0])
    visitor = clients.visitor(server, tenant)
    visitor.send("hello")
    conversation_id = wait_for_state(visitor, lambda s: s["agent_name"] == "Agent 0")["conversation_id"]
    clients.agent(server, tenant, tenant.agents[1])  # less loaded now, but the visitor returns to Agent 0

    assert first_agent.call("conversation:close", {"conversation_id": conversation_id})["ok"]
    assert wait_for_state(visitor, lambda s: s["status"] == "closed")
    assert visitor.send("one more thing")["message"]["conversation_id"] == conversation_id
    assert wait_for_state(visitor, lambda s: s["status"] == "open")["agent_name"] == "Agent 0"
    assert [k for k, _, _ in events(app, tenant, conversation_id)][-3:] == ["closed", "reopened", "assigned"]

    configure(app, tenant, reopen_window_minutes=0)
    first_agent.call("conversation:close", {"conversation_id": conversation_id})
    later = visitor.send("a new question")
    assert later["ok"] and later["message"]["conversation_id"] != conversation_id


def test_manual_departments_wait_for_an_agent_to_pick(server, app, make_tenant, clients):
    tenant = make_tenant(agents=3)
    configure(app, tenant, department_picker=True)
    vip = add_department(app, tenant, "VIP", [tenant.agents[0], tenant.agents[1]], assignment="manual")
    ada = clients.agent(server, tenant, tenant.agents[0])
    bo = clients.agent(server, tenant, tenant.agents[1])
    outsider = clients.agent(server, tenant, tenant.agents[2])
    visitor = clients.visitor(server, tenant)
    conversation_id = visitor.start(vip)["conversation"]["id"]
    assert wait_for_state(visitor, lambda s: s["position"] == 1)["handler"] == "queue"

    assert outsider.call("conversation:pick", {"conversation_id": conversation_id})["error"]["code"] == "not_in_department"
    assert bo.call("conversation:pick", {"conversation_id": conversation_id})["ok"]
    assert ada.call("conversation:pick", {"conversation_id": conversation_id})["error"]["code"] == "already_assigned"
    assert wait_for_state(visitor, lambda s: s["handler"] == "agent")["agent_name"] == "Agent 1"
    assert events(app, tenant, conversation_id)[-1][:2] == ("assigned", "agent")


def test_presence_goes_away_only_after_the_grace_period_and_comes_back(start_server, app, make_tenant, clients):
    server = start_server({"SWITCHBOARD_PRESENCE_GRACE_SECONDS": "0.6"})
    tenant = make_tenant()
    agent = tenant.agents[0]
    console = clients.agent(server, tenant)
    assert presence(app, tenant, agent) == "online"

    console.close()  # a reload: the new console arrives within the grace period
    console = clients.agent(server, tenant)
    time.sleep(1.0)
    assert presence(app, tenant, agent) == "online"

    console.close()
    deadline = time.monotonic() + 5
    while presence(app, tenant, agent) != "away" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert presence(app, tenant, agent) == "away"
    console = clients.agent(server, tenant)
    assert presence(app, tenant, agent) == "online"  # away was automatic, so the console brings them back

    assert console.call("presence:set", {"state": "away"})["presence"] == "away"
    console.close()
    clients.agent(server, tenant)
    assert presence(app, tenant, agent) == "away"  # a chosen away survives reconnecting
    assert clients.agent(server, tenant).call("presence:set", {"state": "busy"})["error"]["code"] == "invalid_presence"


def test_raising_an_agents_capacity_in_the_admin_assigns_a_waiting_visitor_at_once(server, app, make_tenant, clients):
    from tests.clients import login
    from tests.test_team_admin import _edit

    tenant = make_tenant()
    configure(app, tenant, default_max_concurrent=1)
    clients.agent(server, tenant)
    served, waiting = clients.visitor(server, tenant), clients.visitor(server, tenant)
    served.send("one")
    wait_for_state(served, lambda s: s["handler"] == "agent")
    waiting.send("two")
    wait_for_state(waiting, lambda s: s["position"] == 1)

    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    agent = tenant.agents[0]
    _edit(owner, server, tenant, agent.id, display_name=agent.name, role="agent", max_concurrent="2")
    assert wait_for_state(waiting, lambda s: s["handler"] == "agent")["agent_name"] == agent.name
