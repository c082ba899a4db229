"""Automatic replies, live on both backends: each fires exactly once at the right time, through a
real server (its in-process timer loop on SQLite; a real RQ worker with its scheduler on
PostgreSQL + Redis), to real Socket.IO clients."""
import queue
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from saas.models import Conversation, ConversationEvent, ConversationTimer, utcnow
from saas.services import auto_replies, timers
from saas.services.business_hours import DAYS
from tenants import tenant_context, tenant_session
from tests.auto_reply_helpers import (  # noqa: F401 (timer_driver: a fixture)
    configure, set_hours, stored_bodies, stored_timers, timer_driver, timer_rows, wait_for,
)
from tests.clients import new_client_id

# How long a timed reply may take beyond its due time: the embedded loop polls every second, RQ's
# scheduler looks every second and its worker forks a fresh process per job.
LATE = 12


def system_messages(client, seconds: float) -> list[str]:
    """System messages the client receives within ``seconds``."""
    bodies, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = client.next_event(timeout=left)
        except queue.Empty:
            break
        message = event.get("message", event)
        if message["sender"]["type"] == "system":
            bodies.append(message["body"])
    return bodies


def next_system_message(client, timeout: float = LATE) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        event = client.next_event(timeout=max(0.01, deadline - time.monotonic()))
        message = event.get("message", event)
        if message["sender"]["type"] == "system":
            return message


def test_welcome_fires_once_when_the_conversation_starts(app, server, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, "welcome", "Welcome to Acme! How can we help?")
    visitor = clients.visitor(server, tenant)
    assert visitor.welcome["availability"] == {"open": True, "reason": None, "message": None}

    started = visitor.start()
    assert started["ok"], started
    welcome = next_system_message(visitor, timeout=5)
    assert welcome["body"] == "Welcome to Acme! How can we help?"
    assert welcome["sender"] == {"type": "system", "name": "Switchboard"}
    assert visitor.start()["ok"]  # the open conversation again: no second welcome
    assert visitor.send("hello")["ok"]
    assert system_messages(visitor, 1.5) == []
    assert stored_bodies(app, tenant) == ["Welcome to Acme! How can we help?"]


def test_a_switched_off_reply_and_a_department_override(app, server, make_tenant, clients):
    from saas.models import Department

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        quiet, loud = Department(name="Quiet", public_name="Quiet"), Department(name="Loud", public_name="Loud")
        session.add_all([quiet, loud])
        session.commit()
        quiet_id, loud_id = quiet.id, loud.id
    configure(app, tenant, "welcome", "Workspace welcome")
    configure(app, tenant, "welcome", "Loud welcome", department_id=loud_id)
    configure(app, tenant, "welcome", "never said", department_id=quiet_id, enabled=False)

    for department_id, expected in ((loud_id, ["Loud welcome"]), (quiet_id, []), (None, ["Workspace welcome"])):
        visitor = clients.visitor(server, tenant)
        assert visitor.start(department_id=department_id)["ok"]
        assert system_messages(visitor, 1.5) == expected, department_id


def test_no_agent_online_offers_the_form_and_the_left_message_waits_for_an_agent(app, server, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, "no_agent", "Nobody is online: leave us a message and we will email you.")
    visitor = clients.visitor(server, tenant)
    assert visitor.welcome["availability"] == {
        "open": False, "reason": "no_agent", "message": "Nobody is online: leave us a message and we will email you."}

    refused = visitor.call("message:leave", {"client_id": new_client_id(), "name": "Ann", "email": "not-an-email",
                                             "body": "My order is late"})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_email"
    assert stored_bodies(app, tenant, "visitor") == []

    left = visitor.call("message:leave", {"client_id": new_client_id(), "name": "Ann", "email": "ann@example.com",
                                          "body": "My order is late"})
    assert left["ok"], left
    offer = next_system_message(visitor, timeout=5)
    assert offer["extras"] == {"form": "leave_message"}
    conversation_id = left["conversation"]["id"]
    assert left["conversation"]["visitor"]["email"] == "ann@example.com"
    assert left["conversation"]["handler"] == "queue"

    # Later an agent comes online: the left message is in their inbox, with who left it.
    agent = clients.agent(server, tenant)
    listed = {c["id"]: c for c in agent.conversations()}
    assert listed[conversation_id]["visitor"]["name"] == "Ann"
    history = agent.open(conversation_id)
    assert [m["body"] for m in history["messages"] if m["sender"]["type"] == "visitor"] == ["My order is late"]
    with app.app_context(), tenant_context(tenant.ref):
        kinds = tenant_session().scalars(select(ConversationEvent.kind).where(
            ConversationEvent.conversation_id == conversation_id)).all()
    assert "left_message" in kinds


