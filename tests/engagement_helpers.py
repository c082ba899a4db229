"""Shared by the typing, canned-reply and rating tests: hearing any event, and a visitor chatting
with an agent."""
import queue

from tests.clients import TIMEOUT


class Heard:
    """Every push of one event on one client, in order."""

    def __init__(self, client, event: str):
        self._pushes: "queue.Queue[dict]" = queue.Queue()
        client.sio.on(event, self._pushes.put, namespace=client.namespace)

    def next(self, timeout: float = TIMEOUT) -> dict:
        return self._pushes.get(timeout=timeout)

    def next_where(self, predicate, timeout: float = TIMEOUT) -> dict:
        while True:
            push = self.next(timeout)
            if predicate(push):
                return push

    def assert_none(self, wait: float = 0.7) -> None:
        try:
            push = self._pushes.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected push: {push}")


def chatting(server, tenant, clients, person=None):
    """An agent (online, so the visitor is assigned to them) and a visitor who said hello."""
    agent = clients.agent(server, tenant, person)
    visitor = clients.visitor(server, tenant)
    sent = visitor.send("Hello there")
    assert sent["ok"], sent
    conversation_id = sent["message"]["conversation_id"]
    agent.next_event()
    return agent, visitor, conversation_id
