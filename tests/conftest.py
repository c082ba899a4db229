"""Fixtures: a real database per backend (SQLite files, or a fresh PostgreSQL database with Redis),
tenants made and dropped per test, live server processes and real Socket.IO clients."""
import contextlib
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get("SWITCHBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _redis_url_of_this_worker(base: str) -> str:
    """pytest-xdist workers each get the next Redis database after the configured one: RQ queues and
    the session-end flush must not reach another worker's jobs."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    server, _, database = base.rpartition("/")
    return f"{server}/{int(database or 0) + index}"


REDIS_TEST_URL = _redis_url_of_this_worker(os.environ.get("SWITCHBOARD_TEST_REDIS", "redis://127.0.0.1:6379/11"))
PASSWORD = "correct horse battery"
TEST_PASSWORD_HASH_COST = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024}


def need(service: str, error: Exception | None) -> None:
    """Skip on a developer's machine without the service; fail in CI, where it must be there."""
    if error is None:
        return
    message = f"{service} is not reachable: {error}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (SWITCHBOARD_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def _probe_postgres() -> Exception | None:
    import psycopg

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except Exception as error:  # any failure means "not usable here"
        return error
    return None


def _probe_redis() -> Exception | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        return error
    return None


@pytest.fixture(scope="session")
def redis_url():
    need("Redis", _probe_redis())
    yield REDIS_TEST_URL
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()


@dataclass
class Backend:
    name: str
    env: dict  # what a server process needs to share this storage


class KeptForTheSession:
    """Values made at most once per process and kept until the session ends, torn down in reverse.

    pytest keeps one value of a parametrised session fixture at a time. Test files run one after
    another (`--dist loadfile`), each its sqlite tests then its postgresql ones, so the backend,
    app and server fixtures would be rebuilt twice per file: a new database, a migrated registry
    and a server start each time, about a fifth of the suite's time. Keeping them is what a run in
    one process (`-n 0`, where pytest orders every sqlite test first) does anyway."""

    def __init__(self):
        self.values = {}
        self.cleanup = contextlib.ExitStack()

    def get(self, key, make, *args):
        """``make(*args)`` is a generator, like a fixture: what it yields is kept, the rest of it
        runs at the end of the session."""
        if key not in self.values:
            made = make(*args)
            self.values[key] = next(made)
            self.cleanup.callback(next, made, None)
        return self.values[key]


@pytest.fixture(scope="session")
def kept_for_the_session():
    kept = KeptForTheSession()
    with kept.cleanup:
        yield kept


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory, kept_for_the_session):
    return kept_for_the_session.get(("backend", request.param), _make_backend, request, tmp_path_factory)


def _make_backend(request, tmp_path_factory):
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    env = {
        "SWITCHBOARD_INSTANCE": str(instance),
        "SECRET_KEY": secrets.token_hex(16),
        "SWITCHBOARD_SOCKETIO_CHANNEL": f"switchboard-test-{uuid.uuid4().hex[:8]}",
        # Lexical matching only, whether or not the [semantic] extra happens to be installed, so
        # every machine runs the same bot; tests of the semantic re-rank say so themselves.
        "SWITCHBOARD_BOT_SEMANTIC": "0",
        # The SMS provider and webhook receivers of the tests listen on 127.0.0.1.
        "SWITCHBOARD_OUTBOUND_PRIVATE_ADDRESSES": "1",
        # Real Argon2id, at a cost that lets a suite of a thousand logins run in seconds, not minutes.
        "SWITCHBOARD_PASSWORD_HASH_TIME_COST": str(TEST_PASSWORD_HASH_COST["PASSWORD_HASH_TIME_COST"]),
        "SWITCHBOARD_PASSWORD_HASH_MEMORY_KIB": str(TEST_PASSWORD_HASH_COST["PASSWORD_HASH_MEMORY_KIB"]),
        # Servers live for a whole worker session, and PostgreSQL's 100 connections are shared by
        # all workers: keep few idle ones (bursts still open up to SWITCHBOARD_DB_MAX_OVERFLOW more).
        "SWITCHBOARD_DB_POOL_SIZE": "2",
        # Nor fold report rollups every 5 minutes: each server would queue a fold of each of the
        # session's hundreds of tenants, and the export tests' burst RQ worker would have to run
        # them all before it exits. Rollup tests fold explicitly (tests/test_reports_rollups.py).
        "SWITCHBOARD_REPORT_ROLLUP_SECONDS": "86400",
    }
    if request.param == "sqlite":
        yield Backend("sqlite", env)
        return
    need("PostgreSQL", _probe_postgres())
    redis_url = request.getfixturevalue("redis_url")
    import psycopg

    name = f"switchboard_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env.update(DATABASE_URL=POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", REDIS_URL=redis_url)
    yield Backend("postgresql", env)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _no_jobs_of_earlier_tests(request):
    if "backend" in request.fixturenames:
        backend = request.getfixturevalue("backend")
        if "REDIS_URL" in backend.env:
            from tests.rq_helpers import forget_earlier_jobs

            forget_earlier_jobs(backend.env["REDIS_URL"])


