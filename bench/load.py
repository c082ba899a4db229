"""Load, latency and capacity of the realtime path (issue 9), against a bare Socket.IO baseline.

    .venv/bin/python bench/load.py            # the full run (about 10 minutes), writes bench/results/load.*
    .venv/bin/python bench/load.py --quick    # a small smoke run of every target
    .venv/bin/python bench/load.py --targets embedded --quick --out /tmp/load
    .venv/bin/python bench/load.py --targets baseline,pg1 --idle-targets baseline,pg1 --no-steps --name load-idle

Targets, each started as server subprocesses exactly as `make serve` runs them (``wsgi.py``):

* ``baseline``: ``bench/echo_server.py``, a bare python-socketio server on the same stack (gevent,
  gevent-websocket) answering the same events without routing, tenancy or storage;
* ``embedded``: one Switchboard process on the embedded default (SQLite, no Redis);
* ``pg1`` / ``pg2``: one / two Switchboard processes on PostgreSQL + Redis (a fresh database
  ``switchboard_bench_<random>`` per target and Redis database 7, both cleaned up afterwards).

Figures, per target:

1. idle visitor connections one server process holds, each a real Engine.IO websocket answering the
   server's heartbeat (the widget's), held for longer than one ping interval; the server's RSS
   (/proc/<pid>/status VmRSS) before and after, per connection. Measured on a spare server process
   of the target, killed afterwards, for ``--idle-targets`` (full run: baseline and pg1, since
   opening 20,000 visitors takes minutes); the count is capped by the file descriptor limit;
2. sustained visitor -> agent messages per second: the offered rate steps up until p99 latency
   exceeds 100 ms (or fewer than 95% of the messages are delivered within the step);
3. end-to-end latency (a visitor's send -> an agent's ``message:new``) p50/p95/p99 at 100 and 1,000
   messages/s;
4. the round trip of ``conversation:open`` for a conversation of 1,000 messages;

and the servers' CPU time per message (from /proc/<pid>/stat), which depends much less than the
latencies on what else the machine runs. ``--profile DIR`` samples the servers with py-spy.

The clients are real Socket.IO clients (python-socketio's AsyncClient; idle visitors are a minimal
Engine.IO websocket client) in several client processes; their CPU time is measured and reported
next to the servers': on a 2-core machine the load generator competes with the servers for CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.clients import login  # noqa: E402
from tests.conftest import POSTGRES_ADMIN_URL, ServerProcess  # noqa: E402

RESULTS = ROOT / "bench" / "results"
REDIS_URL = os.environ.get("SWITCHBOARD_BENCH_REDIS", "redis://127.0.0.1:6379/7")
# A bench visitor sends many messages a second: far past the per-visitor flood limit of the widget.
UNLIMITED_VISITORS = {"SWITCHBOARD_VISITOR_MAX_MESSAGES": str(10**9)}
TARGETS = ("baseline", "embedded", "pg1", "pg2")
P99_LIMIT_MS = 100.0
DELIVERED_SHARE = 0.95
LATENCY_RATES = (100, 1000)  # figure (3): always measured, even past the sustained rate
MAX_SEND_WINDOW = 50  # messages in flight while seeding the 1,000-message conversation


# --- client processes -----------------------------------------------------------------------------

def _raise_fd_limit() -> int:
    """Every process may open as many sockets as the hard limit allows (it cannot be raised here)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ClientWorker:
    """One client process: visitors, agents and idle visitors, driven by commands from the parent."""

    def __init__(self, url_for: list[str], widget_key: str | None):
        self.urls, self.widget_key = url_for, widget_key
        self.visitors: list = []
        self.agents: list = []
        self.idle: list = []
        self.idle_lost = 0
        self.closing = False
        self.send_errors = 0
        self.pongs = 0
        self.receipts: dict[str, list[float]] = {}  # client id -> agents' receive times
        self.acks: dict[str, tuple[float, bool]] = {}  # client id -> (ack time, ok)
        self.sent: dict[str, float] = {}  # client id -> send time
        self.session = None

    async def handle(self, command: dict) -> dict:
        return await getattr(self, command.pop("cmd"))(**command)

    # visitors and agents: real python-socketio clients
    async def connect_visitors(self, count: int) -> dict:
        async def connect(n):
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(self.urls[n % len(self.urls)], namespaces=["/visitor"],
                                 auth={"key": self.widget_key, "token": None}, transports=["websocket"],
                                 wait_timeout=30)
            return client
        self.visitors += await asyncio.gather(*(connect(n) for n in range(count)))
        return {"visitors": len(self.visitors)}

    async def _agent(self, url: str, cookie: str, slug: str | None):
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, namespaces=["/agent"], auth={"tenant": slug},
                             headers={"Cookie": cookie} if cookie else {}, transports=["websocket"], wait_timeout=30)
        return client

    async def connect_agents(self, cookies: list[str], slug: str | None) -> dict:
        for n, cookie in enumerate(cookies):
            client = await self._agent(self.urls[n % len(self.urls)], cookie, slug)
            client.on("message:new", self._on_agent_message, namespace="/agent")
            self.agents.append(client)
        return {"agents": len(self.agents)}

    async def _on_agent_message(self, data):
        now = time.monotonic()
        self.receipts.setdefault(data["message"]["client_id"], []).append(now)

    async def _send(self, client, body: str) -> None:
        client_id = uuid.uuid4().hex
        self.sent[client_id] = time.monotonic()

        def acknowledged(reply):
            self.acks[client_id] = (time.monotonic(), bool(reply and reply.get("ok")))
        try:
            await client.emit("message:send", {"client_id": client_id, "body": body}, namespace="/visitor",
                              callback=acknowledged)
        except socketio.exceptions.SocketIOError:
            self.send_errors += 1  # the server dropped this visitor: its messages count as lost

    async def hello(self) -> dict:
        """Every visitor's first message opens (and routes) its conversation: not measured."""
        await asyncio.gather(*(client.call("message:send", {"client_id": uuid.uuid4().hex, "body": "hello"},
                                           namespace="/visitor", timeout=60) for client in self.visitors))
        return {}

    async def step(self, rate: float, seconds: float, start_at: float) -> dict:
        """Send ``rate`` messages/s from this process's visitors for ``seconds`` (open loop, evenly
        spread), starting at the monotonic time ``start_at`` shared by every client process."""
        self.sent.clear()
        self.acks.clear()
        interval = len(self.visitors) / rate
        cpu = _cpu_seconds()
        lag = []

        async def visitor_loop(n, client):
            due = start_at + interval * n / len(self.visitors)
            end = start_at + seconds
            while due < end:
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    lag.append(-delay)
                await self._send(client, "load test message")
                due += interval
        await asyncio.gather(*(visitor_loop(n, c) for n, c in enumerate(self.visitors)))
        return {"sent": dict(self.sent), "cpu": _cpu_seconds() - cpu,
                "late_sends": sum(1 for d in lag if d > 0.01), "send_errors": self.send_errors}

    async def collect(self) -> dict:
        """Acks of this process's visitors and receipts of its agents since the last collect."""
        acks, receipts = dict(self.acks), self.receipts
        self.receipts = {}
        return {"acks": acks, "receipts": receipts, "cpu": _cpu_seconds()}

    async def seed(self, messages: int) -> dict:
        """A new visitor writes ``messages`` messages (a window in flight); returns its conversation."""
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(self.urls[0], namespaces=["/visitor"], auth={"key": self.widget_key, "token": None},
                             transports=["websocket"], wait_timeout=30)
        conversation_id = None
        # The first message alone: it opens the conversation (concurrent first messages of one
        # visitor can open several, see the report of issue 9).
        for start, end in [(0, 1), *((s, min(messages, s + MAX_SEND_WINDOW)) for s in range(1, messages, MAX_SEND_WINDOW))]:
            replies = await asyncio.gather(*(client.call(
                "message:send", {"client_id": uuid.uuid4().hex, "body": f"message number {n} of the conversation"},
                namespace="/visitor", timeout=60) for n in range(start, end)))
            assert all(reply["ok"] for reply in replies), [r for r in replies if not r["ok"]][:3]
            conversation_id = replies[-1]["message"]["conversation_id"]
        await client.disconnect()
        return {"conversation_id": conversation_id}

    async def open_conversation(self, conversation_id: int, times: int, cookie: str, slug: str | None) -> dict:
        """A console that just connected opens the conversation ``times`` times."""
        agent, durations, size = await self._agent(self.urls[0], cookie, slug), [], 0
        for _ in range(times):
            began = time.monotonic()
            reply = await agent.call("conversation:open", {"conversation_id": conversation_id, "after_seq": 0},
                                     namespace="/agent", timeout=60)
            durations.append(time.monotonic() - began)
            assert reply["ok"], reply
            size = len(reply["messages"])
        await agent.disconnect()
        return {"seconds": durations, "messages": size}

    # idle visitors: a minimal Engine.IO v4 websocket client that answers the server's pings
    async def connect_idle(self, count: int, url: str, until: float, concurrency: int = 100) -> dict:
        import aiohttp

        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        gate = asyncio.Semaphore(concurrency)
        failures: dict[str, int] = {}

        async def one():
            try:
                async with gate:
                    if time.monotonic() > until:
                        raise TimeoutError("connect time budget spent")
                    ws = await self.session.ws_connect(ws_url, autoping=False, max_msg_size=0, timeout=30)
                    opened = await ws.receive_str(timeout=30)
                    assert opened.startswith("0"), opened
                    await ws.send_str("40/visitor," + json.dumps({"key": self.widget_key, "token": None}))
                    while True:
                        packet = await ws.receive_str(timeout=30)
                        if packet.startswith("40/visitor,"):
                            break
                        if packet.startswith("44/visitor,"):
                            raise RuntimeError(packet[:120])
            except Exception as exc:  # reported as a count per reason
                reason = f"{type(exc).__name__}: {str(exc)[:80]}"
                failures[reason] = failures.get(reason, 0) + 1
                return
            self.idle.append(ws)
            asyncio.get_running_loop().create_task(self._heartbeat(ws))
        await asyncio.gather(*(one() for _ in range(count)))
        return {"connected": len(self.idle), "failures": failures}

    async def _heartbeat(self, ws) -> None:
        import aiohttp

        while True:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                self.idle_lost += not self.closing  # the server dropped it (or missed our pong)
                return
            if message.data == "2":
                self.pongs += 1
                await ws.send_str("3")

    async def idle_status(self) -> dict:
        return {"open": sum(1 for ws in self.idle if not ws.closed), "lost": self.idle_lost, "pongs": self.pongs}

    async def close(self) -> dict:
        self.closing = True
        await asyncio.gather(*(ws.close() for ws in self.idle), return_exceptions=True)
        await asyncio.gather(*(c.disconnect() for c in self.visitors + self.agents), return_exceptions=True)
        if self.session is not None:
            await self.session.close()
        return {}


