"""Helpers of the automatic-reply tests: configuring replies, and the timer driver of each backend
(the server's own in-process loop on SQLite; a real `rq worker --with-scheduler` on PostgreSQL)."""
import time

import pytest
from sqlalchemy import delete, func, select

from saas.models import AutoReply, BusinessHours, Conversation, ConversationTimer, Message
from saas.services import timers, visitors
from tenants import tenant_context, tenant_session
from tests.rq_helpers import RqWorker


def configure(app, tenant, kind: str, text: str, seconds: int | None = None, department_id: int | None = None,
              enabled: bool = True) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.add(AutoReply(kind=kind, text=text, seconds=seconds, department_id=department_id,
                              is_enabled=enabled))
        session.commit()


def set_hours(app, tenant, schedule: dict, time_zone: str = "UTC", holidays: list | None = None,
              department_id: int | None = None) -> None:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.execute(delete(BusinessHours).where(func.coalesce(BusinessHours.department_id, 0)
                                                    == (department_id or 0)))
        session.add(BusinessHours(time_zone=time_zone, schedule=schedule, holidays=holidays or [],
                                  department_id=department_id))
        session.commit()


def stored_timers(app, tenant, kind: str, text: str, due_in: float, count: int = 1) -> list[int]:
    """``count`` open conversations, each with a timer of ``kind`` due in ``due_in`` seconds."""
    configure(app, tenant, kind, text, seconds=1)
    ids = []
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        for _ in range(count):
            conversation = Conversation(visitor_id=visitors.identify(session, tenant.ref, None).id, channel="web",
                                        status="open", handler="queue")
            session.add(conversation)
            session.flush()
            ids.append(timers.schedule(session, conversation.id, kind, due_in).id)
        session.commit()
    return ids


def stored_bodies(app, tenant, sender_type: str = "system") -> list[str]:
    with app.app_context(), tenant_context(tenant.ref):
        return list(tenant_session().scalars(select(Message.body).where(Message.sender_type == sender_type)
                                             .order_by(Message.id)))


def timer_rows(app, tenant) -> list[ConversationTimer]:
    with app.app_context(), tenant_context(tenant.ref):
        return list(tenant_session().scalars(select(ConversationTimer).order_by(ConversationTimer.id)))


@pytest.fixture
def timer_driver(backend, app, tmp_path):
    """What fires timers besides the server: nothing on SQLite, an RQ worker on PostgreSQL."""
    if backend.name != "postgresql":
        yield None
        return
    worker = RqWorker(backend.env, tmp_path / "rq-worker.log")
    yield worker
    worker.stop()


def wait_for(condition, timeout: float = 15, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
