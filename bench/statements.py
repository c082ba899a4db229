"""SQL statements per socket event (messages, visitor connects) on the real handler path, in process,
on SQLite and PostgreSQL.

    .venv/bin/python bench/statements.py                 # both backends, writes bench/results/statements.json
    .venv/bin/python bench/statements.py --backends sqlite --messages 20 --out /tmp/statements.json

The real app's handlers run through Flask-SocketIO's test client (``socketio.test_client``): the
same guard, services and broadcasts as a live server, minus the network. Every statement the
DBAPI executes is counted by SQLAlchemy's ``before_cursor_execute`` on all engines, and every
transaction end by the ``commit`` / ``rollback`` events (each a round trip on PostgreSQL). Counts
do not depend on what else the machine runs, unlike the timings of ``load.py``; the wall time per
event is reported as well but is only indicative on a shared machine.

The scenario is load.py's: one human_only tenant, one online agent holding the conversation, no
automatic replies configured; a visitor sends, the agent replies, alternately. Then the idle
visitors' part: ``/visitor`` connects of new visitors (no token) and of returning ones (the token
their first connect was given), each up to the ``session`` event, as load.py's idle connections
make them. PostgreSQL runs without Redis here: the message queue carries emits, not SQL.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from load import ROOT, UNLIMITED_VISITORS, _create_database, _remove_tree

OUT = ROOT / "bench" / "results" / "statements.json"
VISITOR_NS, AGENT_NS = "/visitor", "/agent"


class StatementCounter:
    """Counts what every engine sends to its database while ``active``."""

    def __init__(self):
        self.active = False
        self.counts: Counter = Counter()
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._transaction_end("commit"))
        event.listen(Engine, "rollback", self._transaction_end("rollback"))

    def _statement(self, _conn, _cursor, statement, *_args):
        if self.active:
            self.counts["statements"] += 1
            self.counts[statement.split(None, 1)[0].upper()] += 1

    def _transaction_end(self, kind: str):
        def count(_conn):
            if self.active:
                self.counts[kind] += 1
        return count

    def measure(self, action) -> tuple[Counter, float]:
        self.counts = Counter()
        self.active = True
        started = time.perf_counter()
        try:
            action()
        finally:
            self.active = False
        return self.counts, time.perf_counter() - started


def _app(instance: str, database_url: str | None):
    from saas import create_app

    os.environ.update(UNLIMITED_VISITORS)
    overrides = {"INSTANCE_PATH": instance, "SECRET_KEY": secrets.token_hex(16), "BOT_SEMANTIC": False,
                 "TESTING": True}
    if database_url:
        overrides["DATABASE_URL"] = database_url
    return create_app(overrides)


def _tenant_with_agent(app):
    from saas.services import accounts
    from tenants import provisioning, tenant_context, tenant_session

    with app.app_context():
        provisioning.migrate_registry()
        tenant, _owner = accounts.sign_up(slug="bench", company="Bench Ltd", email="owner@bench.test",
                                          display_name="Owner", password=secrets.token_hex(12))
        with tenant_context(tenant):
            session = tenant_session()
            agent = accounts.add_user(session, email="agent0@bench.test", display_name="Agent 0",
                                      password=secrets.token_hex(12), role="agent")
            session.commit()
            return tenant, f"{tenant.slug}:{agent.id}:{agent.session_epoch}"  # the login cookie's user id


def _dispose_engines(app) -> None:
    from saas.extensions import db

    with app.app_context():
        app.extensions["switchboard_tenants"].dispose()
        db.engine.dispose()


def _acked(client, event_name: str, data: dict) -> dict:
    reply = client.emit(event_name, data, namespace=client.namespace, callback=True)
    if not reply or not reply.get("ok"):
        raise RuntimeError(f"{event_name} refused: {reply}")
    return reply


def _summary(samples: list[tuple[Counter, float]]) -> dict:
    kinds = sorted({kind for counts, _ in samples for kind in counts})
    return {
        "events": len(samples),
        "per_event": {kind: round(statistics.mean(counts[kind] for counts, _ in samples), 2) for kind in kinds},
        "wall_ms_median": round(statistics.median(seconds for _, seconds in samples) * 1000, 2),
    }


def measure_backend(name: str, messages: int, counter: StatementCounter) -> dict:
    from saas.extensions import socketio

    with ExitStack() as stack:
        instance = tempfile.mkdtemp(prefix=f"switchboard-statements-{name}-")
        stack.callback(_remove_tree, instance)
        app = _app(instance, _create_database(stack) if name == "postgresql" else None)
        tenant, agent_login = _tenant_with_agent(app)
        stack.callback(_dispose_engines, app)

        browser = app.test_client()
        with browser.session_transaction() as cookie:
            cookie["_user_id"] = agent_login
            cookie["_fresh"] = True
        agent = socketio.test_client(app, namespace=AGENT_NS, auth={"tenant": tenant.slug},
                                     flask_test_client=browser)
        visitor = socketio.test_client(app, namespace=VISITOR_NS, auth={"key": tenant.widget_key})
        if not (agent.is_connected(AGENT_NS) and visitor.is_connected(VISITOR_NS)):
            raise RuntimeError("the agent or the visitor could not connect")
        agent.namespace, visitor.namespace = AGENT_NS, VISITOR_NS
        started = _acked(visitor, "conversation:start", {})
        conversation_id = started["conversation"]["id"]
        if started["state"]["handler"] != "agent":
            raise RuntimeError(f"the conversation did not reach the agent: {started['state']}")

        visitor_sends, agent_replies, resends = [], [], []
        for n in range(messages):
            client_id = f"v-{uuid.uuid4().hex}"
            visitor_sends.append(counter.measure(lambda: _acked(
                visitor, "message:send", {"client_id": client_id, "body": f"visitor message {n}"})))
            resends.append(counter.measure(lambda: _acked(
                visitor, "message:send", {"client_id": client_id, "body": f"visitor message {n}"})))
            agent_replies.append(counter.measure(lambda: _acked(
                agent, "message:send", {"conversation_id": conversation_id, "client_id": f"a-{uuid.uuid4().hex}",
                                        "body": f"agent reply {n}"})))
        visitor.disconnect(namespace=VISITOR_NS)
        new_connects, returning_connects = _connects(app, tenant, counter, messages)
        agent.disconnect(namespace=AGENT_NS)
        return {"visitor message": _summary(visitor_sends), "agent reply": _summary(agent_replies),
                "visitor resend (duplicate)": _summary(resends),
                "visitor connect (new)": _summary(new_connects),
                "visitor connect (returning)": _summary(returning_connects)}


def _connected_visitor(app, auth: dict):
    from saas.extensions import socketio

    client = socketio.test_client(app, namespace=VISITOR_NS, auth=auth)
    if not client.is_connected(VISITOR_NS):
        raise RuntimeError(f"the visitor could not connect: {auth}")
    return client


def _connects(app, tenant, counter: StatementCounter, count: int):
    """``count`` connects of new visitors, then one more of each of them, returning."""
    new, returning, tokens = [], [], []
    for _ in range(count):
        clients = []
        new.append(counter.measure(lambda: clients.append(_connected_visitor(app, {"key": tenant.widget_key}))))
        (session,) = [event["args"][0] for event in clients[0].get_received(VISITOR_NS)
                      if event["name"] == "session"]
        tokens.append(session["token"])
        clients[0].disconnect(namespace=VISITOR_NS)
    for token in tokens:
        clients = []
        returning.append(counter.measure(lambda: clients.append(_connected_visitor(
            app, {"key": tenant.widget_key, "token": token}))))
        clients[0].disconnect(namespace=VISITOR_NS)
    return new, returning


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="SQL statements per socket event on the handler path.")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--messages", type=int, default=50,
                        help="visitor messages and agent replies each, and visitor connects of each kind")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    counter = StatementCounter()
    results = {name: measure_backend(name, args.messages, counter) for name in args.backends}
    report = {"python": platform.python_version(), "messages": args.messages, "backends": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, events in results.items():
        for what, summary in events.items():
            per_event = summary["per_event"]
            print(f"{name:10} {what:28} {per_event.get('statements', 0):5} statements "
                  f"{per_event.get('commit', 0):4} commits  {summary['wall_ms_median']:6} ms median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
