"""Login rate limiting: failed logins are counted per account and per client address, refused
with a clear message past the limit (even with the right password), and allowed again once the
lock-out window ends; in production mode the count is shared by every server process (Redis)."""
import time

import pytest
import redis
import requests

from tests.clients import TIMEOUT, csrf_token

# Tests that wait the lock-out out use a short window; the others one no test run outlasts.
SHORT_WINDOW_SECONDS = 2
LIMITS = {
    "SWITCHBOARD_LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
    "SWITCHBOARD_LOGIN_MAX_FAILURES_PER_ADDRESS": "5",
    "SWITCHBOARD_LOGIN_LOCKOUT_SECONDS": "600",
}
SHORT_LIMITS = {**LIMITS, "SWITCHBOARD_LOGIN_LOCKOUT_SECONDS": str(SHORT_WINDOW_SECONDS)}
LOCKED_OUT = "Too many failed logins. Try again in 10 minutes."
LOCKED_OUT_SHORTLY = "Too many failed logins. Try again in 2 seconds."


@pytest.fixture(autouse=True)
def fresh_counters(backend):
    """Every test here fails logins from 127.0.0.1 on purpose: in production mode those counts sit
    in the shared Redis, where they must not lock the rest of the suite out."""
    def clear():
        if backend.env.get("REDIS_URL"):
            connection = redis.Redis.from_url(backend.env["REDIS_URL"])
            for key in connection.scan_iter("switchboard:limits:login:*"):
                connection.delete(key)

    clear()
    yield
    clear()


def _try_login(server, tenant, email: str, password: str, headers: dict | None = None) -> requests.Response:
    http = requests.Session()
    http.headers.update(headers or {})
    page = http.get(f"{server.url}/t/{tenant.slug}/login", timeout=TIMEOUT)
    return http.post(f"{server.url}/t/{tenant.slug}/login",
                     data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
                     allow_redirects=False, timeout=TIMEOUT)


def _wait_out_the_window() -> None:
    time.sleep(SHORT_WINDOW_SECONDS + 0.2)


def test_an_account_is_locked_after_its_failures_and_unlocked_when_the_window_ends(start_server, make_tenant):
    server = start_server(SHORT_LIMITS)
    tenant = make_tenant(agents=1)
    owner, agent = tenant.owner, tenant.agents[0]
    for _ in range(3):
        assert _try_login(server, tenant, owner.email, "wrong password").status_code == 401
    locked = _try_login(server, tenant, owner.email.upper(), owner.password)  # the right one, any case
    assert locked.status_code == 429
    assert LOCKED_OUT_SHORTLY in locked.text
    # Another account from the same address is not punished for it.
    assert _try_login(server, tenant, agent.email, agent.password).status_code == 302

    _wait_out_the_window()
    assert _try_login(server, tenant, owner.email, owner.password).status_code == 302


def test_a_success_clears_the_account_count_but_not_the_address_count(start_server, make_tenant):
    server = start_server(LIMITS)
    tenant = make_tenant(agents=1)
    owner = tenant.owner
    for _ in range(2):
        assert _try_login(server, tenant, owner.email, "wrong password").status_code == 401
    assert _try_login(server, tenant, owner.email, owner.password).status_code == 302
    for _ in range(2):  # the account starts again from zero: two more failures do not lock it
        assert _try_login(server, tenant, owner.email, "wrong password").status_code == 401
    assert _try_login(server, tenant, owner.email, owner.password).status_code == 302
    # ...but the address has now failed 4 times: one more and every account is refused from it.
    assert _try_login(server, tenant, "nobody@example.test", "guess").status_code == 401
    refused = _try_login(server, tenant, tenant.agents[0].email, tenant.agents[0].password)
    assert refused.status_code == 429 and LOCKED_OUT in refused.text


def test_an_address_spraying_many_accounts_is_locked_out_and_recovers(start_server, make_tenant):
    server = start_server(SHORT_LIMITS)
    tenant = make_tenant(agents=1)
    for n in range(5):
        assert _try_login(server, tenant, f"guess{n}@example.test", "password1").status_code == 401
    refused = _try_login(server, tenant, tenant.owner.email, tenant.owner.password)
    assert refused.status_code == 429 and LOCKED_OUT_SHORTLY in refused.text

    _wait_out_the_window()
    assert _try_login(server, tenant, tenant.owner.email, tenant.owner.password).status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_the_one_counted(start_server, make_tenant):
    server = start_server({**LIMITS, "SWITCHBOARD_TRUSTED_PROXIES": "1"})
    tenant = make_tenant(agents=1)
    sprayer, colleague = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.20"}
    for n in range(5):
        assert _try_login(server, tenant, f"guess{n}@example.test", "password1", sprayer).status_code == 401
    refused = _try_login(server, tenant, tenant.owner.email, tenant.owner.password, sprayer)
    assert refused.status_code == 429 and LOCKED_OUT in refused.text
    # Everyone behind the same proxy is not locked out with the sprayer.
    assert _try_login(server, tenant, tenant.owner.email, tenant.owner.password, colleague).status_code == 302


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_failures_on_one_server_process_count_on_every_other(start_server, make_tenant):
    first, second = start_server(LIMITS, name="first"), start_server(LIMITS, name="second")
    tenant = make_tenant()
    owner = tenant.owner
    for server in (first, second, first):
        assert _try_login(server, tenant, owner.email, "wrong password").status_code == 401
    refused = _try_login(second, tenant, owner.email, owner.password)
    assert refused.status_code == 429 and LOCKED_OUT in refused.text
