"""Login sessions that end, and password reset links: a cookie replayed after logout, a password
change or a disable is refused; a reset link made by an admin (or mailed over SMTP) works once,
within its time, and ends the account's other sessions."""
import re
import smtpd  # noqa: F401  (deprecated, but the one SMTP server in Python 3.11's standard library)
import asyncore
import threading

import gevent
import pytest
import requests

from tests.clients import TIMEOUT, csrf_token, login, manage_url
from tests.conftest import free_port

NEW_PASSWORD = "a brand new passphrase"


def _console(http: requests.Session, server, tenant) -> requests.Response:
    return http.get(f"{server.url}/t/{tenant.slug}/console/", allow_redirects=False, timeout=TIMEOUT)


def _replay(http: requests.Session) -> requests.Session:
    """A second client holding a copy of ``http``'s cookies, as a thief would."""
    copy = requests.Session()
    copy.cookies.update(http.cookies)
    return copy


def _post_form(http, url: str, **fields) -> requests.Response:
    page = http.get(url, timeout=TIMEOUT)
    return http.post(url, data={"csrf_token": csrf_token(page.text), **fields}, allow_redirects=False,
                     timeout=TIMEOUT)


def _audit_kinds(app, tenant) -> list[str]:
    from sqlalchemy import select

    from saas.models import AuditEvent
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        return list(tenant_session().scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def test_a_session_cookie_replayed_after_logout_is_refused(server, make_tenant):
    tenant = make_tenant()
    agent = tenant.agents[0]
    http = login(server.url, tenant.slug, agent.email, agent.password)
    stolen = _replay(http)
    assert _console(stolen, server, tenant).status_code == 200  # the copy works while the session lives
    page = http.get(f"{server.url}/t/{tenant.slug}/console/", timeout=TIMEOUT)
    logout = http.post(f"{server.url}/t/{tenant.slug}/logout", data={"csrf_token": csrf_token(page.text)},
                       allow_redirects=False, timeout=TIMEOUT)
    assert logout.status_code == 302
    assert _console(stolen, server, tenant).status_code == 302, "the replayed cookie outlived the logout"
    assert _console(http, server, tenant).status_code == 302
    # Logging in again works, with a new cookie.
    assert _console(login(server.url, tenant.slug, agent.email, agent.password), server, tenant).status_code == 200


def test_an_admin_makes_a_reset_link_that_works_once_and_ends_the_old_sessions(server, app, make_tenant):
    tenant = make_tenant(agents=1, admins=1)
    agent = tenant.agents[0]
    agents_session = login(server.url, tenant.slug, agent.email, agent.password)
    admin = login(server.url, tenant.slug, tenant.admins[0].email, tenant.admins[0].password)
    team = admin.get(manage_url(server, tenant, "team/"), timeout=TIMEOUT).text
    assert f"resetlink/{agent.id}" in team, "the team list offers a reset link per member"
    made = _post_form(admin, manage_url(server, tenant, f"resetlink/{agent.id}"))
    assert made.status_code == 200
    link = re.search(r'id="reset-link" readonly value="([^"]+)"', made.text).group(1)
    assert f"/t/{tenant.slug}/password/reset/" in link

    anonymous = requests.Session()
    form = anonymous.get(link, timeout=TIMEOUT)
    assert form.status_code == 200 and agent.email in form.text
    short = anonymous.post(link, data={"csrf_token": csrf_token(form.text), "password": "short"},
                           allow_redirects=False, timeout=TIMEOUT)
    assert short.status_code == 400 and "8 to 256 characters" in short.text
    done = anonymous.post(link, data={"csrf_token": csrf_token(form.text), "password": NEW_PASSWORD},
                          allow_redirects=False, timeout=TIMEOUT)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/t/{tenant.slug}/login")

    assert _console(agents_session, server, tenant).status_code == 302, "a password change ends old sessions"
    used = requests.get(link, timeout=TIMEOUT)
    assert used.status_code == 404 and "invalid, used or expired" in used.text
    assert _console(login(server.url, tenant.slug, agent.email, NEW_PASSWORD), server, tenant).status_code == 200
    kinds = _audit_kinds(app, tenant)
    assert "password_reset_link" in kinds and "password_reset" in kinds


def test_reset_links_are_for_admins_and_only_owners_reset_owners(server, make_tenant):
    tenant = make_tenant(agents=1, admins=1)
    admin = login(server.url, tenant.slug, tenant.admins[0].email, tenant.admins[0].password)
    assert admin.get(manage_url(server, tenant, f"resetlink/{tenant.owner.id}"), timeout=TIMEOUT).status_code == 403
    assert admin.get(manage_url(server, tenant, "resetlink/999999"), timeout=TIMEOUT).status_code == 404
    agent = login(server.url, tenant.slug, tenant.agents[0].email, tenant.agents[0].password)
    assert agent.get(manage_url(server, tenant, f"resetlink/{tenant.admins[0].id}"), timeout=TIMEOUT,
                     allow_redirects=False).status_code == 403
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    assert owner.get(manage_url(server, tenant, f"resetlink/{tenant.owner.id}"), timeout=TIMEOUT).status_code == 200


def test_expired_forged_and_foreign_tokens_are_refused(app, make_tenant):
    from saas.models import User
    from saas.services import password_reset
    from saas.services.errors import NotFound
    from tenants import tenant_context, tenant_session

    first, second = make_tenant(), make_tenant()
    with app.app_context(), tenant_context(first.ref):
        session = tenant_session()
        user = session.get(User, first.agents[0].id)
        token = password_reset.make_token(first.slug, user)
        assert password_reset.user_for_token(session, first.slug, token).id == user.id
        user_id, _, signed = token.partition(".")
        for bad in (f"{first.owner.id}.{signed}", token + "x", "", "abc", "9" * 40 + "." + signed):
            with pytest.raises(NotFound):
                password_reset.user_for_token(session, first.slug, bad)
        with pytest.raises(NotFound):  # a token of one tenant is nothing in another, even for the same id
            password_reset.user_for_token(session, second.slug, token)
        app.config["PASSWORD_RESET_TTL_MINUTES"] = -1
        try:
            with pytest.raises(NotFound):
                password_reset.user_for_token(session, first.slug, token)
        finally:
            app.config["PASSWORD_RESET_TTL_MINUTES"] = 60


def test_forgot_password_without_mail_says_to_ask_an_admin(server, make_tenant):
    tenant = make_tenant()
    page = requests.get(f"{server.url}/t/{tenant.slug}/password/forgot", timeout=TIMEOUT)
    assert page.status_code == 200 and "Ask an owner or an admin" in page.text
    assert "Forgot your password?" in requests.get(f"{server.url}/t/{tenant.slug}/login", timeout=TIMEOUT).text


class _Outbox(smtpd.SMTPServer):
    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), None, decode_data=True)
        self.mails: list[tuple[list[str], str]] = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        self.mails.append((rcpttos, data))


