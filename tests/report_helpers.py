"""A small, hand-counted dataset for the report tests (expected figures in test_reports_sources.py)."""
from datetime import datetime, timedelta, timezone

from saas.models import (
    BusinessHours, Conversation, ConversationRating, Department, Message, PageView, Visitor, VisitSession,
)
from tenants import tenant_context, tenant_session

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


# (name, visitor, started_at, attributes, pages seen)
VISITS = [
    ("s5", "C", utc(28, 22, 30, month=2), {"source_kind": "search", "search_engine": "bing"}, ["/home"]),
    # 23:30 UTC on 28 February is 00:30 on 1 March in Paris: inside the range.
    ("s6", "B", utc(28, 23, 30, month=2), {"source_kind": "direct"}, ["/home"]),
    ("s1", "A", utc(2, 10), {"source_kind": "search", "search_engine": "google", "search_terms": "chat"},
     ["/home", "/pricing", "/home"]),
    ("s3", "B", utc(3, 10), {"channel": "mobile_web", "source_kind": "referral",
                             "referrer_domain": "blog.example.org", "utm_campaign": "spring"}, ["/blog", "/pricing"]),
    ("s4", "C", utc(4, 10), {"source_kind": "search", "search_engine": "bing", "search_terms": "help"}, ["/home"]),
    ("s2", "A", utc(5, 10), {"source_kind": "direct"}, ["/pricing"]),
]
# (visit, created_at, messages as (sender, minutes after the start), rating score or None).
# The first is the Sales department's, assigned to the tenant's first agent (when it has one).
CONVERSATIONS = [
    ("s1", utc(2, 10, 5), [("visitor", 0), ("agent", 1)], 5),
    ("s1", utc(2, 11), [("visitor", 0)], None),
    ("s3", utc(3, 10, 10), [("visitor", 0), ("bot", 0)], 3),
    ("s5", utc(28, 22, 40, month=2), [("visitor", 0)], None),  # 23:40 in Paris on 28 February
]


def seed_sources(app, tenant, time_zone: str = "Europe/Paris") -> dict[str, int]:
    """Visits, page views and conversations of three visitors; returns the visits' ids by name."""
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.add(BusinessHours(department_id=None, is_enabled=False, time_zone=time_zone))
        people = {name: Visitor(public_id=f"visitor{name}{tenant.slug}"[:32], nickname=name) for name in "ABC"}
        session.add_all(people.values())
        session.flush()
        visits = {}
        for name, person, started_at, attributes, pages in VISITS:
            visit = VisitSession(visitor_id=people[person].id, started_at=started_at, last_seen_at=started_at,
                                 landing_page=f"https://shop.example.com{pages[0]}", page_count=len(pages),
                                 **{"channel": "web", **attributes})
            session.add(visit)
            session.flush()
            session.add_all(PageView(session_id=visit.id, url=f"https://shop.example.com{page}", started_at=started_at)
                            for page in pages)
            visits[name] = visit
        sales = Department(name="Sales", public_name="Sales")
        session.add(sales)
        session.flush()
        agent_id = tenant.agents[0].id if tenant.agents else None
        for number, (name, created_at, messages, score) in enumerate(CONVERSATIONS):
            visit = visits[name]
            first = number == 0
            conversation = Conversation(visitor_id=visit.visitor_id, channel=visit.channel, visit_session_id=visit.id,
                                        created_at=created_at, updated_at=created_at,
                                        assigned_agent_id=agent_id if first else None,
                                        department_id=sales.id if first else None)
            session.add(conversation)
            session.flush()
            session.add_all(Message(conversation_id=conversation.id, seq=seq, client_id=f"m{seq}", sender_type=sender,
                                    sender_name=sender, body="hello", created_at=created_at + timedelta(minutes=after))
                            for seq, (sender, after) in enumerate(messages, start=1))
            if score is not None:
                session.add(ConversationRating(conversation_id=conversation.id, scale="stars5", score=score,
                                               level=str(score), agent_id=conversation.assigned_agent_id,
                                               department_id=conversation.department_id,
                                               created_at=created_at + timedelta(minutes=20)))
        session.commit()
        return {name: visit.id for name, visit in visits.items()}
