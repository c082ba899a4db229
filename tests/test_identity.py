"""Known contacts: a valid signature merges the anonymous visitor into the contact, a bad one is
refused and merges nothing; the secret is shown to admins and rotates. Both backends."""
import re

from saas.services import identity
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT, csrf_token, login
from tests.tracking_helpers import public_id, view, visitor_row, visits_of


def _secret(app, tenant) -> str:
    with app.app_context(), tenant_context(tenant.ref):
        return identity.settings(tenant_session()).identity_secret


def _claim(secret: str, user_id: str, **details) -> dict:
    return {"user_id": user_id, "user_hash": identity.user_hash(secret, user_id), **details}


def test_a_signed_user_merges_anonymous_history_into_one_contact(server, app, make_tenant, clients):
    tenant = make_tenant()
    secret = _secret(app, tenant)
    laptop = clients.visitor(server, tenant)
    view(laptop, "https://shop.example/tents", "Tents")
    assert laptop.send("Do you ship to Norway?")["ok"]
    anonymous = visitor_row(app, tenant, public_id(app, tenant, laptop.token))

    reply = laptop.call("visitor:identify", _claim(secret, "user-42", name="Ada Lovelace", email="ada@example.com"))
    assert reply["ok"] and reply["changed"] is False, reply  # the first time, this visitor becomes the contact
    contact = visitor_row(app, tenant, anonymous.public_id)
    assert (contact.external_id, contact.name, contact.email, contact.nickname) == \
        ("user-42", "Ada Lovelace", "ada@example.com", "Ada Lovelace")

    # The same user on another device, anonymous at first: merged into the contact.
    phone = clients.visitor(server, tenant)
    view(phone, "https://shop.example/boots", "Boots")
    assert phone.send("And boots?")["ok"]
    phone_visitor = visitor_row(app, tenant, public_id(app, tenant, phone.token))
    merged = phone.call("visitor:identify", _claim(secret, "user-42"))
    assert merged["ok"] and merged["changed"] is True, merged
    assert public_id(app, tenant, merged["token"]) == anonymous.public_id
    assert len(visits_of(app, tenant, contact.id)) == 2 and visits_of(app, tenant, phone_visitor.id) == []
    assert visitor_row(app, tenant, phone_visitor.public_id).merged_into_id == contact.id

    # The phone's socket now speaks for the contact: its history is the contact's, and its old token leads there.
    history = phone.history()
    assert history["ok"] and history["conversation"]["visitor"]["name"] == "Ada Lovelace", history
    again = clients.visitor(server, tenant, token=phone.token)
    assert public_id(app, tenant, again.token) == anonymous.public_id


def test_a_bad_signature_is_refused_and_merges_nothing(server, app, make_tenant, clients):
    tenant, other = make_tenant(), make_tenant()
    secret = _secret(app, tenant)
    known = clients.visitor(server, tenant)
    assert known.call("visitor:identify", _claim(secret, "user-7"))["ok"]
    stranger = clients.visitor(server, tenant)
    view(stranger, "https://shop.example/", "Home")
    before = visitor_row(app, tenant, public_id(app, tenant, stranger.token))

    forged = [
        {"user_id": "user-7", "user_hash": "0" * 64},
        {"user_id": "user-7", "user_hash": identity.user_hash(secret, "user-8")},
        {"user_id": "user-7", "user_hash": identity.user_hash(_secret(app, other), "user-7")},  # another tenant's
        {"user_id": "user-7", "user_hash": "é" * 64},
        {"user_id": "user-7", "user_hash": ""},
    ]
    for claim in forged:
        reply = stranger.call("visitor:identify", claim)
        assert reply["ok"] is False and reply["error"]["code"] == "bad_identity_signature", (claim, reply)
        assert "nothing was merged" in reply["error"]["message"]
    too_long = stranger.call("visitor:identify", {"user_id": "x" * 300, "user_hash": "0"})
    assert too_long["error"]["code"] == "bad_identity"
    after = visitor_row(app, tenant, before.public_id)
    assert (after.external_id, after.merged_into_id) == (None, None)
    assert len(visits_of(app, tenant, after.id)) == 1

    # A signature that is right but an email that is not: refused as well, with its reason.
    bad_email = stranger.call("visitor:identify", _claim(secret, "user-9", email="not an email"))
    assert bad_email["error"]["code"] == "bad_identity" and "email" in bad_email["error"]["message"]


def test_admins_see_and_rotate_the_secret_and_the_old_one_stops_working(server, app, make_tenant, clients):
    tenant = make_tenant()
    old_secret = _secret(app, tenant)
    http = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    page = http.get(f"{server.url}/t/{tenant.slug}/admin/", timeout=TIMEOUT)
    assert old_secret in page.text
    agent_http = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    refused = agent_http.post(f"{server.url}/t/{tenant.slug}/admin/visitors/identity/rotate",
                              data={"csrf_token": csrf_token(page.text)}, timeout=TIMEOUT, allow_redirects=False)
    assert refused.status_code in (400, 403)
    assert _secret(app, tenant) == old_secret

    rotated = http.post(f"{server.url}/t/{tenant.slug}/admin/visitors/identity/rotate",
                        data={"csrf_token": csrf_token(page.text)}, timeout=TIMEOUT)
    assert rotated.status_code == 200
    new_secret = _secret(app, tenant)
    assert new_secret != old_secret and re.fullmatch(r"[0-9a-f]{64}", new_secret) and new_secret in rotated.text

    visitor = clients.visitor(server, tenant)
    assert visitor.call("visitor:identify", _claim(old_secret, "u1"))["error"]["code"] == "bad_identity_signature"
    assert visitor.call("visitor:identify", _claim(new_secret, "u1"))["ok"]
