"""What one idle visitor connection holds in a server process (issue 9): a target of bench/load.py
is started under tracemalloc (bench/traced_server.py), ``--warm`` idle visitors connect (one-time
costs: caches, pools, imports), a snapshot; ``--count`` more connect and are held past a
heartbeat, a second snapshot. The difference, divided by ``--count``: Python allocations per
connection by allocation site and by file, live objects per connection by type, and RSS.
tracemalloc sees Python's allocations only (not the C stacks of greenlets, nor the allocator's
own slack): the RSS line says how much that leaves out.

    .venv/bin/python bench/idle_memory.py --targets baseline,embedded --count 2000
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402
from load import ClientPool, Target  # noqa: E402

from tests.conftest import ServerProcess  # noqa: E402


def _snapshot(server: ServerProcess, trace_dir: Path, n: int) -> tuple[tracemalloc.Snapshot, dict]:
    os.kill(server.process.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not (trace_dir / f"{n}.done").exists():
        if time.monotonic() > deadline or server.process.poll() is not None:
            raise RuntimeError(f"no snapshot {n}:\n{server.log()}")
        time.sleep(0.2)
    return (tracemalloc.Snapshot.load(str(trace_dir / f"{n}.snapshot")),
            json.loads((trace_dir / f"{n}.json").read_text()))


def _site(frames, depth: int) -> str:
    """The innermost ``depth`` frames, shortened to the package path."""
    def short(frame):
        name = frame.filename
        for marker in ("site-packages/", "/work/main/", "/lib/python3"):
            if marker in name:
                name = name.split(marker, 1)[1]
        return f"{name}:{frame.lineno}"
    return " <- ".join(short(f) for f in list(reversed(frames))[:depth])


def measure(name: str, options, log_dir: Path) -> dict:
    with ExitStack() as stack:
        target = Target(name, stack, log_dir)
        trace_dir = Path(tempfile.mkdtemp(prefix=f"switchboard-trace-{name}-"))
        stack.callback(load._remove_tree, str(trace_dir))
        server = ServerProcess({**target.env, "SWITCHBOARD_TRACED_SCRIPT": target.script,
                                "SWITCHBOARD_TRACE_DIR": str(trace_dir),
                                "SWITCHBOARD_TRACE_FRAMES": str(options.frames)},
                               log_dir, f"{name}-traced", script="bench/traced_server.py")
        stack.callback(server.stop)
        server.start(timeout=120)
        clients = ClientPool(options.client_processes, [server.url], target.widget_key)
        stack.callback(clients.close)

        def connect(count: int) -> int:
            share = [count // len(clients.links) + (n < count % len(clients.links)) for n in range(len(clients.links))]
            answers = clients.ask([{"cmd": "connect_idle", "count": n, "url": server.url,
                                    "until": time.monotonic() + 600} for n in share])
            failures = [a["failures"] for a in answers if a["failures"]]
            if failures:
                raise RuntimeError(f"idle connects failed: {failures}")
            return sum(a["connected"] for a in answers)

        warm = connect(options.warm)  # connect_idle answers every connection of its process so far
        time.sleep(options.hold)
        before, before_info = _snapshot(server, trace_dir, 0)
        began = time.monotonic()
        count = connect(options.count) - warm
        connect_seconds = time.monotonic() - began
        time.sleep(options.hold)
        after, after_info = _snapshot(server, trace_dir, 1)
        status = clients.all({"cmd": "idle_status"})
        held = sum(s["open"] for s in status) - warm

        by_site = after.compare_to(before, "traceback")
        by_file = after.compare_to(before, "filename")
        per = 1 / count
        types = {t: (after_info["types"].get(t, 0) - before_info["types"].get(t, 0)) * per
                 for t in set(after_info["types"]) | set(before_info["types"])}
        return {
            "connections": count, "held_after_hold": held, "connect_seconds": round(connect_seconds, 1),
            "rss_kb_per_connection": round((after_info["rss_kb"] - before_info["rss_kb"]) * per, 1),
            "traced_kb_per_connection": round(sum(s.size_diff for s in by_file) * per / 1024, 1),
            "by_file": [{"file": _site(s.traceback, 1).rsplit(":", 1)[0], "bytes": round(s.size_diff * per),
                         "blocks": round(s.count_diff * per, 2)}
                        for s in by_file[:options.top] if s.size_diff],
            "by_site": [{"site": _site(s.traceback, options.depth), "bytes": round(s.size_diff * per),
                         "blocks": round(s.count_diff * per, 2)}
                        for s in by_site[:options.top] if s.size_diff],
            # Allocation sites with a frame of ``--focus`` anywhere in their stack: the application's
            # share, whichever library line made the allocation.
            "focus": [{"site": _site(s.traceback, options.frames), "bytes": round(s.size_diff * per),
                       "blocks": round(s.count_diff * per, 2)}
                      for s in by_site if abs(s.size_diff) * per >= 8
                      and any(p in f.filename for f in s.traceback for p in options.focus)],
            "objects_per_connection": dict(sorted(((t, round(v, 2)) for t, v in types.items() if abs(v) >= 0.5),
                                                  key=lambda item: -item[1])),
        }


def text(name: str, result: dict) -> str:
    lines = [f"== {name}: {result['connections']} connections ({result['held_after_hold']} held), "
             f"RSS {result['rss_kb_per_connection']} KB each, traced by tracemalloc "
             f"{result['traced_kb_per_connection']} KB each", "-- by file (bytes, blocks per connection)"]
    lines += [f"{r['bytes']:>8} {r['blocks']:>7}  {r['file']}" for r in result["by_file"]]
    lines.append("-- by allocation site")
    lines += [f"{r['bytes']:>8} {r['blocks']:>7}  {r['site']}" for r in result["by_site"]]
    if result["focus"]:
        lines.append("-- allocation sites through the --focus files")
        lines += [f"{r['bytes']:>8} {r['blocks']:>7}  {r['site']}" for r in result["focus"]]
    lines.append("-- live objects per connection, by type")
    lines += [f"{v:>8}  {t}" for t, v in result["objects_per_connection"].items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="baseline,embedded", help=f"comma-separated, of {', '.join(load.TARGETS)}")
    parser.add_argument("--count", type=int, default=2000, help="idle visitors measured")
    parser.add_argument("--warm", type=int, default=50, help="idle visitors connected before the first snapshot")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds held before each snapshot (> one ping)")
    parser.add_argument("--frames", type=int, default=12, help="frames tracemalloc keeps per allocation")
    parser.add_argument("--depth", type=int, default=4, help="frames shown per allocation site")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--focus", default="", help="comma-separated path parts (e.g. saas/,tenants/): "
                        "also list every site with such a frame in its stack")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    options = parser.parse_args(argv)
    options.focus = [part for part in options.focus.split(",") if part]
    load._raise_fd_limit()
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-logs-"))
    report = {"load_average_at_start": os.getloadavg(), "options": {k: str(v) for k, v in vars(options).items()},
              "targets": {}}
    try:
        for name in options.targets.split(","):
            report["targets"][name] = measure(name, options, log_dir)
            print(text(name, report["targets"][name]), flush=True)
    finally:
        load._flush_bench_redis()
    if options.out:
        options.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