@pytest.mark.usefixtures("timer_driver")
def test_queue_notice_repeats_with_the_place_until_an_agent_takes_over(app, server, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, "queue_notice", "You are number {position} in the queue.", seconds=2)
    first, second = clients.visitor(server, tenant), clients.visitor(server, tenant)
    for visitor in (first, second):
        started = visitor.start()
        assert started["ok"], started
    assert next_system_message(second)["body"] == "You are number 2 in the queue."
    assert next_system_message(second)["body"] == "You are number 2 in the queue."  # repeated

    clients.agent(server, tenant)  # comes online: both are assigned (5 slots)
    wait_for(lambda: all(t.cancelled_at or t.fired_at for t in timer_rows(app, tenant)), what="notices stopped")
    time.sleep(0.5)
    drained = system_messages(second, 0.2)  # at most one already on the wire
    assert len(drained) <= 1
    assert system_messages(second, 3) == []


def _assigned_conversation(server, tenant, clients):
    agent = clients.agent(server, tenant)
    alerts: "queue.Queue[dict]" = queue.Queue()
    agent.sio.on("agent:alert", alerts.put, namespace="/agent")
    visitor = clients.visitor(server, tenant)
    sent = visitor.send("Hello, anyone?")
    assert sent["ok"], sent
    return agent, alerts, visitor, sent["message"]["conversation_id"]


@pytest.mark.usefixtures("timer_driver")
def test_agent_silent_tells_the_visitor_and_alerts_the_agent_once(app, server, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, "agent_silent", "Thanks for waiting, an agent will answer shortly.", seconds=2)
    agent, alerts, visitor, conversation_id = _assigned_conversation(server, tenant, clients)
    sent_at = time.monotonic()

    notice = next_system_message(visitor)
    assert time.monotonic() - sent_at >= 1.9  # not before it is due
    assert notice["body"] == "Thanks for waiting, an agent will answer shortly."
    alert = alerts.get(timeout=5)
    assert alert["kind"] == "agent_silent" and alert["agent_id"] == tenant.agents[0].id
    assert alert["conversation"]["id"] == conversation_id
    assert visitor.send("Still here")["ok"]  # the clock runs from the first unanswered message only
    assert system_messages(visitor, 3.5) == []
    assert alerts.empty()
    assert stored_bodies(app, tenant) == ["Thanks for waiting, an agent will answer shortly."]


@pytest.mark.usefixtures("timer_driver")
@pytest.mark.parametrize("kind, answered_by", [("agent_silent", "agent"), ("visitor_idle", "visitor")])
def test_an_answer_in_time_cancels_the_waiting_reply(app, server, make_tenant, clients, kind, answered_by):
    tenant = make_tenant()
    configure(app, tenant, kind, "Never said.", seconds=2)
    agent, alerts, visitor, conversation_id = _assigned_conversation(server, tenant, clients)
    assert agent.send(conversation_id, "Hi! How can I help?")["ok"]  # answers the visitor, waits for them
    if answered_by == "visitor":
        assert visitor.send("Give me a second")["ok"]

    assert system_messages(visitor, 4) == []
    assert alerts.empty()
    assert stored_bodies(app, tenant) == []
    assert _status(app, tenant, conversation_id) == "open"
    rows = timer_rows(app, tenant)
    assert rows and all(t.cancelled_at is not None and t.fired_at is None for t in rows)
    assert {t.kind for t in rows} == {kind}


@pytest.mark.usefixtures("timer_driver")
def test_an_idle_visitor_is_reminded_then_the_conversation_closes(app, server, make_tenant, clients):
    tenant = make_tenant()
    configure(app, tenant, "visitor_idle", "Are you still there?", seconds=1)
    configure(app, tenant, "visitor_idle_close", "We closed this chat; write again any time.", seconds=2)
    agent, _alerts, visitor, conversation_id = _assigned_conversation(server, tenant, clients)
    assert agent.send(conversation_id, "How can I help?")["ok"]

    assert next_system_message(visitor)["body"] == "Are you still there?"
    reminded = time.monotonic()
    assert next_system_message(visitor)["body"] == "We closed this chat; write again any time."
    assert time.monotonic() - reminded >= 1.5
    wait_for(lambda: _status(app, tenant, conversation_id) == "closed", what="auto-close")
    assert system_messages(visitor, 2) == []
    assert stored_bodies(app, tenant) == ["Are you still there?", "We closed this chat; write again any time."]
    with app.app_context(), tenant_context(tenant.ref):
        closed = tenant_session().scalar(select(ConversationEvent).where(ConversationEvent.kind == "closed"))
    assert closed.actor_type == "system"


