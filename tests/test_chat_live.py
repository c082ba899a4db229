"""The first live chat, end to end, with real Socket.IO clients against a running server."""


def test_visitor_and_agent_chat_live_and_history_survives_reconnect(server, make_tenant, clients):
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)

    sent = visitor.send("  Hello, is anyone there?  ")
    assert sent["ok"] and sent["message"]["seq"] == 1
    assert sent["message"]["body"] == "Hello, is anyone there?"

    pushed = agent.next_event()
    conversation_id = pushed["conversation"]["id"]
    assert pushed["message"]["body"] == "Hello, is anyone there?"
    assert pushed["conversation"]["visitor"]["nickname"] == visitor.nickname
    assert visitor.next_event()["seq"] == 1  # the visitor's own other tabs hear it too

    [listed] = agent.conversations()
    assert listed["id"] == conversation_id and listed["unread"] == 1

    reply = agent.send(conversation_id, "Yes! How can I help?")
    assert reply["ok"] and reply["message"]["seq"] == 2
    heard = visitor.next_event()
    assert heard["body"] == "Yes! How can I help?" and heard["sender"]["type"] == "agent"

    # A reload: a new connection with the stored token sees the whole conversation.
    visitor.close()
    again = clients.visitor(server, tenant, token=visitor.token)
    assert again.nickname == visitor.nickname
    history = again.history()
    assert [m["body"] for m in history["messages"]] == ["Hello, is anyone there?", "Yes! How can I help?"]
    assert again.history(after_seq=1)["messages"][0]["seq"] == 2

    opened = agent.open(conversation_id)
    assert [m["seq"] for m in opened["messages"]] == [1, 2]
    assert agent.call("conversation:read", {"conversation_id": conversation_id, "seq": 2})["last_read_seq"] == 2
    assert agent.conversations()[0]["unread"] == 0


def test_duplicate_client_id_is_stored_once_and_acknowledged_with_the_stored_message(server, make_tenant, clients):
    tenant = make_tenant()
    agent = clients.agent(server, tenant)
    visitor = clients.visitor(server, tenant)

    first = visitor.send("only once", client_id="resend-0001")
    again = visitor.send("only once", client_id="resend-0001")
    assert first["ok"] and again["ok"] and again["duplicate"] is True
    assert again["message"]["id"] == first["message"]["id"]

    agent.next_event()
    agent.assert_no_event()  # the resend is not broadcast again
    conversation_id = first["message"]["conversation_id"]
    assert [m["body"] for m in agent.open(conversation_id)["messages"]] == ["only once"]

    posted = agent.send(conversation_id, "agent says hi", client_id="agent-msg-01")
    assert agent.send(conversation_id, "agent says hi", client_id="agent-msg-01")["duplicate"] is True
    assert [m["seq"] for m in agent.open(conversation_id)["messages"]] == [1, posted["message"]["seq"]]


def test_every_agent_of_the_tenant_sees_new_conversations_and_unread_counts_are_per_agent(
        server, make_tenant, clients):
    tenant = make_tenant(agents=2)
    ada = clients.agent(server, tenant, tenant.agents[0])
    bo = clients.agent(server, tenant, tenant.agents[1])
    visitor = clients.visitor(server, tenant)
    for text in ("one", "two", "three"):
        visitor.send(text)
    for agent in (ada, bo):
        assert [agent.next_event()["message"]["body"] for _ in range(3)] == ["one", "two", "three"]

    conversation_id = ada.conversations()[0]["id"]
    ada.call("conversation:read", {"conversation_id": conversation_id, "seq": 3})
    assert ada.conversations()[0]["unread"] == 0
    assert bo.conversations()[0]["unread"] == 3
