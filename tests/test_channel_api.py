"""The generic API channel: inbound messages by REST (token, idempotency key, bad input) and an
agent's reply delivered to the tenant's webhook, signed and retried (both backends)."""
import hashlib
import hmac
import json
import re
import time

import requests
from sqlalchemy import func, select

from saas.models import ApiChannelToken, Conversation, Message, OutboundDelivery, Visitor
from saas.services import channel_settings, issued_secrets
from tenants import tenant_context, tenant_session
from tests.channel_helpers import fast_server, receiver_for  # noqa: F401 (fixtures)
from tests.clients import TIMEOUT, csrf_token, login, manage_url


def _issue(session, name: str):
    return issued_secrets.issue(session, ApiChannelToken, name, prefix=channel_settings.TOKEN_PREFIX, example="")


def _token(app, tenant, name: str = "Telegram bridge") -> str:
    with app.app_context(), tenant_context(tenant.ref):
        return _issue(tenant_session(), name)[1]


def _count(app, tenant, model) -> int:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(func.count()).select_from(model))


def _post(http, url: str, token: str | None, body, key: str | None = "tg-update-000001", raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    return http.post(url, data=raw if raw is not None else json.dumps(body), headers=headers)


MESSAGE = {"user": {"id": "tg-4242", "name": "Mia", "phone": "+33612345678"}, "text": "Bonjour, where is my order?"}


def test_an_inbound_message_is_stored_once_per_idempotency_key_and_bad_ones_are_refused(app, make_tenant):
    tenant = make_tenant()
    token = _token(app, tenant)
    http, url = app.test_client(), f"http://localhost/t/{tenant.slug}/channels/api/v1/messages"

    first = _post(http, url, token, MESSAGE)
    assert first.status_code == 201 and first.json["ok"] and not first.json["duplicate"]
    replay = _post(http, url, token, MESSAGE)
    assert replay.status_code == 200 and replay.json["duplicate"]
    assert replay.json["message"]["id"] == first.json["message"]["id"]

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visitor = session.scalar(select(Visitor).where(Visitor.external_id == "api:tg-4242"))
        assert (visitor.name, visitor.nickname, visitor.phone) == ("Mia", "Mia", "+33612345678")
        conversation = session.scalar(select(Conversation).where(Conversation.visitor_id == visitor.id))
        assert conversation.channel == "api"
        revoked = _issue(session, "old bridge")
        issued_secrets.revoke(session, ApiChannelToken, revoked[0].id)
        assert session.get(ApiChannelToken, revoked[0].id).revoked_at is not None

    refused = {
        "no token": (_post(http, url, None, MESSAGE, key="k-00000002"), 401, "missing_token"),
        "unknown token": (_post(http, url, "sbc_not-a-token", MESSAGE, key="k-00000003"), 401, "unknown_token"),
        "revoked token": (_post(http, url, revoked[1], MESSAGE, key="k-00000004"), 401, "unknown_token"),
        "no key": (_post(http, url, token, MESSAGE, key=None), 400, "invalid_idempotency_key"),
        "bad key": (_post(http, url, token, MESSAGE, key="a b"), 400, "invalid_idempotency_key"),
        "not JSON": (_post(http, url, token, None, key="k-00000005", raw=b"{oops"), 400, "invalid_json"),
        "no user": (_post(http, url, token, {"text": "hi"}, key="k-00000006"), 400, "invalid_message"),
        "unknown field": (_post(http, url, token, {**MESSAGE, "admin": True}, key="k-00000007"), 400,
                          "invalid_message"),
        "empty text": (_post(http, url, token, {**MESSAGE, "text": " "}, key="k-00000008"), 400, "empty_message"),
        "too long": (_post(http, url, token, {**MESSAGE, "text": "x" * 6000}, key="k-00000009"), 400,
                     "message_too_long"),
        "oversized": (_post(http, url, token, {**MESSAGE, "text": "x" * 70_000}, key="k-00000010"), 413, "too_large"),
    }
    for what, (response, status, code) in refused.items():
        assert response.status_code == status, (what, response.json)
        assert response.json["ok"] is False and response.json["error"]["code"] == code, what
        assert response.json["error"]["message"], what
    assert _count(app, tenant, Message) == 1 and _count(app, tenant, Visitor) == 1


def _verified(secret: str, body: bytes, header: str) -> bool:
    """What the README tells a receiver to do."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def _set_up_in_admin(server, tenant, webhook_url: str) -> tuple[str, str]:
    """As an owner would on Admin → Channels: the webhook, then a token. Returns (token, signing secret)."""
    page_url = manage_url(server, tenant, "channels/")
    agent_http = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent_http.get(page_url, timeout=TIMEOUT).status_code == 403
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    page = http.get(page_url, timeout=TIMEOUT)
    settings_url, tokens_url = page_url + "settings", page_url + "secrets"
    bad = http.post(settings_url, data={"csrf_token": csrf_token(page.text), "api_webhook_url": "ftp://x"},
                    timeout=TIMEOUT)
    assert bad.status_code == 400 and "must be an http:// or https:// address" in bad.text
    saved = http.post(settings_url, data={"csrf_token": csrf_token(page.text), "api_webhook_url": webhook_url},
                      timeout=TIMEOUT)
    assert saved.status_code == 200 and "Channel settings saved." in saved.text
    created = http.post(tokens_url, data={"csrf_token": csrf_token(page.text), "name": "Telegram bridge"},
                        timeout=TIMEOUT)
    token = re.search(r'id="new-channel-token">([^<]+)<', created.text).group(1)
    secret = re.search(r'id="api-signing-secret">([0-9a-f]+)<', created.text).group(1)
    assert token not in http.get(page_url, timeout=TIMEOUT).text  # shown once
    return token, secret


def test_an_agents_reply_reaches_the_webhook_signed_once_accepted_after_two_failures(
        app, make_tenant, fast_server, receiver_for, clients):
    webhook = receiver_for([500, 500, 200])
    tenant = make_tenant()
    token, secret = _set_up_in_admin(fast_server, tenant, webhook.url)
    agent = clients.agent(fast_server, tenant, tenant.agents[0])
    statuses = []
    agent.sio.on("message:delivery", statuses.append, namespace="/agent")

    url = f"{fast_server.url}/t/{tenant.slug}/channels/api/v1/messages"
    assert _post(requests, url, token, MESSAGE).status_code == 201
    conversation_id = agent.next_event()["conversation"]["id"]
    sent = agent.send(conversation_id, "It ships **today**.")
    assert sent["ok"] and sent["message"]["extras"]["delivery"]["status"] == "queued"

    deadline = time.monotonic() + 20
    while not any(e["delivery"]["status"] == "delivered" for e in statuses):
        assert time.monotonic() < deadline, statuses
        time.sleep(0.05)
    assert [r.answered for r in webhook.received] == [500, 500, 200]
    assert len({r.body for r in webhook.received}) == 1  # the same request each time
    accepted = webhook.received[-1]
    assert _verified(secret, accepted.body, accepted.headers["X-Switchboard-Signature"])
    assert not _verified("another secret", accepted.body, accepted.headers["X-Switchboard-Signature"])
    payload = json.loads(accepted.body)
    assert payload["idempotency_key"] == accepted.headers["Idempotency-Key"]
    assert payload["event"] == "message.created" and payload["user"] == {"id": "tg-4242"}
    assert payload["conversation_id"] == conversation_id and payload["message"]["text"] == "It ships **today**."
    assert statuses[-1]["delivery"]["attempts"] == 3

    # Our side of idempotency: the same agent message never becomes a second delivery.
    with app.app_context(), tenant_context(tenant.ref):
        from saas.services import outbound

        session = tenant_session()
        conversation = session.get(Conversation, conversation_id)
        message = session.get(Message, sent["message"]["id"])
        again = outbound.after_agent_message(session, conversation, message)
        assert again.id == statuses[-1]["delivery"]["id"] and again.status == "delivered"
        assert session.scalar(select(func.count()).select_from(OutboundDelivery)) == 1
    assert len(webhook.received) == 3


def test_a_delivery_is_claimed_by_one_job_retried_on_5xx_given_up_on_4xx_and_resumed_after_a_crash(
        app, make_tenant):
    from datetime import timedelta

    from saas.models import utcnow
    from saas.services import outbound

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        request = outbound.Request(url="http://127.0.0.1:9/hook", payload={"a": 1}, idempotency_key="k-lease-0001",
                                   secret="s3cret")
        delivery, is_new = outbound.queue_delivery(session, "api", request)
        assert is_new and outbound.queue_delivery(session, "api", request) == (delivery, False)
        assert delivery.headers["X-Switchboard-Signature"] == outbound.signature("s3cret", b'{"a":1}')

        claimed = outbound.claim(session, delivery.id)
        assert claimed.status == "sending" and outbound.claim(session, delivery.id) is None  # a duplicate job
        assert outbound.due_ids(session) == []  # leased to the job sending it
        # That job's process died mid-request: once the lease runs out the delivery is due again.
        claimed.next_attempt_at = utcnow() - timedelta(seconds=1)
        session.commit()
        assert outbound.due_ids(session) == [delivery.id]
        again = outbound.claim(session, delivery.id)
        assert again.attempts == 2
        retry_in = outbound.record(session, again, outbound.Response(503, "HTTP 503"))
        assert retry_in == 2 * app.config["OUTBOUND_BACKOFF_SECONDS"] and again.status == "queued"

        third = outbound.claim(session, delivery.id)
        assert outbound.record(session, third, outbound.Response(400, "HTTP 400 Bad Request")) is None
        assert (third.status, third.attempts, third.last_error) == ("failed", 3, "HTTP 400 Bad Request")
        assert outbound.claim(session, delivery.id) is None

        # Tenants choose the URLs: by default nothing is sent to a loopback, private or link-local address.
        assert not app.config["OUTBOUND_PRIVATE_ADDRESSES"]
        refused = outbound.send(third)
        assert refused.final and not refused.retryable and refused.error == "Refused: the address 127.0.0.1 is not public."
        assert outbound._private_address("http://169.254.169.254/latest/meta-data") == "169.254.169.254"
        assert outbound._private_address("https://[::1]:8443/hook") == "::1"
