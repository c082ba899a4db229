"""bench/load.py works end to end: a --quick run against the embedded default writes the JSON and
markdown results with every figure (no figure is asserted: the machine decides those)."""
import json
import subprocess
import sys

from tests.conftest import ROOT


def test_quick_load_run_against_the_embedded_default_writes_every_figure(tmp_path):
    run = subprocess.run(
        [sys.executable, "bench/load.py", "--quick", "--targets", "embedded", "--idle", "20",
         "--client-processes", "2", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    report = json.loads((tmp_path / "load.json").read_text())
    assert {"cpus", "load_average_at_start", "fd_limit", "versions"} <= set(report["environment"])
    embedded = report["targets"]["embedded"]
    assert embedded["idle"]["asked"] == 20 and embedded["idle"]["connected"] == 20, embedded["idle"]
    assert embedded["idle"]["rss_kb_after"] > 0
    assert [step["offered_per_s"] for step in embedded["steps"]] == [50, 100]
    for step in embedded["steps"]:
        assert step["sent"] > 0 and step["acked_ok"] + step["error_acks"] <= step["sent"]
        assert set(step["latency_ms"]) == {"p50", "p95", "p99"}
        assert len(step["server_cpu_s"]) == 1 and step["client_cpu_s"] >= 0
    assert set(embedded["latency_ms_at"]) == {"100", "1000"}
    assert embedded["open_conversation"]["messages"] == 100  # a conversation of its own, seeded
    assert "| embedded (SQLite, 1 process) |" in (tmp_path / "load.md").read_text()


def test_idle_only_run_writes_under_its_own_name_without_rate_steps(tmp_path):
    run = subprocess.run(
        [sys.executable, "bench/load.py", "--quick", "--targets", "baseline", "--idle", "20", "--no-steps",
         "--client-processes", "2", "--out", str(tmp_path), "--name", "load-idle"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    assert not (tmp_path / "load.json").exists()
    baseline = json.loads((tmp_path / "load-idle.json").read_text())["targets"]["baseline"]
    assert baseline["idle"]["held_after_hold"] == 20, baseline["idle"]
    assert "steps" not in baseline and "open_conversation" not in baseline
    assert "| 20 of 20 |" in (tmp_path / "load-idle.md").read_text()


def test_idle_memory_attributes_what_connections_hold(tmp_path):
    """bench/idle_memory.py on the baseline: every connection is counted and held, and the Engine.IO
    socket each one holds shows up once per connection among the live objects."""
    out = tmp_path / "idle.json"
    run = subprocess.run(
        [sys.executable, "bench/idle_memory.py", "--targets", "baseline", "--count", "40", "--warm", "5",
         "--hold", "1", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    baseline = json.loads(out.read_text())["targets"]["baseline"]
    assert baseline["connections"] == 40 and baseline["held_after_hold"] == 40
    assert baseline["objects_per_connection"]["engineio.socket.Socket"] == 1.0
    assert baseline["traced_kb_per_connection"] > 0 and baseline["by_site"]
