"""The message hot path: one transaction per message, few statements, and the same behaviour
(a first message opens a conversation, a resend is answered with the stored message, timers are
restarted and cancelled as before) after its statements were merged."""
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event, select

from tests.clients import new_client_id

# bench/statements.py measures the same through the socket handlers; these are the service's own:
# the lock (or the agent's conversation) with the resend check and the rules' version, seq, insert.
MAX_STATEMENTS_PER_MESSAGE = 3


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


# --- per-process copies of settings stay honest across server processes ----------------------

def _pending_timer_kinds(app, tenant) -> list[str]:
    from saas.models import ConversationTimer
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        return list(tenant_session().scalars(
            select(ConversationTimer.kind).where(ConversationTimer.fired_at.is_(None),
                                                 ConversationTimer.cancelled_at.is_(None))
            .order_by(ConversationTimer.id)))


def _switch_reply(app, tenant, kind: str, enabled: bool) -> None:
    from saas.models import AutoReply
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.scalars(select(AutoReply).where(AutoReply.kind == kind)).one().is_enabled = enabled
        session.commit()


def test_an_automatic_reply_change_applies_to_the_next_message_in_every_process(
        backend, app, server, start_server, make_tenant, clients):
    from saas.models.auto_replies import VISITOR_IDLE
    from tests.auto_reply_helpers import configure

    tenant = make_tenant()
    other = start_server(name="second")
    visitor, agent = clients.visitor(server, tenant), clients.agent(other, tenant)
    conversation_id = visitor.send("hello")["message"]["conversation_id"]
    # Both processes now hold the tenant's rules as they are: no timed reply, so no timers at all.
    assert agent.send(conversation_id, "hi")["ok"] and visitor.send("thanks")["ok"]
    assert _pending_timer_kinds(app, tenant) == []

    configure(app, tenant, VISITOR_IDLE, "Still there?", seconds=3600)  # a third process, as the admin
    assert agent.send(conversation_id, "anything else?")["ok"]
    assert _pending_timer_kinds(app, tenant) == [VISITOR_IDLE]  # the agent's process saw it at once
    assert visitor.send("yes, one more thing")["ok"]
    assert _pending_timer_kinds(app, tenant) == []  # and so did the visitor's: the reminder is off

    assert agent.send(conversation_id, "go ahead")["ok"]
    assert _pending_timer_kinds(app, tenant) == [VISITOR_IDLE]
    _switch_reply(app, tenant, VISITOR_IDLE, enabled=False)
    assert _pending_timer_kinds(app, tenant) == []  # switched off everywhere: its pending timers go
    assert agent.send(conversation_id, "still here?")["ok"]
    assert _pending_timer_kinds(app, tenant) == []


def test_an_agent_switched_off_in_one_process_is_refused_by_another_at_the_next_event(
        backend, app, server, start_server, make_tenant, clients):
    from saas.models import User
    from tenants import tenant_context, tenant_session

    tenant = make_tenant()
    other = start_server(name="second")
    agent = clients.agent(other, tenant)
    assert agent.conversations() == []
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        session.get(User, tenant.agents[0].id).is_enabled = False
        session.commit()
    refused = agent.call("conversations:list", {})
    assert refused["ok"] is False and refused["error"]["code"] == "session_ended", refused


def test_every_change_to_the_automatic_replies_moves_their_version_on(backend, app, make_tenant):
    from saas.models import AutoReply, Department, SettingsVersion
    from saas.models.auto_replies import AGENT_SILENT
    from saas.models.settings_versions import AUTO_REPLIES

    tenant = make_tenant()
    with tenant_scope(app, tenant) as session:
        def version():
            return session.scalar(select(SettingsVersion.version).where(SettingsVersion.name == AUTO_REPLIES))

        seen = [version()]
        department = Department(name="Sales", public_name="Sales")
        session.add(department)
        session.commit()
        assert version() == seen[-1]  # unrelated changes leave it alone
        reply = AutoReply(kind=AGENT_SILENT, text="One moment", seconds=30, department_id=department.id)
        session.add(reply)
        session.commit()
        seen.append(version())
        reply.seconds = 60
        session.commit()
        seen.append(version())
        session.delete(department)  # takes its replies along (ON DELETE CASCADE)
        session.commit()
        seen.append(version())
        assert seen == sorted(set(seen)), seen


# --- a visitor's connect: the offer is a per-process copy, its version read by the visitor's statement

