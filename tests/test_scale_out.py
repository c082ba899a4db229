"""Production mode: several server processes share Redis as the Socket.IO message queue."""
import pytest


# Scale-out is the production mode: PostgreSQL + Redis.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_visitor_on_one_process_and_agent_on_another_chat_both_ways(start_server, make_tenant, clients):
    first, second = start_server(name="web1"), start_server(name="web2")
    tenant = make_tenant()
    agent = clients.agent(second, tenant)
    visitor = clients.visitor(first, tenant)

    sent = visitor.send("hello from process one")
    assert sent["ok"]
    pushed = agent.next_event()
    assert pushed["message"]["body"] == "hello from process one"

    conversation_id = pushed["conversation"]["id"]
    for n in range(20):
        assert agent.send(conversation_id, f"reply {n}")["ok"]
    visitor.next_event()  # its own message echoed to its room
    assert [visitor.next_event()["body"] for _ in range(20)] == [f"reply {n}" for n in range(20)]

    # A second tab of the same visitor on the other process hears the conversation too.
    other_tab = clients.visitor(second, tenant, token=visitor.token)
    visitor.send("from tab one")
    assert other_tab.next_event()["body"] == "from tab one"
    assert len(other_tab.history()["messages"]) == 22
