"""The phone channel: Twilio-compatible inbound texts (signature, dedup, bad input), call events,
and an agent's reply delivered through the provider with retries (both backends)."""
import secrets
import time
import urllib.parse

import requests
from sqlalchemy import func, select

from saas.models import Conversation, Message, OutboundAttempt, OutboundDelivery, Visitor
from saas.services import calls, sms
from tenants import tenant_context, tenant_session
from tests.channel_helpers import configure_channels, fast_server, receiver_for  # noqa: F401 (fixtures)

AUTH_TOKEN = "12345678901234567890123456789012"
OUR_NUMBER = "+15005550006"


def _sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def _post_signed(http, url: str, fields: dict, token: str = AUTH_TOKEN, path_url: str | None = None):
    signature = sms.twilio_signature(token, url, sorted(fields.items()))
    return http.post(path_url or url, data=fields, headers={sms.SIGNATURE_HEADER: signature})


def _count(app, tenant, model, *where) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(func.count()).select_from(model).where(*where))


def _inbound_url(tenant, kind: str = "inbound") -> str:
    return f"http://localhost/t/{tenant.slug}/channels/sms/{kind}"


def _text(body: str = "Hello from my phone", **extra) -> dict:
    return {"From": "+1 (415) 555-0100", "To": OUR_NUMBER, "Body": body, "MessageSid": _sid(),
            "AccountSid": "AC" + "0" * 32, **extra}