def test_a_settings_change_applies_to_the_next_connect_in_every_process(
        backend, app, server, start_server, make_tenant, clients):
    from saas.models import Department, TranslatedText, User, Visitor
    from saas.services import languages, reception_settings, visitors, widget_look

    tenant = make_tenant()
    servers = [server, start_server(name="second")]
    first = [clients.visitor(each, tenant).welcome for each in servers]  # both processes hold the offer now
    assert [(w["department_picker"], w["departments"], w["look"]["color"]) for w in first] == \
        [(False, [], widget_look.DEFAULT_COLOR)] * 2

    with tenant_scope(app, tenant) as session:  # a third process, as the admin screens do
        owner = session.get(User, tenant.owner.id)
        reception_settings.update_settings(session, owner, department_picker=True)
        session.add(Department(name="sales-internal", public_name="Sales", description="Buying"))
        session.commit()
        session.add(TranslatedText(text_key="widget_greeting", language="zh-CN", text="你好"))
        widget_look.update(session, color="#112233", position="left", launcher_text="Ask us",
                           greeting="Hello there", hide_outside_hours=False)
        session.commit()
        languages.set_workspace_language(session, "zh-CN")

    returning = clients.visitor(servers[1], tenant, token=first[1]["token"]).welcome
    welcomes = [clients.visitor(each, tenant).welcome for each in servers] + [returning]
    for welcome in welcomes:
        assert welcome["department_picker"] is True
        assert [(d["name"], d["description"]) for d in welcome["departments"]] == [("Sales", "Buying")]
        assert (welcome["language"], welcome["look"]["color"], welcome["look"]["position"],
                welcome["look"]["greeting"]) == ("zh-CN", "#112233", "left", "你好")
    with tenant_scope(app, tenant) as session:  # remembered for the bot and automatic replies
        assert [session.scalar(select(Visitor.language).where(
            Visitor.public_id == visitors.public_id_from(tenant.ref, welcome["token"]))) for welcome in welcomes] \
            == ["zh-CN"] * 3


def test_a_connect_reads_the_offer_from_the_process_copy(backend, app, make_tenant):
    from saas.services import visitor_offer, visitors

    tenant = make_tenant()
    with tenant_scope(app, tenant) as session:
        def connect(token=None):
            arrival, offer, language = visitor_offer.arrive(session, tenant.ref, token, ["en"])
            offer.payload(session, language), offer.departments(session, language)
            return arrival

        known = connect().visitor  # the copy is made, and its English texts
        with counting(session) as new:
            arrival = connect()
        with counting(session) as returning:
            again = connect(visitors.issue_token(tenant.ref, known))
        assert arrival.is_new and not again.is_new and again.visitor.id == known.id
        # The insert, the last seen time's update: each returns the row and the offer's version.
        assert (new["statements"], new["commits"]) == (1, 1), new
        assert (returning["statements"], returning["commits"]) == (1, 1), returning


def test_every_change_to_what_a_visitor_is_offered_moves_its_version_on(backend, app, make_tenant):
    from saas.models import (
        AutoReply, BusinessHours, ChannelMode, Department, ReceptionSettings, SettingsVersion, TranslatedText,
        Visitor,
    )
    from saas.models.auto_replies import WELCOME
    from saas.models.settings_versions import VISITOR_OFFER

    tenant = make_tenant()
    with tenant_scope(app, tenant) as session:
        def version():
            return session.scalar(select(SettingsVersion.version).where(SettingsVersion.name == VISITOR_OFFER))

        seen = [version()]
        session.add(Visitor(public_id="someone", nickname="Someone"))
        session.commit()
        assert version() == seen[-1]  # unrelated changes leave it alone
        for change in (
                lambda: setattr(session.get(ReceptionSettings, 1), "department_picker", True),
                lambda: session.add(Department(name="Sales", public_name="Sales")),
                lambda: session.add(ChannelMode(channel="sms", reception_mode="bot_only")),
                lambda: session.add(BusinessHours(time_zone="UTC", schedule={}, holidays=[])),
                lambda: session.add(TranslatedText(text_key="widget_greeting", language="zh-CN", text="你好")),
                lambda: session.add(AutoReply(kind=WELCOME, text="Hi")),
        ):
            change()
            session.commit()
            seen.append(version())
        assert seen == list(range(seen[0], seen[0] + len(seen))), seen