def _worker_main(connection, urls: list[str], widget_key: str | None) -> None:
    _raise_fd_limit()

    async def serve():
        worker = ClientWorker(urls, widget_key)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, connection.recv)
            if command is None:
                return
            try:
                connection.send({"ok": True, **await worker.handle(command)})
            except Exception as exc:
                connection.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    asyncio.run(serve())


class ClientPool:
    """Client processes, each with its own event loop; commands go to all of them at once."""

    def __init__(self, processes: int, urls: list[str], widget_key: str | None):
        context = multiprocessing.get_context("spawn")
        self.links, self.processes = [], []
        for _ in range(processes):
            parent, child = context.Pipe()
            process = context.Process(target=_worker_main, args=(child, urls, widget_key), daemon=True)
            process.start()
            self.links.append(parent)
            self.processes.append(process)

    def ask(self, commands: list[dict | None], timeout: float = 600) -> list[dict]:
        """Send one command per process (None: nothing for that one) and wait for all answers."""
        asked = []
        for link, command in zip(self.links, commands):
            if command is not None:
                link.send(command)
                asked.append(link)
        answers = []
        for link in asked:
            if not link.poll(timeout):
                raise RuntimeError(f"a client process did not answer within {timeout} s")
            answer = link.recv()
            if not answer.pop("ok"):
                raise RuntimeError(f"client process failed: {answer['error']}")
            answers.append(answer)
        return answers

    def all(self, command: dict, timeout: float = 600) -> list[dict]:
        return self.ask([dict(command) for _ in self.links], timeout)

    def close(self) -> None:
        for link in self.links:
            try:
                link.send({"cmd": "close"})
                link.poll(10) and link.recv()
                link.send(None)
            except (OSError, EOFError):
                pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


