"""Accounts end to end: sign-up, login/logout, invitations, role checks and the tenant/demo CLIs.

HTTP flows talk to the live ``python wsgi.py`` server with real CSRF tokens; storage and
password hashes are checked in-process against the same database the server uses.
"""
import html
import re
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select, text

from tests.clients import TIMEOUT, csrf_token, login

INVITE_LINK = re.compile(r'<code id="invite-link">([^<]*)</code>')
EMBED_SNIPPET = re.compile(r'<code id="embed-snippet">([^<]*)</code>')
NEW_PASSWORD = "a brand new passphrase"


# --- helpers ---------------------------------------------------------------------------------

def unique_slug(prefix: str = "acc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token_from(http: requests.Session, url: str) -> str:
    page = http.get(url, timeout=TIMEOUT)
    assert page.status_code == 200, f"GET {url}: {page.status_code}"
    return csrf_token(page.text)


def post_form(http: requests.Session, url: str, data: dict, token_page: str | None = None) -> requests.Response:
    """GET ``token_page`` (default: ``url``) for a CSRF token, then POST ``data`` without following redirects."""
    token = token_from(http, token_page or url)
    return http.post(url, data={"csrf_token": token, **data}, allow_redirects=False, timeout=TIMEOUT)


def path_of(response: requests.Response) -> str:
    """The redirect target as path[?query], asserting it stays on this site."""
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", urlsplit(response.url).netloc), f"redirect leaves the site: {location}"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def storage_exists(app, backend, slug: str) -> bool:
    """Does the tenant's own schema (PostgreSQL) or file (SQLite) exist, looked up independently?"""
    if backend.name == "sqlite":
        return (Path(app.config["INSTANCE_PATH"]) / "tenants" / f"{slug}.sqlite3").exists()
    engine = app.extensions["switchboard_tenants"].registry_engine
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
            {"name": "t_" + slug.replace("-", "_")},
        ).first()
    return found is not None


def find_tenant(app, slug: str):
    from tenants import registry

    with app.app_context():
        return registry.find_by_slug(slug)


def find_user(app, slug: str, email: str) -> dict | None:
    from saas.models import User
    from tenants import tenant_context, tenant_session

    tenant = find_tenant(app, slug)
    with app.app_context(), tenant_context(tenant):
        user = tenant_session().scalar(select(User).where(User.email == email))
        if user is None:
            return None
        return {"id": user.id, "role": user.role, "password_hash": user.password_hash,
                "display_name": user.display_name}


def invite_count(app, slug: str) -> int:
    from saas.models import Invite
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(find_tenant(app, slug)):
        return tenant_session().scalar(select(func.count()).select_from(Invite))


@pytest.fixture
def signed_up(app):
    """Slugs of tenants made through /signup or the CLI in a test; whatever exists is dropped afterwards."""
    from tenants import provisioning, registry

    slugs: list[str] = []
    yield slugs
    with app.app_context():
        for slug in slugs:
            tenant = registry.find_by_slug(slug)
            if tenant is not None:
                provisioning.drop_tenant(tenant)


def sign_up_over_http(server, slug: str, email: str, password: str = NEW_PASSWORD) -> requests.Response:
    http = requests.Session()
    response = post_form(http, f"{server.url}/signup", {
        "company": f"Company {slug}", "slug": slug, "name": "Olga Owner", "email": email, "password": password,
    })
    response.http = http  # the session that holds the new login, for follow-up requests
    return response


def create_invite_link(server, slug: str, owner_http: requests.Session, role: str = "agent") -> str:
    admin = f"{server.url}/t/{slug}/admin/"
    response = post_form(owner_http, f"{server.url}/t/{slug}/invites", {"role": role}, token_page=admin)
    assert response.status_code == 303, response.status_code
    assert path_of(response) == f"/t/{slug}/admin/"
    page = owner_http.get(admin, timeout=TIMEOUT)
    assert page.status_code == 200
    [link] = INVITE_LINK.findall(page.text)
    return html.unescape(link)


def set_cookie_headers(response: requests.Response) -> list[str]:
    return response.raw.headers.getlist("Set-Cookie")


