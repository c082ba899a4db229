"""The message hot path: one transaction per message, few statements, and the same behaviour
(a first message opens a conversation, a resend is answered with the stored message, timers are
restarted and cancelled as before) after its statements were merged."""
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event, select

from tests.clients import new_client_id

# bench/statements.py measures the same through the socket handlers; these are the service's own.
MAX_STATEMENTS_PER_MESSAGE = 6


@contextmanager
def counting(session):
    counts = Counter()

    def statement(*_args):
        counts["statements"] += 1

    def commit(_conn):
        counts["commits"] += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


@contextmanager
def tenant_scope(app, tenant):
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        yield tenant_session()


def _visitor_with_agent(session, tenant):
    from saas.models import User
    from saas.services import routing, visitors

    visitor = visitors.identify(session, tenant.ref, None)
    first, _ = routing.visitor_says(session, visitor, client_id=new_client_id(), body="hello", max_length=5000)
    agent = session.get(User, tenant.agents[0].id)
    routing.pick(session, agent, first.conversation.id)
    return visitor, agent, first.conversation


def test_a_first_message_opens_a_conversation_and_its_resend_is_the_stored_message(backend, app, make_tenant):
    from saas.services import conversations, routing, visitors

    tenant = make_tenant()
    with tenant_scope(app, tenant) as session:
        visitor = visitors.identify(session, tenant.ref, None)
        client_id = new_client_id()
        posted, _ = routing.visitor_says(session, visitor, client_id=client_id, body="first", max_length=5000)
        again, outcome = routing.visitor_says(session, visitor, client_id=client_id, body="first", max_length=5000)
        assert posted.is_new and posted.message.seq == 1
        assert not again.is_new and again.message.id == posted.message.id and outcome.posted == []
        assert conversations.latest_for_visitor(session, visitor).id == posted.conversation.id
        assert [m.body for m in conversations.messages_after(session, posted.conversation)] == ["first"]


def test_a_visitor_message_and_an_agent_reply_take_one_commit_each(backend, app, make_tenant):
    from saas.services import routing

    tenant = make_tenant()
    with tenant_scope(app, tenant) as session:
        visitor, agent, conversation = _visitor_with_agent(session, tenant)
        with counting(session) as said:
            routing.visitor_says(session, visitor, client_id=new_client_id(), body="question", max_length=5000)
        with counting(session) as replied:
            routing.agent_reply(session, agent, conversation.id, client_id=new_client_id(), body="answer",
                                max_length=5000)
        assert said["commits"] == 1 and said["statements"] <= MAX_STATEMENTS_PER_MESSAGE, said
        assert replied["commits"] == 1 and replied["statements"] <= MAX_STATEMENTS_PER_MESSAGE, replied


def test_an_agent_reply_restarts_the_idle_timer_and_a_visitor_message_cancels_it(backend, app, make_tenant):
    from saas.models import AutoReply, ConversationTimer
    from saas.models.auto_replies import VISITOR_IDLE
    from saas.services import routing

    tenant = make_tenant()
    with tenant_scope(app, tenant) as session:
        session.add(AutoReply(kind=VISITOR_IDLE, is_enabled=True, text="Still there?", seconds=60))
        session.commit()
        visitor, agent, conversation = _visitor_with_agent(session, tenant)

        def idle_timers():
            return session.execute(select(ConversationTimer.cancelled_at.is_(None)).where(
                ConversationTimer.conversation_id == conversation.id, ConversationTimer.kind == VISITOR_IDLE,
                ConversationTimer.fired_at.is_(None)).order_by(ConversationTimer.id)).scalars().all()

        for body in ("one", "two"):
            routing.agent_reply(session, agent, conversation.id, client_id=new_client_id(), body=body,
                                max_length=5000)
        assert idle_timers() == [False, True]  # the first replaced by the second, which is pending
        routing.visitor_says(session, visitor, client_id=new_client_id(), body="back", max_length=5000)
        assert idle_timers() == [False, False]