def app_overrides(backend: Backend, **extra) -> dict:
    """create_app() settings that share ``backend``'s storage with its server processes."""
    overrides = {
        "INSTANCE_PATH": backend.env["SWITCHBOARD_INSTANCE"],
        "SECRET_KEY": backend.env["SECRET_KEY"],
        "DATABASE_URL": backend.env.get("DATABASE_URL"),
        "REDIS_URL": backend.env.get("REDIS_URL"),
        "BOT_SEMANTIC": False,
        "TESTING": True,
        **TEST_PASSWORD_HASH_COST,
        **extra,
    }
    return {k: v for k, v in overrides.items() if v is not None}


@pytest.fixture(scope="session")
def app(backend, kept_for_the_session):
    return kept_for_the_session.get(("app", backend.name), _make_app, backend)


def _make_app(backend):
    from saas import create_app
    from saas.extensions import db
    from tenants import provisioning

    app = create_app(app_overrides(backend))
    with app.app_context():
        provisioning.migrate_registry()
    yield app
    with app.app_context():
        app.extensions["switchboard_tenants"].dispose()
        db.engine.dispose()


@dataclass
class Person:
    email: str
    name: str
    role: str
    id: int
    password: str = PASSWORD


@dataclass
class TenantFixture:
    ref: object
    owner: Person
    agents: list[Person] = field(default_factory=list)
    admins: list[Person] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.ref.slug

    @property
    def widget_key(self) -> str:
        return self.ref.widget_key


_slugs = itertools.count(1)


@pytest.fixture
def make_tenant(app):
    """Create tenants (owner + agents) through the real sign-up service; drop them afterwards."""
    from saas.services import accounts
    from tenants import provisioning, registry, tenant_context, tenant_session

    made = []

    def make(agents: int = 1, admins: int = 0) -> TenantFixture:
        slug = f"t{next(_slugs)}-{uuid.uuid4().hex[:6]}"
        with app.app_context():
            tenant, owner = accounts.sign_up(
                slug=slug, company=f"Company {slug}", email=f"owner@{slug}.test",
                display_name="Owner", password=PASSWORD,
            )
            fixture = TenantFixture(tenant, Person(owner.email, owner.display_name, owner.role, owner.id))
            with tenant_context(tenant):
                session = tenant_session()
                for role, count, people in (("agent", agents, fixture.agents), ("admin", admins, fixture.admins)):
                    for n in range(count):
                        user = accounts.add_user(session, email=f"{role}{n}@{slug}.test",
                                                 display_name=f"{role.title()} {n}", password=PASSWORD, role=role)
                        people.append(Person(user.email, user.display_name, user.role, user.id))
                session.commit()
        made.append(tenant)
        return fixture

    yield make
    with app.app_context():
        for tenant in made:
            # By address: a test may have dropped and re-created it (a new registry row), and the
            # registry outlives the test (kept for the worker's session).
            provisioning.drop_tenant(registry.find_by_slug(tenant.slug) or tenant)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``python wsgi.py`` exactly as `make serve` runs it, on a free loopback port."""

    def __init__(self, env: dict, log_dir: Path, name: str = "server", script: str = "wsgi.py"):
        self.script = script  # bench/load.py also runs its baseline server this way
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "ServerProcess":
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, self.script, "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:  # refused, or accepted while a loaded machine still starts it
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def server(backend, app, server_logs, kept_for_the_session):
    """One live server per backend for the session (the app fixture has migrated the registry)."""
    return kept_for_the_session.get(("server", backend.name), _run_server, backend, server_logs)


def _run_server(backend, server_logs):
    process = ServerProcess(backend.env, server_logs).start()
    yield process
    process.stop()


@pytest.fixture
def start_server(backend, app, server_logs):
    """Start extra server processes for one test (scale-out, restarts); all stopped afterwards."""
    started = []

    def start(extra_env: dict | None = None, name: str = "server") -> ServerProcess:
        process = ServerProcess({**backend.env, **(extra_env or {})}, server_logs, name).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def clients():
    """Real python-socketio clients, all disconnected after the test."""
    from tests.clients import ClientPool

    pool = ClientPool()
    yield pool
    pool.close_all()


def chromium_path() -> str | None:
    return shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium") or None


# --- browsers: Playwright driving Debian's chromium (never `playwright install`) ---

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    need("chromium", None if path else FileNotFoundError("no chromium on PATH (apt-get install chromium)"))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page_for(browser):
    contexts = []

    def open_page():
        context = browser.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: pytest.fail(f"unexpected dialog: {dialog.message}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


def browser_log_in(page, server, tenant, person):
    page.goto(f"{server.url}/t/{tenant.slug}/login")
    page.fill("input[name=email]", person.email)
    page.fill("input[name=password]", person.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/t/{tenant.slug}/console/")
