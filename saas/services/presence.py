"""Agent presence: online / away / offline, chosen by the agent or automatic when every console
connection has closed (after a grace period, so a reload does not flap)."""
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import AgentConnection, AgentPresenceInterval, User, utcnow
from ..models.reception import AWAY, OFFLINE, ONLINE, PRESENCE_STATES
from . import routing
from .errors import Invalid


def _change(session: Session, agent: User, state: str, automatic: bool) -> routing.Outcome:
    was_online = agent.presence == ONLINE
    now = utcnow()
    if state != agent.presence:
        _log_change(session, agent.id, state, now)
    agent.presence, agent.presence_is_automatic, agent.presence_changed_at = state, automatic, now
    session.commit()
    if state == ONLINE and not was_online:
        return routing.agent_available(session, agent)
    if state != ONLINE and was_online:
        return routing.agent_left(session, agent)
    return routing.Outcome()


def _log_change(session: Session, agent_id: int, state: str, now) -> None:
    """The presence history the agent work report sums online and away time from."""
    session.execute(update(AgentPresenceInterval)
                    .where(AgentPresenceInterval.user_id == agent_id, AgentPresenceInterval.ended_at.is_(None))
                    .values(ended_at=now))
    session.add(AgentPresenceInterval(user_id=agent_id, state=state, started_at=now))


def set_presence(session: Session, agent: User, state) -> routing.Outcome:
    if state not in PRESENCE_STATES:
        raise Invalid("invalid_presence", "Presence is online, away or offline.")
    return _change(session, agent, state, automatic=False)


def connected(session: Session, agent: User, sid: str) -> routing.Outcome:
    """A console opened. An agent who was offline, or away only because their consoles closed,
    is online again; an away the agent chose stays."""
    session.merge(AgentConnection(sid=sid, user_id=agent.id))
    session.commit()
    if agent.presence == OFFLINE or (agent.presence == AWAY and agent.presence_is_automatic):
        return _change(session, agent, ONLINE, automatic=False)
    return routing.Outcome()


def disconnected(session: Session, sid: str) -> int | None:
    """Forget a console connection; returns its agent's id when it was their last one."""
    user_id = session.scalar(select(AgentConnection.user_id).where(AgentConnection.sid == sid))
    session.execute(delete(AgentConnection).where(AgentConnection.sid == sid))
    session.commit()
    if user_id is None:
        return None
    remaining = session.scalar(select(func.count()).select_from(AgentConnection).where(AgentConnection.user_id == user_id))
    return user_id if remaining == 0 else None


def away_if_still_disconnected(session: Session, agent_id: int) -> routing.Outcome:
    """Called after the grace period: still no console open → away (automatic)."""
    agent = session.get(User, agent_id)
    still_gone = not session.scalar(select(func.count()).select_from(AgentConnection)
                                    .where(AgentConnection.user_id == agent_id))
    if agent is None or not still_gone or agent.presence != ONLINE:
        return routing.Outcome()
    return _change(session, agent, AWAY, automatic=True)
