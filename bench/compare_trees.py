"""Two trees measured back to back, alternating, on the message path (issue 9): before vs after.

    git worktree add /tmp/base HEAD        # the tree without the change
    .venv/bin/python bench/compare_trees.py /tmp/base . --out /tmp/compare.json

Each tree is measured with its own code (the servers run from its folder, its bench/load.py and
bench/statements.py drive them), in two ways:

* ``instructions`` (valgrind's callgrind, exact and independent of the machine's load): the socket
  handlers in process, as bench/statements.py drives them (Flask-SocketIO's test client, which
  cannot use a message queue: PostgreSQL without Redis), for a visitor message followed by an agent
  reply; counted as the difference between a run of ``--long`` such pairs and one of ``--short``,
  so the start-up cancels out. The instructions of this process only: PostgreSQL's own work is not
  counted (its round trips are, on this side).
* ``server CPU`` (from /proc, with the load average of each step): one server process on
  PostgreSQL + Redis (bench/load.py's ``pg1``), 30 visitors sending at ``--rate`` messages/s for
  ``--reps`` steps of ``--seconds`` to two agents; the server's CPU time per acknowledged message.
  On a busy machine a starved server falls behind and its figure rises with the backlog: compare
  steps whose messages were all acknowledged.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

PYTHON = sys.executable
def _use_tree(tree: Path) -> None:
    sys.path[:0] = [str(tree / "bench"), str(tree)]


def server_worker(tree: Path, rate: int, seconds: float, reps: int) -> dict:
    _use_tree(tree)
    import load

    with ExitStack() as stack:
        target = load.Target("pg1", stack, Path(tempfile.mkdtemp(prefix="switchboard-compare-")))
        clients = load.ClientPool(2, target.urls, target.widget_key)
        stack.callback(clients.close)
        clients.all({"cmd": "connect_visitors", "count": 15})
        clients.ask([{"cmd": "connect_agents", "cookies": target.cookies, "slug": target.slug}, None])
        clients.all({"cmd": "hello"})
        load.run_step(target, clients, rate, seconds, 1.0)  # warm-up, not counted
        steps = []
        for _ in range(reps):
            load_average = os.getloadavg()[0]
            step = load.run_step(target, clients, rate, seconds, 1.0)
            steps.append({"server_cpu_ms_per_message": step["server_cpu_ms_per_message"],
                          "sent": step["sent"], "acked_ok": step["acked_ok"],
                          "latency_ms": step["latency_ms"], "load_average": round(load_average, 2)})
        return {"rate": rate, "seconds": seconds, "steps": steps}


def instructions_worker(tree: Path, pairs: int) -> dict:
    """The driven part of bench/statements.py, ``pairs`` times a visitor message and an agent reply."""
    _use_tree(tree)
    import statements
    from load import _create_database, _remove_tree
    from saas.extensions import socketio

    with ExitStack() as stack:
        instance = tempfile.mkdtemp(prefix="switchboard-compare-")
        stack.callback(_remove_tree, instance)
        app = statements._app(instance, _create_database(stack))
        tenant, agent_login = statements._tenant_with_agent(app)
        if isinstance(agent_login, int):  # a tree from before login cookies carried the session epoch
            agent_login = f"{tenant.slug}:{agent_login}:0"
        stack.callback(statements._dispose_engines, app)
        browser = app.test_client()
        with browser.session_transaction() as cookie:
            cookie["_user_id"] = agent_login
            cookie["_fresh"] = True
        agent = socketio.test_client(app, namespace=statements.AGENT_NS, auth={"tenant": tenant.slug},
                                     flask_test_client=browser)
        visitor = socketio.test_client(app, namespace=statements.VISITOR_NS, auth={"key": tenant.widget_key})
        agent.namespace, visitor.namespace = statements.AGENT_NS, statements.VISITOR_NS
        conversation_id = statements._acked(visitor, "conversation:start", {})["conversation"]["id"]
        for n in range(pairs):
            statements._acked(visitor, "message:send", {"client_id": f"v-{uuid.uuid4().hex}", "body": f"visitor {n}"})
            statements._acked(agent, "message:send", {"conversation_id": conversation_id,
                                                      "client_id": f"a-{uuid.uuid4().hex}", "body": f"agent {n}"})
            visitor.get_received(statements.VISITOR_NS)
            agent.get_received(statements.AGENT_NS)
        return {"pairs": pairs}


def _worker(*args: str) -> dict:
    out = subprocess.run([PYTHON, __file__, "--worker", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _instructions(tree: Path, pairs: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "callgrind.log"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out", f"--log-file={log}",
                        PYTHON, __file__, "--worker", "instructions", str(tree), str(pairs)],
                       check=True, capture_output=True)
        return int(re.search(r"Collected : (\d+)", log.read_text()).group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Two trees measured back to back on the message path.")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rate", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="server CPU: before, after, before, after…")
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--long", type=int, default=60)
    parser.add_argument("--skip", choices=["instructions", "server"], default=None)
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args(argv)
    trees = {"before": options.before.resolve(), "after": options.after.resolve()}
    report = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
              "trees": {name: str(path) for name, path in trees.items()}, "options": vars(options) | {
                  "before": str(options.before), "after": str(options.after), "out": str(options.out)}}
    if options.skip != "instructions":
        report["instructions_per_visitor_message_and_agent_reply"] = {}
        for name, tree in trees.items():
            counts = {pairs: _instructions(tree, pairs) for pairs in (options.short, options.long)}
            per_pair = (counts[options.long] - counts[options.short]) / (options.long - options.short)
            report["instructions_per_visitor_message_and_agent_reply"][name] = {
                "runs": {str(k): v for k, v in counts.items()}, "per_pair": round(per_pair)}
            print(f"{name}: {per_pair / 1e6:.2f} M instructions per visitor message + agent reply", flush=True)
    if options.skip != "server":
        report["server_cpu"] = {name: [] for name in trees}
        for _ in range(options.rounds):
            for name, tree in trees.items():
                result = _worker("server", str(tree), str(options.rate), str(options.seconds), str(options.reps))
                report["server_cpu"][name].append(result)
                print(f"{name}: {[s['server_cpu_ms_per_message'] for s in result['steps']]} ms per message, "
                      f"load {[s['load_average'] for s in result['steps']]}", flush=True)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        kind, tree, *rest = sys.argv[2:]
        worker = server_worker if kind == "server" else instructions_worker
        print(json.dumps(worker(Path(tree), *[float(x) if "." in x else int(x) for x in rest])))
    else:
        sys.exit(main())
