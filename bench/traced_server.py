"""A server of bench/load.py (``wsgi.py`` or ``bench/echo_server.py``, named by
``SWITCHBOARD_TRACED_SCRIPT``) run under tracemalloc, for bench/idle_memory.py: on SIGUSR1 it
collects garbage and writes a snapshot, the live objects counted by type and its RSS to
``SWITCHBOARD_TRACE_DIR/<n>.*`` (then ``<n>.done``), so two of them show what connections hold.

    SWITCHBOARD_TRACED_SCRIPT=wsgi.py SWITCHBOARD_TRACE_DIR=/tmp/t .venv/bin/python bench/traced_server.py --port 5000
"""
import tracemalloc

tracemalloc.start(int(__import__("os").environ.get("SWITCHBOARD_TRACE_FRAMES", "12")))

from gevent import monkey  # noqa: E402

monkey.patch_all()  # before anything else loads, as the traced script itself does

import collections  # noqa: E402
import gc  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import runpy  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / os.environ["SWITCHBOARD_TRACED_SCRIPT"]
OUT = Path(os.environ["SWITCHBOARD_TRACE_DIR"])
_dumps = itertools.count()


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def dump() -> None:
    n = next(_dumps)
    gc.collect()
    types = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    tracemalloc.take_snapshot().dump(str(OUT / f"{n}.snapshot"))
    (OUT / f"{n}.json").write_text(json.dumps({"rss_kb": _rss_kb(), "types": types}))
    (OUT / f"{n}.done").touch()


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    gevent.signal_handler(signal.SIGUSR1, lambda: gevent.spawn(dump))
    sys.path.insert(0, str(ROOT))
    sys.argv = [str(SCRIPT), *sys.argv[1:]]
    runpy.run_path(str(SCRIPT), run_name="__main__")
