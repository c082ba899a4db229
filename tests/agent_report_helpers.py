"""A small hand-made history for the agent work, records and bot reports, with known times, so the
tests can state exact figures (worked out by hand in the test files)."""
import itertools
from datetime import date, datetime, timedelta, timezone

from saas.models import (
    AgentPresenceInterval, BotTurn, Conversation, ConversationEvent, ConversationRating, Department, Message,
    PageView, Visitor, VisitSession,
)
from saas.services.reports.period import Period

DAY = date(2026, 3, 10)
T = datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)
NOW = T + timedelta(seconds=1200)
PERIOD = Period(DAY, DAY, "UTC")
_visitor_numbers = itertools.count(1)  # unique across histories written into one tenant


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


class History:
    """Writes conversations with their events and messages at chosen times (seconds after T)."""

    def __init__(self, session):
        self.session = session

    def department(self, name: str) -> Department:
        department = Department(name=name, public_name=name)
        self.session.add(department)
        self.session.flush()
        return department

    def conversation(self, start: float, department=None, channel="web", status="closed", agent_id=None,
                     handler="agent", visitor_name=None) -> Conversation:
        n = next(_visitor_numbers)
        visitor = Visitor(public_id=f"v{n:031d}", nickname=f"Visitor {n}", name=visitor_name,
                          created_at=at(start), last_seen_at=at(start))
        self.session.add(visitor)
        self.session.flush()
        conversation = Conversation(visitor_id=visitor.id, channel=channel, status=status, handler=handler,
                                    department_id=department.id if department else None,
                                    assigned_agent_id=agent_id, created_at=at(start), updated_at=at(start))
        self.session.add(conversation)
        self.session.flush()
        self.event(conversation, start, "created", department_id=conversation.department_id)
        return conversation

    def event(self, conversation, seconds: float, kind: str, actor_type="system", actor_id=None, **detail):
        self.session.add(ConversationEvent(conversation_id=conversation.id, kind=kind, actor_type=actor_type,
                                           actor_id=actor_id, detail=detail, created_at=at(seconds)))
        self.session.flush()
        if kind == "closed":
            conversation.closed_at = at(seconds)

    def message(self, conversation, seconds: float, sender_type: str, body="hello", sender_id=None):
        conversation.last_seq += 1
        message = Message(conversation_id=conversation.id, seq=conversation.last_seq,
                          client_id=f"c-{conversation.id}-{conversation.last_seq:04d}", sender_type=sender_type,
                          sender_id=sender_id, sender_name=sender_type.title(), body=body, created_at=at(seconds))
        self.session.add(message)
        self.session.flush()
        return message

    def rating(self, conversation, seconds: float, scale: str, score: int, tags: list, agent_id=None):
        level = f"{score} stars" if scale == "stars5" else ("unsatisfied", "neutral", "satisfied")[score - 1]
        self.session.add(ConversationRating(conversation_id=conversation.id, agent_id=agent_id,
                                            department_id=conversation.department_id, scale=scale, score=score,
                                            level=level, tags=tags, created_at=at(seconds), updated_at=at(seconds)))

    def bot_turn(self, conversation, seconds: float, question: str, outcome: str, rating=None):
        reply = self.message(conversation, seconds, "bot", body=f"(bot) {outcome}")
        self.session.add(BotTurn(conversation_id=conversation.id, message_id=reply.id, question=question,
                                 outcome=outcome, rating=rating, created_at=at(seconds)))

    def presence(self, agent_id: int, state: str, start: datetime, end: datetime | None = None):
        self.session.add(AgentPresenceInterval(user_id=agent_id, state=state, started_at=start, ended_at=end))

    def page_view(self, conversation, seconds: float, url: str, title: str):
        visit = VisitSession(visitor_id=conversation.visitor_id, started_at=at(seconds), last_seen_at=at(seconds + 60))
        self.session.add(visit)
        self.session.flush()
        self.session.add(PageView(session_id=visit.id, url=url, title=title, started_at=at(seconds)))