# --- sign-up ---------------------------------------------------------------------------------

def test_signup_creates_tenant_owner_and_storage_logs_in_and_shows_embed_snippet(server, app, backend, signed_up):
    """POST /signup makes a tenant with its own schema/file and an argon2id-hashed owner, logs the
    owner in and lands on the admin page, which shows the one-line embed snippet with the real key."""
    slug = unique_slug("sign")
    signed_up.append(slug)
    email = f"olga@{slug}.test"
    response = sign_up_over_http(server, slug, email)
    assert response.status_code == 302, response.text[:500]
    assert path_of(response) == f"/t/{slug}/admin/"

    tenant = find_tenant(app, slug)
    assert tenant is not None and tenant.name == f"Company {slug}" and tenant.is_active
    assert storage_exists(app, backend, slug)

    owner = find_user(app, slug, email)
    assert owner is not None and owner["role"] == "owner" and owner["display_name"] == "Olga Owner"
    assert owner["password_hash"].startswith("$argon2id$")
    assert NEW_PASSWORD not in owner["password_hash"]

    admin = response.http.get(f"{server.url}/t/{slug}/admin/", allow_redirects=False, timeout=TIMEOUT)
    assert admin.status_code == 200  # the sign-up session is the owner's login
    expected = f'<script src="{server.url}/widget.js" data-key="{tenant.widget_key}" async></script>'
    assert f"data-key=&#34;{tenant.widget_key}&#34;" in admin.text
    [shown] = EMBED_SNIPPET.findall(admin.text)
    assert html.unescape(shown) == expected
    assert expected not in admin.text  # shown as text to copy, never run on the admin page itself


def test_signup_refuses_taken_reserved_and_invalid_input_and_leaves_no_tenant(server, app, backend, make_tenant,
                                                                             signed_up):
    """A taken slug is 409, a reserved slug or a short password is 400; a refused sign-up leaves no
    registry row and no storage behind."""
    existing = make_tenant(agents=0)
    taken = sign_up_over_http(server, existing.slug, f"someone@{existing.slug}.test")
    assert taken.status_code == 409 and "is taken" in taken.text

    reserved = sign_up_over_http(server, "admin", "someone@example.test")
    assert reserved.status_code == 400 and "workspace address" in reserved.text
    # "demo" belongs to `flask demo seed`, whose logins are public: sign-up may not take it.
    demo = sign_up_over_http(server, "demo", "someone@example.test")
    assert demo.status_code == 400 and "reserved" in demo.text

    slug = unique_slug("weak")
    signed_up.append(slug)
    weak = sign_up_over_http(server, slug, f"o@{slug}.test", password="short")
    assert weak.status_code == 400 and "Choose a password of 8" in weak.text
    assert find_tenant(app, slug) is None
    assert not storage_exists(app, backend, slug)
    assert weak.http.get(f"{server.url}/t/{slug}/login", timeout=TIMEOUT).status_code == 404


# --- login / logout --------------------------------------------------------------------------

ERROR_PARAGRAPH = re.compile(r'<p class="error" role="alert">([^<]*)</p>')


def test_wrong_password_and_unknown_email_get_the_same_401(server, make_tenant):
    """A wrong password and an unknown email are both 401 with the same message (no account probing)."""
    tenant = make_tenant(agents=0)
    url = f"{server.url}/t/{tenant.slug}/login"
    wrong = post_form(requests.Session(), url, {"email": tenant.owner.email, "password": "not the password"})
    unknown = post_form(requests.Session(), url, {"email": f"nobody@{tenant.slug}.test", "password": "whatever1"})
    assert wrong.status_code == 401 and unknown.status_code == 401
    assert ERROR_PARAGRAPH.findall(wrong.text) == ["Wrong email or password."]
    assert ERROR_PARAGRAPH.findall(unknown.text) == ERROR_PARAGRAPH.findall(wrong.text)
    assert "Location" not in wrong.headers