# --- servers and storage --------------------------------------------------------------------------

def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Target:
    """A running target: its server processes and, for Switchboard, a tenant with two agents."""

    def __init__(self, name: str, stack: ExitStack, log_dir: Path):
        self.name, self.servers, self.log_dir = name, [], log_dir
        self.widget_key, self.slug, self.cookies = None, None, ["", ""]
        if name == "baseline":
            self.env, self.script = {}, "bench/echo_server.py"
            self.servers.append(self._start(stack))
            return
        self.script = "wsgi.py"
        self.env = env = {"SWITCHBOARD_INSTANCE": tempfile.mkdtemp(prefix=f"switchboard-bench-{name}-"),
               "SECRET_KEY": secrets.token_hex(16), "SWITCHBOARD_BOT_SEMANTIC": "0",
               "SWITCHBOARD_SOCKETIO_CHANNEL": f"switchboard-bench-{uuid.uuid4().hex[:8]}", **UNLIMITED_VISITORS}
        stack.callback(_remove_tree, env["SWITCHBOARD_INSTANCE"])
        if name != "embedded":
            env["DATABASE_URL"] = _create_database(stack)
            env["REDIS_URL"] = REDIS_URL
        self._provision(env, stack)
        for _ in range(2 if name == "pg2" else 1):
            self.servers.append(self._start(stack))
        self.cookies = []
        for n, email in enumerate(self.agent_emails):
            http = login(self.servers[n % len(self.servers)].url, self.slug, email, self.password)
            self.cookies.append("; ".join(f"{k}={v}" for k, v in http.cookies.items()))

    def _start(self, stack: ExitStack) -> ServerProcess:
        server = ServerProcess(self.env, self.log_dir, Path(self.script).stem, script=self.script)
        stack.callback(server.stop)
        return server.start(timeout=60)

    @contextmanager
    def spare_server(self):
        """One more server process on the same storage, killed afterwards: for the idle figure.
        Dropping thousands of connections at once costs python-socketio minutes of CPU (each
        disconnect scans every room), which must not spill into the other measurements."""
        server = ServerProcess(self.env, self.log_dir, f"{Path(self.script).stem}-idle", script=self.script)
        try:
            yield server.start(timeout=60)
        finally:
            if server.process and server.process.poll() is None:
                server.process.kill()
                server.process.wait()

    def _provision(self, env: dict, stack: ExitStack) -> None:
        """The tenant, through the same services as sign-up and the team screen."""
        from saas import create_app
        from saas.extensions import db
        from saas.services import accounts
        from tenants import provisioning, tenant_context, tenant_session

        app = create_app({"INSTANCE_PATH": env["SWITCHBOARD_INSTANCE"], "SECRET_KEY": env["SECRET_KEY"],
                          "DATABASE_URL": env.get("DATABASE_URL"), "REDIS_URL": env.get("REDIS_URL"),
                          "BOT_SEMANTIC": False})
        self.slug, self.password = "bench", secrets.token_hex(12)
        self.agent_emails = ["agent0@bench.test", "agent1@bench.test"]
        with app.app_context():
            provisioning.migrate_registry()
            tenant, _owner = accounts.sign_up(slug=self.slug, company="Bench Ltd", email="owner@bench.test",
                                              display_name="Owner", password=self.password)
            with tenant_context(tenant):
                session = tenant_session()
                for n, email in enumerate(self.agent_emails):
                    accounts.add_user(session, email=email, display_name=f"Agent {n}", password=self.password,
                                      role="agent")
                session.commit()
            self.widget_key = tenant.widget_key
            app.extensions["switchboard_tenants"].dispose()
            db.engine.dispose()

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def pids(self) -> list[int]:
        return [server.process.pid for server in self.servers]


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _create_database(stack: ExitStack, prefix: str = "switchboard_bench_") -> str:
    import psycopg

    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    stack.callback(drop)
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


