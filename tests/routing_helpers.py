"""Configuring a test tenant's reception directly in its database, and reading its events."""
import queue
import time

from sqlalchemy import select

from saas.models import (
    ChannelMode, Conversation, ConversationEvent, Department, DepartmentMember, ReceptionSettings, User,
)
from tenants import tenant_context, tenant_session


def configure(app, tenant, **values) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        settings = session.get(ReceptionSettings, 1)
        for key, value in values.items():
            setattr(settings, key, value)
        session.commit()


def set_channel_mode(app, tenant, channel: str, mode: str) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.merge(ChannelMode(channel=channel, reception_mode=mode))
        session.commit()


def add_department(app, tenant, name: str, members=(), **values) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        department = Department(name=name, public_name=values.pop("public_name", name), **values)
        session.add(department)
        session.flush()
        for person in members:
            session.add(DepartmentMember(department_id=department.id, user_id=person.id))
        session.commit()
        return department.id


def conversation(app, tenant, conversation_id: int) -> Conversation:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().get(Conversation, conversation_id)


def events(app, tenant, conversation_id: int) -> list[tuple[str, str, dict]]:
    with app.app_context(), tenant_context(tenant.ref):
        rows = tenant_session().scalars(
            select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id))
        return [(e.kind, e.actor_type, e.detail) for e in rows]


def presence(app, tenant, person) -> str:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().get(User, person.id).presence


def wait_for_state(client, predicate, timeout: float = 10.0) -> dict:
    pushed = client.states
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            state = pushed.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(state)
        if predicate(state):
            return state
    raise AssertionError(f"no matching conversation:state; saw {seen}")


def messages_until(client, predicate, timeout: float = 10.0) -> list[dict]:
    """Read message:new pushes until one matches; returns all read."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = client.next_event(timeout=max(0.05, deadline - time.monotonic()))
        got.append(message)
        if predicate(message):
            return got
    raise AssertionError(f"no matching message; saw {got}")
