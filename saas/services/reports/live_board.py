"""The real-time board: who is online with how much work against their capacity, and how long the
queues are, as they are now."""
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Conversation, Department, User, utcnow
from ...models.conversations import AGENT_HANDLER, OPEN
from ...models.reception import ONLINE, PRESENCE_STATES
from .. import routing
from .agent_work import NO_DEPARTMENT


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, round((now - moment).total_seconds()))


def snapshot(session: Session, now: datetime | None = None) -> dict:
    now = now or utcnow()
    loads = dict(session.execute(
        select(Conversation.assigned_agent_id, func.count(Conversation.id))
        .where(Conversation.status == OPEN, Conversation.handler == AGENT_HANDLER)
        .group_by(Conversation.assigned_agent_id)).all())
    agents = [
        {"id": agent.id, "name": agent.display_name, "presence": agent.presence,
         "since_seconds": _seconds_since(agent.presence_changed_at, now),
         "load": loads.get(agent.id, 0), "capacity": routing.capacity(session, agent)}
        for agent in session.scalars(select(User).where(User.is_enabled.is_(True)))
    ]
    agents.sort(key=lambda a: (PRESENCE_STATES.index(a["presence"]), a["name"].lower()))
    names = dict(session.execute(select(Department.id, Department.name)).all())
    waiting = session.execute(
        select(Conversation.department_id, func.count(Conversation.id), func.min(Conversation.waiting_since))
        .where(Conversation.status == OPEN, Conversation.handler != AGENT_HANDLER,
               Conversation.waiting_since.is_not(None))
        .group_by(Conversation.department_id)).all()
    queues = [{"department_id": department_id, "name": names.get(department_id, NO_DEPARTMENT),
               "waiting": count, "longest_wait_seconds": _seconds_since(oldest, now)}
              for department_id, count, oldest in waiting]
    queues.sort(key=lambda q: (q["department_id"] is None, q["name"].lower()))
    online = [a for a in agents if a["presence"] == ONLINE]
    return {
        "agents": agents,
        "queues": queues,
        "totals": {
            "online": len(online),
            "load": sum(a["load"] for a in online),
            "capacity": sum(a["capacity"] for a in online),
            "waiting": sum(q["waiting"] for q in queues),
            "longest_wait_seconds": max((q["longest_wait_seconds"] for q in queues), default=None),
        },
        "at": now.isoformat(),
    }