@pytest.fixture
def outbox():
    port = free_port()
    server = _Outbox(port)
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    server.port = port
    yield server
    server.close()
    thread.join(timeout=2)


def test_with_smtp_the_link_is_mailed_and_unknown_addresses_get_the_same_answer(app, backend, make_tenant,
                                                                               outbox):
    from saas import create_app
    from tests.conftest import app_overrides

    tenant = make_tenant()
    # REDIS_URL unset: the mail job runs in this process, as on the embedded default.
    overrides = app_overrides(backend, SMTP_URL=f"smtp://127.0.0.1:{outbox.port}")
    overrides.pop("REDIS_URL", None)
    mailing = create_app(overrides)
    client = mailing.test_client()
    url = f"/t/{tenant.slug}/password/forgot"

    def ask(email: str):
        token = csrf_token(client.get(url).get_data(as_text=True))
        return client.post(url, data={"csrf_token": token, "email": email})

    known, unknown = ask(tenant.agents[0].email.upper()), ask(f"nobody@{tenant.slug}.test")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    for _ in range(50):  # the job is a greenlet of this process: let it run
        if outbox.mails:
            break
        gevent.sleep(0.1)
    assert [recipients for recipients, _ in outbox.mails] == [[tenant.agents[0].email]]
    body = outbox.mails[0][1]
    link = re.search(r"(http\S+/password/reset/\S+)", body).group(1)
    assert f"/t/{tenant.slug}/password/reset/" in link