def _status(app, tenant, conversation_id) -> str:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().get(Conversation, conversation_id).status


def _hours_excluding_now(time_zone: str) -> dict:
    """Every day open one hour, starting two hours from now local time: now is outside."""
    local = datetime.now(ZoneInfo(time_zone))
    start, end = (local + timedelta(hours=2)).strftime("%H:00"), (local + timedelta(hours=3)).strftime("%H:00")
    return {day: [[start, end]] for day in DAYS}


def test_outside_business_hours_the_widget_offers_the_form_and_nobody_is_assigned(app, server, make_tenant, clients):
    tenant = make_tenant()
    set_hours(app, tenant, _hours_excluding_now("Pacific/Kiritimati"), time_zone="Pacific/Kiritimati")
    configure(app, tenant, "outside_hours", "We are closed. Leave a message and we will reply tomorrow.")
    configure(app, tenant, "welcome", "Hello!")
    agent = clients.agent(server, tenant)  # online, with free slots: still nobody is assigned
    visitor = clients.visitor(server, tenant)
    assert visitor.welcome["availability"] == {
        "open": False, "reason": "outside_hours", "message": "We are closed. Leave a message and we will reply tomorrow."}

    left = visitor.call("message:leave", {"client_id": new_client_id(), "name": "Bo", "email": "bo@example.com",
                                          "body": "Do you ship to Norway?"})
    assert left["ok"], left
    assert system_messages(visitor, 1.5) == ["Hello!", "We are closed. Leave a message and we will reply tomorrow."]
    conversation = left["conversation"]
    assert conversation["handler"] == "queue" and conversation["assigned_agent_id"] is None
    assert conversation["id"] in {c["id"] for c in agent.conversations()}
    # The agent picks it up later by answering.
    assert agent.send(conversation["id"], "Yes, we do.")["ok"]


def test_a_holiday_today_is_outside_business_hours(app, server, make_tenant, clients):
    tenant = make_tenant()
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    set_hours(app, tenant, {day: [["00:00", "24:00"]] for day in DAYS}, time_zone="Europe/Paris", holidays=[today])
    configure(app, tenant, "outside_hours", "Closed for the holiday.")
    visitor = clients.visitor(server, tenant)
    assert visitor.welcome["availability"]["reason"] == "outside_hours"

    set_hours(app, tenant, {day: [["00:00", "24:00"]] for day in DAYS}, time_zone="Europe/Paris", holidays=[])
    assert clients.visitor(server, tenant).welcome["availability"]["open"] is True


def test_racing_firers_send_exactly_one_reply(app, make_tenant):
    tenant = make_tenant()
    # Due in a minute, so no server loop or worker takes it; the racers act as if it were due.
    timer_id = stored_timers(app, tenant, "visitor_idle", "Are you still there?", due_in=60)[0]
    when = utcnow() + timedelta(seconds=61)
    racers, barrier, results = 6, threading.Barrier(6), []

    def race():
        with app.app_context(), tenant_context(tenant.ref):
            barrier.wait()
            results.append(auto_replies.fire(tenant_session(), timer_id, now=when))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == racers
    assert sum(result is not None for result in results) == 1
    assert stored_bodies(app, tenant) == ["Are you still there?"]
    with app.app_context(), tenant_context(tenant.ref):
        timer = tenant_session().get(ConversationTimer, timer_id)
    assert timer.fired_at is not None and timer.cancelled_at is None


def test_a_timer_not_yet_due_or_cancelled_never_fires(app, make_tenant):
    tenant = make_tenant()
    timer_id = stored_timers(app, tenant, "visitor_idle", "Are you still there?", due_in=60)[0]
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        assert auto_replies.fire(session, timer_id) is None  # not due yet
        conversation_id = session.get(ConversationTimer, timer_id).conversation_id
        timers.cancel(session, conversation_id)
        session.commit()
        assert auto_replies.fire(session, timer_id, now=utcnow() + timedelta(hours=1)) is None
    assert stored_bodies(app, tenant) == []