def test_the_signature_is_twilios():
    """The example of Twilio's security documentation."""
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}
    assert sms.twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                                list(params.items())) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_signed_texts_and_calls_are_stored_once_and_a_bad_signature_is_refused(app, make_tenant):
    tenant = make_tenant()
    configure_channels(app, tenant, sms_auth_token=AUTH_TOKEN, sms_number=OUR_NUMBER)
    http, url = app.test_client(), _inbound_url(tenant)
    fields = _text()

    first = _post_signed(http, url, fields)
    assert first.status_code == 200 and first.mimetype == "text/xml" and b"<Response>" in first.data
    assert _post_signed(http, url, fields).status_code == 200  # the provider retried: same MessageSid

    tampered = http.post(url, data={**fields, "Body": "Send me your money"},
                         headers={sms.SIGNATURE_HEADER: sms.twilio_signature(AUTH_TOKEN, url, sorted(fields.items()))})
    assert tampered.status_code == 403 and tampered.json["error"]["code"] == "bad_signature"
    wrong_key = _post_signed(http, url, _text(), token="another-token")
    assert wrong_key.status_code == 403
    unsigned = http.post(url, data=_text())
    assert unsigned.status_code == 403 and "X-Twilio-Signature" in unsigned.json["error"]["message"]

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = session.scalar(select(Visitor).where(Visitor.phone == "+14155550100"))
        conversation = session.scalar(select(Conversation).where(Conversation.visitor_id == visitor.id))
        messages = session.scalars(select(Message).where(Message.conversation_id == conversation.id,
                                                         Message.sender_type == "visitor")).all()
        assert conversation.channel == "sms" and visitor.nickname == "+14155550100"
        assert [(m.body, m.client_id) for m in messages] == [("Hello from my phone", "sms:" + fields["MessageSid"])]
    assert _count(app, tenant, Visitor) == 1

    # Voice status callbacks, on the same contact timeline as texts.
    url = _inbound_url(tenant, "voice")
    call = {"CallSid": _sid("CA"), "From": "+44 20 7946 0958", "To": OUR_NUMBER, "Direction": "inbound"}
    for fields in ({**call, "CallStatus": "ringing"}, {**call, "CallStatus": "in-progress"},
                   {**call, "CallStatus": "completed", "CallDuration": "73",
                    "RecordingUrl": "https://api.twilio.example/recordings/RE1"},
                   {**call, "CallStatus": "completed", "CallDuration": "73"}):  # repeated callback
        assert _post_signed(http, url, fields).status_code == 200
    bad = _post_signed(http, url, {**call, "CallStatus": "exploded"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_field"
    negative = _post_signed(http, url, {**call, "CallStatus": "busy", "CallDuration": "-5"})
    assert negative.status_code == 400 and negative.json["error"]["code"] == "invalid_duration"

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = session.scalar(select(Visitor).where(Visitor.phone == "+442079460958"))
        timeline = [(c["status"], c["duration_seconds"], c["recording_url"])
                    for c in reversed(calls.calls_of(session, visitor))]
    assert timeline == [("ringing", None, None), ("in-progress", None, None),
                     ("completed", 73, "https://api.twilio.example/recordings/RE1")]


def test_bad_texts_get_a_clear_4xx_and_nothing_is_stored(app, make_tenant):
    tenant = make_tenant()
    http, url = app.test_client(), _inbound_url(tenant)
    not_set_up = _post_signed(http, url, _text())
    configure_channels(app, tenant, sms_auth_token=AUTH_TOKEN, sms_number=OUR_NUMBER)

    no_sid = {k: v for k, v in _text().items() if k != "MessageSid"}
    refused = {
        "missing MessageSid": (_post_signed(http, url, no_sid), 400, "missing_field"),
        "empty Body": (_post_signed(http, url, _text(body="  ")), 400, "empty_message"),
        "local number": (_post_signed(http, url, _text(From="0415 555 0100")), 400, "invalid_phone"),
        "oversized": (_post_signed(http, url, _text(body="x" * 70_000)), 413, "too_large"),
        "not set up": (not_set_up, 404, "sms_not_configured"),
    }
    for what, (response, status, code) in refused.items():
        assert response.status_code == status, what
        assert response.json["ok"] is False and response.json["error"]["code"] == code, what
        assert response.json["error"]["message"], what
    assert http.post("http://localhost/t/no-such-tenant/channels/sms/inbound", data=_text()).status_code == 404
    assert _count(app, tenant, Message) == 0 and _count(app, tenant, Visitor) == 0


def _delivery_events(agent) -> list:
    events = []
    agent.sio.on("message:delivery", events.append, namespace="/agent")
    return events


def _wait(condition, timeout: float = 20, what: str = ""):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_an_agents_reply_goes_out_through_the_provider_retried_until_accepted(
        app, make_tenant, fast_server, receiver_for, clients):
    provider = receiver_for([500, 500, 201])
    tenant = make_tenant()
    configure_channels(app, tenant, sms_auth_token=AUTH_TOKEN, sms_number=OUR_NUMBER)
    agent = clients.agent(fast_server, tenant, tenant.agents[0])
    statuses = _delivery_events(agent)
    url = f"{fast_server.url}/t/{tenant.slug}/channels/sms/inbound"

    assert _post_signed(requests, url, _text("Is my order shipped?")).status_code == 200
    conversation_id = agent.next_event()["conversation"]["id"]
    # No provider yet: the agent is told at once, and nothing is queued.
    unsent = agent.send(conversation_id, "Let me check.")
    assert unsent["ok"] and unsent["message"]["extras"]["delivery"]["status"] == "failed"
    assert "not set up" in unsent["message"]["extras"]["delivery"]["error"]
    assert _count(app, tenant, OutboundDelivery) == 0

    configure_channels(app, tenant, sms_auth_token=AUTH_TOKEN, sms_number=OUR_NUMBER,
                       sms_outbound_url=provider.url, sms_outbound_username="AC42", sms_outbound_password="pw")
    sent = agent.send(conversation_id, "Yes, it left this morning.")
    assert sent["ok"] and sent["message"]["extras"]["delivery"]["status"] == "queued"

    _wait(lambda: any(e["delivery"]["status"] == "delivered" for e in statuses), what="delivered")
    assert [e["delivery"]["status"] for e in statuses] == ["sending", "queued"] * 2 + ["sending", "delivered"]
    assert statuses[-1]["delivery"]["attempts"] == 3 and statuses[-1]["message_id"] == sent["message"]["id"]
    assert [r.answered for r in provider.received] == [500, 500, 201]  # accepted once
    keys = {r.headers["Idempotency-Key"] for r in provider.received}
    assert len(keys) == 1
    form = urllib.parse.parse_qs(provider.received[-1].body.decode())
    assert form == {"To": ["+14155550100"], "From": [OUR_NUMBER], "Body": ["Yes, it left this morning."]}
    assert provider.received[-1].headers["Authorization"] == "Basic QUM0Mjpwdw=="  # AC42:pw

    opened = agent.open(conversation_id)
    reply = next(m for m in opened["messages"] if m["id"] == sent["message"]["id"])
    assert reply["extras"]["delivery"] == {**statuses[-1]["delivery"]}
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        delivery = session.scalar(select(OutboundDelivery))
        attempts = session.scalars(select(OutboundAttempt).order_by(OutboundAttempt.number)).all()
        assert (delivery.status, delivery.attempts, delivery.channel) == ("delivered", 3, "sms")
        assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 500), (3, 201)]

    visitor_id = agent.call("visitor:panel", {"conversation_id": conversation_id})["visitor"]["visitor_id"]
    logged = agent.call("call:log", {"visitor_id": visitor_id, "direction": "outbound",
                                     "duration_seconds": 95, "note": "Called back about the parcel"})
    assert logged["ok"], logged
    assert logged["call"]["status"] == "logged" and logged["call"]["logged_by"] == tenant.agents[0].name
    panel = agent.call("visitor:panel", {"conversation_id": conversation_id})
    assert [c["note"] for c in panel["visitor"]["calls"]] == ["Called back about the parcel"]
    refused = agent.call("call:log", {"visitor_id": visitor_id, "direction": "sideways",
                                      "duration_seconds": 5, "note": ""})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_direction"