def agent_work_history(session, agent_a: int, agent_b: int) -> dict:
    """Five conversations (c5 by SMS, the others on the web), two agents, one department: see
    test_reports_agents for the figures."""
    h = History(session)
    sales = h.department("Sales")
    c1 = h.conversation(0, sales, agent_id=agent_a)
    h.event(c1, 0, "queued", department_id=sales.id)
    h.message(c1, 1, "visitor")
    h.event(c1, 5, "assigned", agent_id=agent_a, waited_seconds=5)
    h.message(c1, 30, "agent", sender_id=agent_a)
    h.message(c1, 60, "visitor")
    h.message(c1, 80, "agent", sender_id=agent_a)
    h.event(c1, 100, "closed", "agent", agent_a)
    h.rating(c1, 110, "stars5", 5, ["Helpful", "Quick"], agent_id=agent_a)

    c2 = h.conversation(10, agent_id=agent_a)
    h.event(c2, 10, "queued", department_id=None)
    h.event(c2, 10, "assigned", agent_id=agent_b, waited_seconds=0)
    h.message(c2, 11, "visitor")
    h.message(c2, 70, "agent", sender_id=agent_b)
    h.event(c2, 200, "transferred", "agent", agent_b, from_agent_id=agent_b, to_agent_id=agent_a,
            note="VIP, please call back")
    h.event(c2, 200, "assigned", "agent", agent_b, agent_id=agent_a, waited_seconds=0)
    h.event(c2, 300, "closed", "system")
    h.rating(c2, 310, "levels3", 2, ["Slow"], agent_id=agent_a)

    c3 = h.conversation(20, sales, handler="queue")
    h.event(c3, 20, "queued", department_id=sales.id)
    h.message(c3, 21, "visitor")
    h.event(c3, 400, "closed", "system")

    c4 = h.conversation(30, sales, status="open", agent_id=agent_a)
    h.event(c4, 30, "queued", department_id=sales.id)
    h.event(c4, 31, "assigned", agent_id=agent_a, waited_seconds=1)
    h.message(c4, 32, "visitor")
    h.message(c4, 150, "agent", sender_id=agent_a)

    c5 = h.conversation(40, agent_id=agent_b, channel="sms")
    h.event(c5, 40, "queued", department_id=None)
    h.event(c5, 41, "assigned", agent_id=agent_b, waited_seconds=1)
    h.message(c5, 50, "agent", sender_id=agent_b)
    h.event(c5, 60, "closed", "agent", agent_b)
    h.rating(c5, 70, "stars5", 3, ["Helpful"], agent_id=agent_b)

    # The day before the period: nothing of it may count.
    old = h.conversation(-86400)
    h.event(old, -86400, "queued", department_id=None)
    h.event(old, -86300, "closed", "system")

    h.presence(agent_a, "offline", T - timedelta(hours=14), T - timedelta(hours=1))
    h.presence(agent_a, "online", T - timedelta(hours=1), at(600))
    h.presence(agent_a, "away", at(600), at(900))
    h.presence(agent_a, "online", at(900))
    h.presence(agent_b, "online", T - timedelta(hours=11), T)
    h.presence(agent_b, "offline", T)
    session.commit()
    return {"sales": sales.id, "conversations": [c.id for c in (c1, c2, c3, c4, c5)]}


def records_history(session, agent_id: int) -> dict:
    """Five conversations on the day, one the day before: see test_reports_records and _bot."""
    h = History(session)
    support = h.department("Support")
    human = h.conversation(0, support, agent_id=agent_id, visitor_name="Ada Visitor")
    h.event(human, 0, "queued", department_id=support.id)
    h.event(human, 2, "assigned", agent_id=agent_id, waited_seconds=2)
    h.message(human, 1, "visitor", body="My INVOICE is wrong")
    h.message(human, 20, "agent", body="Let me check", sender_id=agent_id)
    h.event(human, 30, "transferred", "agent", agent_id, from_agent_id=agent_id, to_department_id=support.id,
            note="Needs a refund <b>today</b>")
    h.event(human, 30, "queued", "agent", agent_id, department_id=support.id)
    h.event(human, 40, "closed", "system")
    h.rating(human, 50, "stars5", 5, ["Helpful", "Quick"], agent_id=agent_id)
    h.page_view(human, -120, "https://shop.test/pricing", "Pricing")

    bot_alone = h.conversation(100, channel="app", handler="bot")
    h.bot_turn(bot_alone, 101, "How much is shipping?", "answered", rating="helpful")
    h.bot_turn(bot_alone, 102, "Do you ship to Mars?", "fallback")
    h.event(bot_alone, 110, "closed", "system")

    both = h.conversation(200, agent_id=agent_id)
    h.bot_turn(both, 201, "do you  ship to mars? ", "fallback")
    h.bot_turn(both, 202, "human please", "handed_over")
    h.event(both, 202, "handed_over", "visitor", department_id=None)
    h.event(both, 203, "assigned", agent_id=agent_id, waited_seconds=1)
    h.message(both, 210, "agent", body="Hello from a person", sender_id=agent_id)
    h.event(both, 220, "closed", "agent", agent_id)
    h.rating(both, 230, "levels3", 1, ["Slow"], agent_id=agent_id)

    nobody = h.conversation(300, status="open", handler="queue")
    h.message(nobody, 300, "visitor", body="save 50% now?")

    bot_open = h.conversation(400, status="open", handler="bot")
    h.bot_turn(bot_open, 401, "Where is my parcel", "fallback")
    h.bot_turn(bot_open, 402, "Track order", "suggested", rating="not_helpful")

    yesterday = h.conversation(-86400, handler="bot")
    h.bot_turn(yesterday, -86399, "Do you ship to Mars?", "fallback")
    session.commit()
    return {"support": support.id, "human": human.id, "bot_alone": bot_alone.id, "both": both.id,
            "nobody": nobody.id, "bot_open": bot_open.id, "yesterday": yesterday.id}