# --- the measurements -----------------------------------------------------------------------------

def _finite(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 2)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure_idle(server: ServerProcess, clients: ClientPool, count: int, hold: float, budget: float) -> dict:
    """Figure (1): idle websocket visitors on one server process (opened within ``budget``
    seconds: a machine that connects them slowly reports how many it reached)."""
    pid = server.process.pid
    before = _rss_kb(pid)
    began = time.monotonic()
    share = [count // len(clients.links) + (n < count % len(clients.links)) for n in range(len(clients.links))]
    answers = clients.ask([{"cmd": "connect_idle", "count": n, "url": server.url, "until": began + budget}
                           for n in share])
    connect_seconds = time.monotonic() - began
    failures: dict[str, int] = {}
    for answer in answers:
        for reason, n in answer["failures"].items():
            failures[reason] = failures.get(reason, 0) + n
    time.sleep(hold)
    status = clients.all({"cmd": "idle_status"})
    after = _rss_kb(pid)
    held = sum(s["open"] for s in status)
    return {
        "asked": count, "connected": sum(a["connected"] for a in answers), "held_after_hold": held,
        "lost_during_hold": sum(s["lost"] for s in status), "pongs": sum(s["pongs"] for s in status),
        "hold_seconds": hold, "connect_seconds": round(connect_seconds, 1), "connect_budget_seconds": budget,
        "failures": failures,
        "rss_kb_before": before, "rss_kb_after": after,
        "kb_per_connection": round((after - before) / held, 1) if held else None,
    }


def run_step(target: Target, clients: ClientPool, rate: int, seconds: float, drain: float) -> dict:
    """Every client process sends its share of ``rate`` messages/s for ``seconds``; then, after
    ``drain`` seconds for the last deliveries, what was acknowledged and delivered, and how fast."""
    pids = target.pids()
    cpu_before = [_cpu_of(pid) for pid in pids]
    start_at = time.monotonic() + 0.5
    results = clients.all({"cmd": "step", "rate": rate / len(clients.links), "seconds": seconds,
                           "start_at": start_at})
    time.sleep(drain)
    collected = clients.all({"cmd": "collect"})
    server_cpu = [_cpu_of(pid) - before for pid, before in zip(pids, cpu_before)]
    sent = {cid: t for r in results for cid, t in r["sent"].items()}
    acks = {cid: a for c in collected for cid, a in c["acks"].items()}
    receipts: dict[str, list[float]] = {}
    for c in collected:
        for cid, times in c["receipts"].items():
            receipts.setdefault(cid, []).extend(times)
    agents = len(target.cookies)
    latencies, delivered = [], 0
    for cid, sent_at in sent.items():
        times = receipts.get(cid, [])
        latencies += [(t - sent_at) * 1000 for t in times]
        delivered += len(times) == agents
    # A delivery that never came counts as slower than any that did.
    ranked = latencies + [float("inf")] * (len(sent) * agents - len(latencies))
    acked = sum(1 for cid in sent if acks.get(cid, (0, False))[1])
    step = {
        "offered_per_s": rate, "seconds": seconds, "sent": len(sent),
        "sent_per_s": round(len(sent) / seconds, 1),
        "acked_ok": acked,
        "error_acks": sum(1 for cid in sent if cid in acks and not acks[cid][1]),
        "delivered_to_every_agent": delivered, "delivered_per_s": round(delivered / seconds, 1),
        "late_sends": sum(r["late_sends"] for r in results),
        "send_errors": sum(r["send_errors"] for r in results),
        # None: that share of the deliveries never came.
        "latency_ms": {name: _finite(_percentile(ranked, q)) if ranked else None
                       for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        "server_cpu_s": [round(c, 2) for c in server_cpu],
        # Per message the servers acknowledged: independent of how much CPU the machine's other
        # processes left to them (a backlog of the step before counts here too).
        "server_cpu_ms_per_message": round(sum(server_cpu) * 1000 / acked, 2) if acked else None,
        "client_cpu_s": round(sum(r["cpu"] for r in results), 2),
    }
    step["ok"] = (step["latency_ms"]["p99"] is not None and step["latency_ms"]["p99"] <= P99_LIMIT_MS
                  and delivered >= DELIVERED_SHARE * len(sent) and step["acked_ok"] >= DELIVERED_SHARE * len(sent))
    return step


def measure_steps(target: Target, clients: ClientPool, rates: list[int], seconds: float, drain: float) -> list[dict]:
    """Figures (2) and (3): offered rate steps; stops once a step fails and 1,000/s was measured.
    A first step at the lowest rate warms up (caches, pools, the queue refreshes after the hellos)
    and is not counted."""
    run_step(target, clients, rates[0], seconds, drain)
    steps = []
    for rate in rates:
        step = run_step(target, clients, rate, seconds, drain)
        steps.append(step)
        latency = step["latency_ms"]
        print(f"  {target.name}: {rate}/s offered -> {step['delivered_per_s']}/s delivered, "
              f"p50/p95/p99 {latency['p50']}/{latency['p95']}/{latency['p99']} ms, "
              f"server cpu {step['server_cpu_s']} s, clients {step['client_cpu_s']} s"
              f"{'' if step['ok'] else '  (missed)'}", flush=True)
        if not step["ok"] and rate >= max(LATENCY_RATES):
            break
    return steps


def summarise_steps(steps: list[dict]) -> dict:
    passed = [s for s in steps if s["ok"]]
    first_failure = next((s for s in steps if not s["ok"]), None)
    sustained = max((s["delivered_per_s"] for s in passed
                     if first_failure is None or s["offered_per_s"] < first_failure["offered_per_s"]), default=0)
    costs = [s["server_cpu_ms_per_message"] for s in steps if s["server_cpu_ms_per_message"] is not None]
    return {
        "sustained_per_s": sustained,
        "server_cpu_ms_per_message": statistics.median(costs) if costs else None,
        "latency_ms_at": {str(rate): next((s["latency_ms"] for s in steps if s["offered_per_s"] == rate), None)
                          for rate in LATENCY_RATES},
    }


def measure_open(target: Target, clients: ClientPool, messages: int, times: int) -> dict:
    """Figure (4): one visitor writes ``messages``, then an agent opens the conversation ``times``."""
    if target.name == "baseline":
        conversation_id = 1  # the echo server answers with its in-memory transcript of 1,000
    else:
        conversation_id = clients.ask([{"cmd": "seed", "messages": messages}])[0]["conversation_id"]
    answer = clients.ask([{"cmd": "open_conversation", "conversation_id": conversation_id, "times": times,
                           "cookie": target.cookies[0], "slug": target.slug}])[0]
    seconds = answer["seconds"]
    return {"messages": answer["messages"], "times": times,
            "ms_median": round(statistics.median(seconds) * 1000, 1),
            "ms_p95": round(_percentile(seconds, 0.95) * 1000, 1)}


@contextmanager
def _profiled(*servers: ServerProcess, out: Path | None, phase: str):
    """With --profile: py-spy samples every server process during ``phase`` (collapsed stacks, one
    file each; py-spy is the ``bench`` extra: `pip install -e .[bench]`). Its shares say where a
    process spends its time, not how much: compare trees by the CPU time per message."""
    if out is None:
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    spies = [subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                               "--format", "raw", "--rate", "200", "--nonblocking",
                               "-o", str(out / f"{phase}-{n}.txt")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for n, pid in enumerate(server.process.pid for server in servers)]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)


def run_target(name: str, options, log_dir: Path) -> dict:
    print(f"{name}: starting", flush=True)
    with ExitStack() as stack:
        target = Target(name, stack, log_dir)
        result: dict = {"server_processes": len(target.servers)}
        if options.idle and name in options.idle_targets:
            with target.spare_server() as server:
                idle_clients = ClientPool(options.client_processes, [server.url], target.widget_key)
                try:
                    with _profiled(server, out=options.profile, phase=f"{name}-idle"):
                        result["idle"] = measure_idle(server, idle_clients, options.idle, options.idle_hold,
                                                      options.idle_budget)
                finally:
                    idle_clients.close()
            print(f"  {name}: idle {result['idle']}", flush=True)
        if options.no_steps:
            return result
        clients = ClientPool(options.client_processes, target.urls, target.widget_key)
        stack.callback(clients.close)
        per_process = [options.visitors // options.client_processes] * options.client_processes
        clients.ask([{"cmd": "connect_visitors", "count": n} for n in per_process])
        clients.ask([{"cmd": "connect_agents", "cookies": target.cookies, "slug": target.slug}])
        clients.all({"cmd": "hello"})
        result["rss_kb_loaded"] = [_rss_kb(pid) for pid in target.pids()]
        with _profiled(*target.servers, out=options.profile, phase=f"{name}-steps"):
            result["steps"] = measure_steps(target, clients, options.rates, options.step_seconds, options.drain)
        result.update(summarise_steps(result["steps"]))
        result["open_conversation"] = measure_open(target, clients, options.open_messages, options.open_times)
        print(f"  {name}: open {result['open_conversation']}", flush=True)
        return result


# --- reporting ------------------------------------------------------------------------------------

def _versions() -> dict:
    from importlib.metadata import version

    return {package: version(package) for package in
            ("python-socketio", "python-engineio", "Flask-SocketIO", "gevent", "gevent-websocket",
             "SQLAlchemy", "psycopg", "redis", "aiohttp")}


def _ratio(value, base) -> str:
    return f"{value / base:.0%}" if value and base else "–"


def markdown(report: dict) -> str:
    targets = report["targets"]
    base = targets.get("baseline") or {}
    labels = {"baseline": "bare python-socketio echo (baseline)", "embedded": "embedded (SQLite, 1 process)",
              "pg1": "PostgreSQL + Redis, 1 process", "pg2": "PostgreSQL + Redis, 2 processes"}
    lines = ["| target | idle connections held | KB each | sustained msg/s (p99 ≤ 100 ms) | vs baseline "
             "| server CPU per message | p50 / p95 / p99 at 100/s | p50 / p95 / p99 at 1,000/s "
             "| conversation:open (messages) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def triple(latency):
        if not latency:
            return "not run"
        return " / ".join("lost" if latency[k] is None else f"{latency[k]:g}" for k in ("p50", "p95", "p99")) + " ms"

    for name, result in targets.items():
        if "error" in result:
            lines.append(f"| {labels[name]} | failed: {result['error'][:120]} |" + " |" * 7)
            continue
        idle = result.get("idle")
        held = f"{idle['held_after_hold']:,} of {idle['asked']:,}" if idle else "not measured"
        if "steps" not in result:  # --no-steps
            lines.append(f"| {labels[name]} | {held} | {idle['kb_per_connection'] if idle else '–'} |"
                         + " not run |" * 6)
            continue
        lines.append(
            f"| {labels[name]} | {held} | {idle['kb_per_connection'] if idle else '–'} | {result['sustained_per_s']:g} "
            f"| {'–' if name == 'baseline' else _ratio(result['sustained_per_s'], base.get('sustained_per_s'))} "
            f"| {result['server_cpu_ms_per_message']:g} ms "
            f"| {triple(result['latency_ms_at'].get('100'))} | {triple(result['latency_ms_at'].get('1000'))} "
            f"| {result['open_conversation']['ms_median']:g} ms ({result['open_conversation']['messages']}) |")
    env = report["environment"]
    lines.append("")
    lines.append(f"{env['cpus']} CPUs, load average {env['load_average_at_start'][0]:.2f} at start; "
                 f"{report['options']['client_processes']} client processes; "
                 f"{'quick run' if report['options']['quick'] else 'full run'}"
                 f"{', idle figure only' if report['options']['no_steps'] else ''}, {report['seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Load, latency and capacity benchmark (issue 9).")
    parser.add_argument("--quick", action="store_true", help="a small smoke run (seconds, not minutes)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}")
    parser.add_argument("--idle", type=int, default=None, help="idle visitor connections to open (full: 20000)")
    parser.add_argument("--idle-targets", default=None,
                        help="targets whose idle capacity is measured (full: baseline,pg1, as opening thousands "
                             "of visitors takes minutes; quick: all)")
    parser.add_argument("--idle-budget", type=float, default=None, help="seconds to open them (full: 150)")
    parser.add_argument("--idle-hold", type=float, default=None, help="seconds to hold them (full: 30, > one ping)")
    parser.add_argument("--visitors", type=int, default=None, help="active visitors sending messages")
    parser.add_argument("--client-processes", type=int, default=3)
    parser.add_argument("--no-steps", action="store_true",
                        help="only the idle figure: no message rate steps, no conversation:open")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="load", help="results file names: OUT/NAME.json and OUT/NAME.md")
    parser.add_argument("--profile", type=Path, default=None,
                        help="sample the servers with py-spy during the rate steps, into this folder")
    options = parser.parse_args(argv)
    quick = options.quick
    fd_limit = _raise_fd_limit()  # inherited by the servers and client processes
    # A server process cannot hold more sockets than its file descriptor limit (minus its own files).
    options.idle = (100 if quick else min(20000, fd_limit - 500)) if options.idle is None else options.idle
    options.idle_budget = (30.0 if quick else 150.0) if options.idle_budget is None else options.idle_budget
    options.idle_targets = (options.idle_targets or (options.targets if quick else "baseline,pg1")).split(",")
    options.idle_hold = (2.0 if quick else 30.0) if options.idle_hold is None else options.idle_hold
    options.visitors = (12 if quick else 150) if options.visitors is None else options.visitors
    options.rates = [50, 100] if quick else [100, 250, 500, 750, 1000, 1500, 2000, 3000]
    options.step_seconds = 1.0 if quick else 5.0
    options.drain = 1.0 if quick else 2.0
    options.open_messages = 100 if quick else 1000
    options.open_times = 3 if quick else 10
    targets = [t.strip() for t in options.targets.split(",") if t.strip()]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")

    began = time.monotonic()
    report = {
        "environment": {
            "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "python": platform.python_version(),
            "platform": platform.platform(), "fd_limit": fd_limit, "versions": _versions(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "engineio_ping_interval_s": 25, "redis": REDIS_URL,
        },
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
        "targets": {},
    }
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-logs-"))
    print(f"server logs go to {log_dir}", flush=True)
    try:
        for name in targets:
            try:
                report["targets"][name] = run_target(name, options, log_dir)
            except Exception as exc:  # the other targets still run; the report says what failed
                traceback.print_exc()
                report["targets"][name] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        _flush_bench_redis()
    report["seconds"] = time.monotonic() - began
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"{options.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (options.out / f"{options.name}.md").write_text(markdown(report))
    print(markdown(report))
    return 1 if any("error" in result for result in report["targets"].values()) else 0


def _flush_bench_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError:
        pass


if __name__ == "__main__":
    sys.exit(main())