def test_login_console_logout_and_session_cookie_flags(server, make_tenant):
    """The right password redirects to the console with an HttpOnly, SameSite=Lax session cookie;
    the console is then 200; after POST logout the console sends the browser back to login."""
    tenant = make_tenant(agents=0)
    http = requests.Session()
    response = post_form(http, f"{server.url}/t/{tenant.slug}/login",
                         {"email": tenant.owner.email.upper(), "password": tenant.owner.password})
    assert response.status_code == 302
    assert path_of(response) == f"/t/{tenant.slug}/console/"
    [cookie] = [c for c in set_cookie_headers(response) if c.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "samesite=lax"

    console = f"{server.url}/t/{tenant.slug}/console/"
    page = http.get(console, allow_redirects=False, timeout=TIMEOUT)
    assert page.status_code == 200 and 'id="console"' in page.text

    logout = http.post(f"{server.url}/t/{tenant.slug}/logout", data={"csrf_token": csrf_token(page.text)},
                       allow_redirects=False, timeout=TIMEOUT)
    assert logout.status_code == 302 and path_of(logout) == f"/t/{tenant.slug}/login"
    after = http.get(console, allow_redirects=False, timeout=TIMEOUT)
    assert after.status_code == 302 and urlsplit(path_of(after)).path == f"/t/{tenant.slug}/login"


def test_login_without_csrf_token_is_refused(server, make_tenant):
    """The login form is CSRF-protected: a POST without the token is 400 and logs nobody in."""
    tenant = make_tenant(agents=0)
    http = requests.Session()
    http.get(f"{server.url}/t/{tenant.slug}/login", timeout=TIMEOUT)
    response = http.post(f"{server.url}/t/{tenant.slug}/login",
                         data={"email": tenant.owner.email, "password": tenant.owner.password},
                         allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400
    assert http.get(f"{server.url}/t/{tenant.slug}/console/", allow_redirects=False,
                    timeout=TIMEOUT).status_code == 302


def login_with_next(server, tenant, target: str) -> requests.Response:
    http = requests.Session()
    url = f"{server.url}/t/{tenant.slug}/login"
    token = csrf_token(http.get(url, params={"next": target}, timeout=TIMEOUT).text)
    return http.post(url, params={"next": target},
                     data={"csrf_token": token, "email": tenant.owner.email, "password": tenant.owner.password},
                     allow_redirects=False, timeout=TIMEOUT)


def test_login_next_follows_same_site_paths_only(server, make_tenant):
    """``next=`` is followed for a same-site path; another site (absolute or scheme-relative,
    or with a backslash) is ignored in favour of the console."""
    tenant = make_tenant(agents=0)
    followed = login_with_next(server, tenant, f"/t/{tenant.slug}/admin/")
    assert followed.status_code == 302 and followed.headers["Location"] == f"/t/{tenant.slug}/admin/"
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example", "https:/evil.example"):
        response = login_with_next(server, tenant, evil)
        assert response.status_code == 302, evil
        assert response.headers["Location"] == f"/t/{tenant.slug}/console/", evil


def test_login_next_with_a_tab_does_not_redirect_off_site(server, make_tenant):
    """A ``next`` that only looks same-site (a tab after the first slash) must not leave the site."""
    tenant = make_tenant(agents=0)
    response = login_with_next(server, tenant, "/\t/evil.example")
    assert response.status_code == 302
    assert not response.headers["Location"].startswith("//"), response.headers["Location"]


def test_login_next_with_a_newline_is_ignored_not_a_server_error(server, make_tenant):
    """A crafted ``next`` with a newline is ignored: login still succeeds into the console."""
    tenant = make_tenant(agents=0)
    response = login_with_next(server, tenant, "/\n/evil")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/t/{tenant.slug}/console/"


def test_workspace_chooser_sends_to_the_tenant_login_or_404s(server, make_tenant):
    """POST /login with an existing slug redirects to that tenant's login; an unknown slug is a 404
    with a message, on the same form."""
    tenant = make_tenant(agents=0)
    http = requests.Session()
    found = post_form(http, f"{server.url}/login", {"slug": f"  {tenant.slug.upper()} "})
    assert found.status_code == 302 and path_of(found) == f"/t/{tenant.slug}/login"
    assert http.get(f"{server.url}{path_of(found)}", timeout=TIMEOUT).status_code == 200

    missing = post_form(http, f"{server.url}/login", {"slug": unique_slug("nosuch")})
    assert missing.status_code == 404
    assert ERROR_PARAGRAPH.findall(missing.text) == ["No workspace at that address."]
    assert 'name="slug"' in missing.text


def test_a_login_in_one_tenant_is_anonymous_in_another(server, make_tenant):
    """A session made in tenant A grants nothing in tenant B: B's console redirects to B's login."""
    first, second = make_tenant(agents=0), make_tenant(agents=0)
    http = login(server.url, first.slug, first.owner.email, first.owner.password)
    assert http.get(f"{server.url}/t/{first.slug}/console/", allow_redirects=False,
                    timeout=TIMEOUT).status_code == 200
    other = http.get(f"{server.url}/t/{second.slug}/console/", allow_redirects=False, timeout=TIMEOUT)
    assert other.status_code == 302 and urlsplit(path_of(other)).path == f"/t/{second.slug}/login"
    assert http.get(f"{server.url}/t/{second.slug}/admin/", allow_redirects=False,
                    timeout=TIMEOUT).status_code == 302


# --- invitations -----------------------------------------------------------------------------

def test_invite_link_is_shown_accepted_once_and_makes_an_agent(server, app, make_tenant):
    """The owner's invite redirects (303) to the admin page showing the link; an anonymous visitor
    opens it, joins as an agent and is logged in; the same link then answers 404."""
    tenant = make_tenant(agents=0)
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    link = create_invite_link(server, tenant.slug, owner)
    assert link.startswith(f"{server.url}/t/{tenant.slug}/invite/")
    assert invite_count(app, tenant.slug) == 1

    newcomer = requests.Session()
    form = newcomer.get(link, timeout=TIMEOUT)
    assert form.status_code == 200 and 'class="role">agent<' in form.text
    email = f"newbie@{tenant.slug}.test"
    joined = newcomer.post(link, data={"csrf_token": csrf_token(form.text), "name": "Nia Newbie", "email": email,
                                       "password": NEW_PASSWORD}, allow_redirects=False, timeout=TIMEOUT)
    assert joined.status_code == 302 and path_of(joined) == f"/t/{tenant.slug}/console/"
    console = newcomer.get(f"{server.url}/t/{tenant.slug}/console/", allow_redirects=False, timeout=TIMEOUT)
    assert console.status_code == 200 and 'data-agent-name="Nia Newbie"' in console.text

    user = find_user(app, tenant.slug, email)
    assert user["role"] == "agent" and user["password_hash"].startswith("$argon2id$")
    assert login(server.url, tenant.slug, email, NEW_PASSWORD)  # the chosen password works

    again = requests.Session()
    reused = again.get(link, timeout=TIMEOUT)
    assert reused.status_code == 404 and "invalid, used or expired" in reused.text
    # Posting to a used link (with a valid CSRF token from another page) is refused as well.
    token = token_from(again, f"{server.url}/t/{tenant.slug}/login")
    second = again.post(link, data={"csrf_token": token, "name": "Sneaky", "email": f"sneaky@{tenant.slug}.test",
                                    "password": NEW_PASSWORD}, allow_redirects=False, timeout=TIMEOUT)
    assert second.status_code == 404
    assert find_user(app, tenant.slug, f"sneaky@{tenant.slug}.test") is None


def test_expired_and_bogus_invite_links_are_404(server, app, make_tenant):
    """An invite past its expiry and a made-up token both answer 404 "invalid, used or expired"."""
    from saas.models import User
    from saas.services import accounts
    from tenants import tenant_context, tenant_session

    tenant = make_tenant(agents=0)
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        owner = session.get(User, tenant.owner.id)
        _invite, expired_token = accounts.create_invite(session, owner, "agent", timedelta(seconds=-1))
        _invite, live_token = accounts.create_invite(session, owner, "agent", timedelta(hours=1))

    base = f"{server.url}/t/{tenant.slug}/invite"
    assert requests.get(f"{base}/{live_token}", timeout=TIMEOUT).status_code == 200  # control: same path works
    for token in (expired_token, "not-a-real-token-" + uuid.uuid4().hex):
        response = requests.get(f"{base}/{token}", timeout=TIMEOUT)
        assert response.status_code == 404
        assert "invalid, used or expired" in response.text
        assert 'name="password"' not in response.text


def test_invite_for_an_email_already_in_the_tenant_is_a_409_and_the_link_survives(server, app, make_tenant):
    """Joining with an email someone in the tenant already uses is 409 with a message; no user is
    added and the invite stays usable."""
    tenant = make_tenant(agents=0)
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    link = create_invite_link(server, tenant.slug, owner)

    http = requests.Session()
    form = http.get(link, timeout=TIMEOUT)
    clash = http.post(link, data={"csrf_token": csrf_token(form.text), "name": "Copycat",
                                  "email": tenant.owner.email.upper(), "password": NEW_PASSWORD},
                      allow_redirects=False, timeout=TIMEOUT)
    assert clash.status_code == 409
    assert "already uses that email" in clash.text
    assert find_user(app, tenant.slug, tenant.owner.email)["role"] == "owner"
    assert http.get(f"{server.url}/t/{tenant.slug}/console/", allow_redirects=False,
                    timeout=TIMEOUT).status_code == 302  # not logged in
    assert http.get(link, timeout=TIMEOUT).status_code == 200  # the link was not spent


@pytest.mark.parametrize("role", ["owner", "bogus"])
def test_invite_for_owner_or_unknown_role_is_refused(server, app, make_tenant, role):
    """Only admin and agent invites exist: role=owner or a made-up role flashes an error and stores nothing."""
    tenant = make_tenant(agents=0)
    owner = login(server.url, tenant.slug, tenant.owner.email, tenant.owner.password)
    admin = f"{server.url}/t/{tenant.slug}/admin/"
    response = post_form(owner, f"{server.url}/t/{tenant.slug}/invites", {"role": role}, token_page=admin)
    assert response.status_code == 303 and path_of(response) == f"/t/{tenant.slug}/admin/"
    page = owner.get(admin, timeout=TIMEOUT)
    assert 'class="flash flash-error" role="alert">An invitation is for an admin or an agent.<' in page.text
    assert INVITE_LINK.findall(page.text) == []
    assert invite_count(app, tenant.slug) == 0


# --- roles -----------------------------------------------------------------------------------

def test_agent_uses_the_console_but_not_admin_or_invites(server, app, make_tenant):
    """An agent gets the console (200) but 403 on the admin page and on POST invites (no row made)."""
    tenant = make_tenant(agents=1)
    agent = tenant.agents[0]
    http = login(server.url, tenant.slug, agent.email, agent.password)
    console = http.get(f"{server.url}/t/{tenant.slug}/console/", allow_redirects=False, timeout=TIMEOUT)
    assert console.status_code == 200
    assert http.get(f"{server.url}/t/{tenant.slug}/admin/", allow_redirects=False, timeout=TIMEOUT).status_code == 403
    invite = http.post(f"{server.url}/t/{tenant.slug}/invites",
                       data={"csrf_token": csrf_token(console.text), "role": "agent"},
                       allow_redirects=False, timeout=TIMEOUT)
    assert invite.status_code == 403
    assert invite_count(app, tenant.slug) == 0


def test_anonymous_console_and_admin_redirect_to_login_with_next(server, make_tenant):
    """Anonymous requests to the console or admin page go to the tenant's login with next= back to them,
    and logging in through that URL lands there."""
    tenant = make_tenant(agents=0)
    http = requests.Session()
    for page in ("console", "admin"):
        response = http.get(f"{server.url}/t/{tenant.slug}/{page}/", allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302
        target = urlsplit(path_of(response))
        assert target.path == f"/t/{tenant.slug}/login"
        assert parse_qs(target.query)["next"][0].startswith(f"/t/{tenant.slug}/{page}/")

    login_url = f"{server.url}{path_of(response)}"  # the admin one
    logged_in = post_form(http, login_url, {"email": tenant.owner.email, "password": tenant.owner.password})
    assert logged_in.status_code == 302 and urlsplit(path_of(logged_in)).path == f"/t/{tenant.slug}/admin/"


# --- CLI -------------------------------------------------------------------------------------

def test_tenants_cli_create_list_migrate_and_drop(app, backend, signed_up):
    """``tenants create`` makes storage and prints the widget key, ``list`` shows it, a duplicate or
    invalid slug fails with a message, ``migrate`` reports up to date, ``drop --yes`` removes it all."""
    runner = app.test_cli_runner()
    slug = unique_slug("cli")
    signed_up.append(slug)

    created = runner.invoke(args=["tenants", "create", slug, "--name", "Cli Co"])
    assert created.exit_code == 0, created.output
    tenant = find_tenant(app, slug)
    assert tenant is not None and tenant.name == "Cli Co"
    assert tenant.widget_key in created.output
    assert storage_exists(app, backend, slug)

    listed = runner.invoke(args=["tenants", "list"])
    assert listed.exit_code == 0
    assert f"{slug}\tactive\tCli Co" in listed.output.splitlines()

    duplicate = runner.invoke(args=["tenants", "create", slug, "--name", "Other"])
    assert duplicate.exit_code != 0 and f"'{slug}' is taken" in duplicate.output
    assert find_tenant(app, slug).widget_key == tenant.widget_key  # the original is untouched

    before = runner.invoke(args=["tenants", "list"]).output
    for bad in ("Bad_Slug", "a", "admin", "9lives"):
        invalid = runner.invoke(args=["tenants", "create", bad])
        assert invalid.exit_code != 0, bad
        assert "workspace address" in invalid.output, bad
    assert runner.invoke(args=["tenants", "list"]).output == before  # nothing was registered

    migrated = runner.invoke(args=["tenants", "migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert f"migrated {slug}" in migrated.output and "up to date" in migrated.output

    dropped = runner.invoke(args=["tenants", "drop", slug, "--yes"])
    assert dropped.exit_code == 0, dropped.output
    assert find_tenant(app, slug) is None
    assert not storage_exists(app, backend, slug)
    assert slug not in runner.invoke(args=["tenants", "list"]).output


def test_tenants_drop_of_an_unknown_tenant_fails(app):
    """``tenants drop nosuch --yes`` exits non-zero and says there is no such tenant."""
    result = app.test_cli_runner().invoke(args=["tenants", "drop", "nosuch", "--yes"])
    assert result.exit_code != 0
    assert "no tenant 'nosuch'" in result.output


def test_demo_seed_creates_a_demo_tenant_whose_people_can_log_in_and_reruns(app):
    """``demo seed`` creates tenant "demo" with an owner and two agents who log in with the demo
    password; running it again succeeds and adds nobody twice."""
    from saas.cli import DEMO_PASSWORD
    from saas.models import User
    from saas.services import accounts
    from tenants import provisioning, registry, tenant_context, tenant_session

    assert DEMO_PASSWORD == "switchboard-demo"
    runner = app.test_cli_runner()
    expected = {"owner@demo.test": "owner", "ada@demo.test": "agent", "bo@demo.test": "agent"}
    try:
        for _run in range(2):
            result = runner.invoke(args=["demo", "seed"])
            assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
            assert "owner@demo.test" in result.output
            tenant = find_tenant(app, "demo")
            assert tenant is not None
            with app.app_context(), tenant_context(tenant):
                session = tenant_session()
                assert session.scalar(select(func.count()).select_from(User)) == 3
                for email, role in expected.items():
                    user = accounts.authenticate(session, email, "switchboard-demo")
                    assert user is not None and user.role == role, email
                    assert accounts.authenticate(session, email, "wrong password") is None
    finally:
        with app.app_context():
            tenant = registry.find_by_slug("demo")
            if tenant is not None:
                provisioning.drop_tenant(tenant)
