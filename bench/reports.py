"""Report and export timings on a large synthetic tenant (issue 8).

PostgreSQL: one tenant with 1,000,000 conversations, 10,000,000 messages, 5,000,000 page views
(2,000,000 visits of 1,000,000 visitors, 100,000 ratings) over 400 days, generated with
INSERT … SELECT generate_series (no ORM), in a fresh database ``switchboard_bench_reports_*``
dropped afterwards. SQLite: the same shape at 100,000 conversations. ``--scale 0.01`` is a
one-minute run. The report rollups are then folded by the background job's own function
(``workers.rollups.fold_tenant``), as production folds them, and the fold is timed. Every standard
report is timed for the last 30 days and the last 365 days: once cold, then the median of three
warm runs. Then 1,000,000 conversation rows (all there are at the
scale) are exported to CSV by the export job's writer, in a child process whose peak RSS is
reported next to a tenth of the rows: equal peaks mean constant memory.

Results: bench/results/reports.json and reports.md."""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from load import ROOT, _create_database, _remove_tree  # also puts the repository on sys.path
from statements import _app, _tenant_with_agent

from sqlalchemy import func, select, text  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SPAN_DAYS = 400
TARGET_SECONDS = 1.0
SLOW_SECONDS = 20 * TARGET_SECONDS
AGENTS, DEPARTMENTS = 20, 3
# Facts per conversation (and per conversation at scale 1 on PostgreSQL).
FULL_CONVERSATIONS = {"postgresql": 1_000_000, "sqlite": 100_000}
MESSAGES_PER, VISITS_PER, VIEWS_PER, VISITORS_PER, RATED_EVERY = 10, 2, 5, 1, 10

REPORTS = {
    "sources by channel (visits)": ("sources", {"dimension": "channel", "unit": "session"}),
    "sources by referrer domain (visitors)": ("sources", {"dimension": "referrer_domain", "unit": "visitor"}),
    "sources by search term, search only": ("sources", {"dimension": "search_terms", "source_kind": "search"}),
    "sources by UTM campaign": ("sources", {"dimension": "utm_campaign"}),
    "sources by landing page": ("sources", {"dimension": "landing_page"}),
    "sources by visited page": ("sources", {"dimension": "visited_page"}),
    "custom: conversations and messages per day": ("custom", {"dimension": ["time"],
                                                               "metric": ["conversations", "messages"]}),
    "custom: agents, conversations and ratings": ("custom", {"dimension": ["agent"],
                                                             "metric": ["conversations", "ratings", "average_rating"]}),
    "custom: visits and conversion by channel per week": ("custom", {"dimension": ["time", "channel"],
                                                                     "metric": ["visits", "chat_conversion_rate"],
                                                                     "granularity": "week"}),
}


def _tenant(app):
    """statements.py's tenant with one agent, plus more agents and departments to split by."""
    from saas.models import Department
    from saas.services import accounts
    from tenants import tenant_context, tenant_session

    tenant, _agent_id = _tenant_with_agent(app)
    with app.app_context(), tenant_context(tenant):
        session = tenant_session()
        for n in range(1, AGENTS):
            accounts.add_user(session, email=f"agent{n}@bench.test", display_name=f"Agent {n}",
                              password=secrets.token_hex(12), role="agent")
        session.add_all(Department(name=f"Department {n}", public_name=f"Department {n}") for n in range(DEPARTMENTS))
        session.commit()
    return tenant


class Generator:
    """INSERT … SELECT over a series of integers x = 1..n, in one statement per table."""

    def __init__(self, connection, dialect: str, schema: str | None, end: datetime):
        self.connection, self.dialect, self.end = connection, dialect, end
        self.prefix = f'"{schema}".' if schema else ""

    def ts(self, seconds_before_end: str) -> str:
        """A time ``seconds_before_end`` (an SQL expression) seconds before the last hour of the span:
        the facts of the newest visits, placed a little after it, still come before ``end``."""
        seconds = f"({seconds_before_end}) + 3600"
        if self.dialect == "postgresql":
            return f"(CAST(:end AS timestamptz) - make_interval(secs => ({seconds})))"
        return f"strftime('%Y-%m-%d %H:%M:%f000', :end, '-' || ({seconds}) || ' seconds')"

    def insert(self, table: str, columns: dict[str, str], n: int) -> float:
        started = time.perf_counter()
        names, values = ", ".join(columns), ", ".join(columns.values())
        if self.dialect == "postgresql":
            sql = f"INSERT INTO {self.prefix}{table} ({names}) SELECT {values} FROM generate_series(1::bigint, :n) AS g(x)"
        else:
            sql = (f"INSERT INTO {table} ({names}) WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g "
                   f"WHERE x < :n) SELECT {values} FROM g")
        end = self.end if self.dialect == "postgresql" else self.end.strftime("%Y-%m-%d %H:%M:%S")
        self.connection.execute(text(sql), {"n": n, "end": end})
        return time.perf_counter() - started


def generate(app, tenant, conversations: int, end: datetime) -> dict:
    """The facts, spread evenly over SPAN_DAYS before ``end``; returns counts and seconds per table."""
    router = app.extensions["switchboard_tenants"]
    dialect = "sqlite" if router.is_sqlite else "postgresql"
    visits, visitors = conversations * VISITS_PER, conversations * VISITORS_PER
    span = SPAN_DAYS * 86400
    timings, counts = {}, {}
    with app.app_context(), router.engine_for(tenant).begin() as connection:
        g = Generator(connection, dialect, router.schema(tenant), end)
        visit_start = g.ts(f"(x * {span}) / {visits}")
        conversation_visit = f"(((x - 1) * {VISITS_PER}) % {visits} + 1)"
        conversation_start = g.ts(f"({conversation_visit} * {span}) / {visits} - 60")
        plan = [
            ("visitors", visitors, {"id": "x + 1000", "public_id": "'v' || x", "nickname": "'Visitor ' || x",
                                    "created_at": g.ts(f"(x * {span}) / {visitors}"), "last_seen_at": g.ts("0")}),
            ("visit_sessions", visits, {
                "id": "x", "visitor_id": f"(x % {visitors}) + 1001", "started_at": visit_start,
                "last_seen_at": visit_start,
                "source_kind": "CASE x % 5 WHEN 0 THEN 'search' WHEN 1 THEN 'referral' WHEN 2 THEN 'social' "
                               "WHEN 3 THEN 'campaign' ELSE 'direct' END",
                "referrer_domain": "CASE WHEN x % 5 = 1 THEN 'site' || (x % 500) || '.example' END",
                "search_engine": "CASE WHEN x % 5 = 0 THEN CASE x % 3 WHEN 0 THEN 'google' WHEN 1 THEN 'bing' "
                                 "ELSE 'baidu' END END",
                "search_terms": "CASE WHEN x % 5 = 0 THEN 'term ' || (x % 2000) END",
                "utm_campaign": "CASE WHEN x % 5 = 3 THEN 'campaign ' || (x % 50) END",
                "landing_page": "'https://shop.example.com/p/' || (x % 1000)",
                "device_type": "CASE WHEN x % 10 < 7 THEN 'desktop' ELSE 'mobile' END",
                "channel": "CASE WHEN x % 10 < 7 THEN 'web' WHEN x % 10 < 9 THEN 'mobile_web' ELSE 'app' END",
                "page_count": f"{VIEWS_PER // VISITS_PER} + x % 2"}),
            ("page_views", conversations * VIEWS_PER, {
                "id": "x", "session_id": f"(x % {visits}) + 1",
                "url": "'https://shop.example.com/p/' || (x % 1000)", "title": "''",
                "started_at": g.ts(f"(((x % {visits}) + 1) * {span}) / {visits}"), "seconds_on_page": "x % 120"}),
            ("conversations", conversations, {
                "id": "x", "visitor_id": f"({conversation_visit} % {visitors}) + 1001",
                "visit_session_id": conversation_visit,
                "channel": f"CASE WHEN {conversation_visit} % 10 < 7 THEN 'web' "
                           f"WHEN {conversation_visit} % 10 < 9 THEN 'mobile_web' ELSE 'app' END",
                "status": "'closed'", "handler": "'agent'", "assigned_agent_id": f"2 + x % {AGENTS}",
                "department_id": f"1 + x % {DEPARTMENTS}", "bot_unanswered": "0", "last_seq": str(MESSAGES_PER),
                "visitor_read_seq": str(MESSAGES_PER), "created_at": conversation_start,
                "updated_at": conversation_start, "closed_at": conversation_start}),
            ("messages", conversations * MESSAGES_PER, {
                "id": "x", "conversation_id": f"(x - 1) / {MESSAGES_PER} + 1", "seq": f"(x - 1) % {MESSAGES_PER} + 1",
                "client_id": "'m' || x",
                "sender_type": "CASE x % 3 WHEN 0 THEN 'visitor' WHEN 1 THEN 'agent' ELSE 'bot' END",
                "sender_name": "'someone'", "body": "'hello, I have a question about my order'",
                "created_at": g.ts(f"(((((x - 1) / {MESSAGES_PER}) * {VISITS_PER}) % {visits} + 1) * {span}) "
                                   f"/ {visits} - 60 - ((x - 1) % {MESSAGES_PER}) * 30")}),
            ("conversation_ratings", conversations // RATED_EVERY, {
                "id": "x", "conversation_id": f"x * {RATED_EVERY}", "agent_id": f"2 + (x * {RATED_EVERY}) % {AGENTS}",
                "department_id": f"1 + (x * {RATED_EVERY}) % {DEPARTMENTS}", "scale": "'stars5'",
                "score": "1 + x % 5", "level": "'ok'", "tags": "'[]'", "comment": "''",
                "created_at": g.ts(f"((((x * {RATED_EVERY} - 1) * {VISITS_PER}) % {visits} + 1) * {span}) "
                                   f"/ {visits} - 600"),
                "updated_at": g.ts("0")}),
        ]
        for table, n, columns in plan:
            timings[table] = round(g.insert(table, columns, n), 2)
            counts[table] = n
            print(f"  generated {n:>11,} {table:22} in {timings[table]:7.1f} s", flush=True)
    started = time.perf_counter()
    with router.engine_for(tenant).begin() as connection:
        connection.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would give a live tenant
    timings["analyze"] = round(time.perf_counter() - started, 2)
    return {"rows": counts, "seconds": timings}


def fold_rollups(app, tenant) -> dict:
    """The report rollups folded as production folds them: by the background job's function."""
    from saas.models.rollups import VisitDay, VisitorDay
    from saas.services.reports import rollups
    from tenants import tenant_context, tenant_session
    from workers.rollups import fold_tenant

    started = time.perf_counter()
    with app.app_context():
        fold_tenant(tenant)
        seconds = round(time.perf_counter() - started, 1)
        with app.extensions["switchboard_tenants"].engine_for(tenant).begin() as connection:
            connection.execute(text("ANALYZE"))  # the new rollup rows' statistics, as autovacuum would give them
        with tenant_context(tenant):
            session = tenant_session()
            marks = {fact: rollups.watermark(session, fact) for fact in [*rollups.ROLLUPS, rollups.VISITS]}
            # The visit rollup's size: one row per (hour or day, attribute, value) with a visit.
            visit_rows = {unit: dict(session.execute(select(table.dimension, func.count()).group_by(table.dimension)).all())
                          for unit, table in rollups.ROW_TABLES.items()}
            visitor_set_bytes = session.scalar(select(func.sum(func.length(VisitDay.visitors))))
            first_touch_bytes = session.scalar(select(func.sum(func.length(VisitDay.first_visitors))))
            visitor_day_bytes = session.scalar(select(func.sum(func.length(VisitorDay.visitors)
                                                               + func.length(VisitorDay.counts))))
    print(f"  folded the report rollups in {seconds} s: {marks}, visit rollup rows {visit_rows}, "
          f"visitor sets {visitor_set_bytes:,} bytes, first-touch sets {first_touch_bytes:,} bytes, "
          f"visitor days {visitor_day_bytes:,} bytes", flush=True)
    return {"seconds": seconds, "watermarks": marks, "visit_rollup_rows": visit_rows,
            "visitor_set_bytes": visitor_set_bytes, "first_touch_bytes": first_touch_bytes,
            "visitor_day_bytes": visitor_day_bytes}


def _args(report_args: dict, first: date, last: date):
    from werkzeug.datastructures import MultiDict

    pairs = [("from", first.isoformat()), ("to", last.isoformat())]
    for key, value in report_args.items():
        pairs += [(key, item) for item in value] if isinstance(value, list) else [(key, value)]
    return MultiDict(pairs)


def time_reports(app, tenant, end: datetime) -> list[dict]:
    from saas.services.reports import custom, sources
    from saas.services.reports.period import parse_period
    from tenants import tenant_context, tenant_session

    results = []
    last = (end - timedelta(days=1)).date()
    with app.app_context(), tenant_context(tenant):
        session = tenant_session()
        for days in (30, 365):
            first = last - timedelta(days=days - 1)
            for name, (kind, report_args) in REPORTS.items():
                args = _args(report_args, first, last)
                period = parse_period(args, "UTC")
                if kind == "sources":
                    query = sources.parse_query(args, period)
                    run = lambda: sources.source_report(session, query)  # noqa: E731
                else:
                    definition = custom.definition_from_args(args)
                    run = lambda: custom.run_report(session, definition, period)  # noqa: E731
                samples = []
                for _ in range(4):
                    started = time.perf_counter()
                    table = run()
                    samples.append(time.perf_counter() - started)
                    session.rollback()
                    if samples[0] > SLOW_SECONDS:  # far over the target: warm runs would tell no more
                        break
                warm = statistics.median(samples[1:] or samples)
                results.append({"report": name, "days": days, "cold_s": round(samples[0], 3),
                                "warm_s": round(warm, 3), "rows": len(table.rows),
                                "under_target": warm < TARGET_SECONDS})
                print(f"  {days:3} days  {name:52} cold {samples[0]:7.3f} s  warm {warm:7.3f} s", flush=True)
    return results


def export_child(instance: str, database_url: str, limit: int, out: str) -> None:
    """In a fresh process: stream ``limit`` conversation rows to CSV with the export job's writer."""
    from saas.models import Conversation
    from saas.services.reports import exports
    from saas.services.reports.table import COUNT, TEXT, Column, ExportRows
    from tenants import registry, tenant_context, tenant_session

    app = _app(instance, database_url or None)
    with app.app_context():
        tenant = registry.find_by_slug("bench")
        with tenant_context(tenant):
            session = tenant_session()
            columns = [Column("id", "Conversation", COUNT), Column("created_at", "Started", TEXT),
                       Column("channel", "Channel", TEXT), Column("status", "Status", TEXT),
                       Column("assigned_agent_id", "Agent", COUNT), Column("department_id", "Department", COUNT),
                       Column("last_seq", "Messages", COUNT)]
            statement = (select(*(getattr(Conversation, column.key) for column in columns))
                         .order_by(Conversation.id).limit(limit)
                         .execution_options(stream_results=True, yield_per=10_000))
            rows = (row._asdict() for row in session.execute(statement))
            started = time.perf_counter()
            written = exports._write_csv(Path(out), ExportRows(columns, rows), lambda count: None)
            seconds = time.perf_counter() - started
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec, so it would report the
    # bench process this child was forked from.
    peak_kb = int(next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                       if line.startswith("VmHWM:")))
    print(json.dumps({"rows": written, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                      "file_mb": round(os.path.getsize(out) / 2**20, 1)}))


def time_export(instance: str, database_url: str | None, rows: int) -> list[dict]:
    results = []
    for limit in (max(1, rows // 10), rows):
        with tempfile.NamedTemporaryFile(suffix=".csv") as out:
            child = subprocess.run([sys.executable, __file__, "--export-child", instance, database_url or "",
                                    str(limit), out.name], capture_output=True, text=True, check=True,
                                   cwd=ROOT / "bench")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"  export {results[-1]}", flush=True)
    return results


def run_backend(name: str, scale: float) -> dict:
    conversations = max(100, int(FULL_CONVERSATIONS[name] * scale))
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    print(f"{name}: {conversations:,} conversations", flush=True)
    with ExitStack() as stack:
        instance = tempfile.mkdtemp(prefix=f"switchboard-bench-reports-{name}-")
        stack.callback(_remove_tree, instance)
        database_url = _create_database(stack, "switchboard_bench_reports_") if name == "postgresql" else None
        app = _app(instance, database_url)
        tenant = _tenant(app)
        started = time.perf_counter()
        generated = generate(app, tenant, conversations, end)
        generated["total_seconds"] = round(time.perf_counter() - started, 1)
        rollups = fold_rollups(app, tenant)
        reports = time_reports(app, tenant, end)
        export = time_export(instance, database_url, conversations)
        with app.app_context():
            app.extensions["switchboard_tenants"].dispose()
            from saas.extensions import db

            db.engine.dispose()
        return {"conversations": conversations, "generated": generated, "rollups": rollups, "reports": reports,
                "export": export}


def markdown(report: dict) -> str:
    lines = [f"# Report timings (scale {report['scale']})", "",
             f"{report['cpus']} CPUs, load average {report['load_average']} at start; warm = median of 3 runs "
             f"after a cold one; target {TARGET_SECONDS} s warm.", ""]
    for name, result in report["backends"].items():
        rows = result["generated"]["rows"]
        lines += [f"## {name}: {rows['conversations']:,} conversations, {rows['messages']:,} messages, "
                  f"{rows['page_views']:,} page views, {rows['visit_sessions']:,} visits",
                  "", f"Generated in {result['generated']['total_seconds']} s. Report rollups "
                  f"({', '.join(result['rollups']['watermarks'])}) then folded by the background job's function "
                  f"(`workers.rollups.fold_tenant`, as the server's loop or an RQ worker runs it) in "
                  f"{result['rollups']['seconds']} s; reports read the rollups where they can "
                  "(README, *Reports and exports*). Visit rollup rows by attribute (for "
                  f"{rows['visit_sessions']:,} visits), "
                  + "; ".join(f"per {unit}: " + ", ".join(f"{name} {count:,}" for name, count in counts.items())
                              for unit, counts in result["rollups"]["visit_rollup_rows"].items())
                  + f"; the days' visitor sets take {result['rollups']['visitor_set_bytes'] / 1e6:.1f} MB, "
                  f"their first-touch sets {result['rollups']['first_touch_bytes'] / 1e6:.1f} MB and the visitor "
                  f"days {result['rollups']['visitor_day_bytes'] / 1e6:.1f} MB.", "",
                  "| report | 30 days warm (cold) | 365 days warm (cold) |", "| --- | --- | --- |"]
        by_name: dict = {}
        for entry in result["reports"]:
            by_name.setdefault(entry["report"], {})[entry["days"]] = entry
        for report_name, entries in by_name.items():
            cells = [f"{entries[d]['warm_s']} s ({entries[d]['cold_s']} s)" + ("" if entries[d]["under_target"]
                                                                              else " **over**") for d in (30, 365)]
            lines.append(f"| {report_name} | {cells[0]} | {cells[1]} |")
        lines += ["", "| CSV export of conversations | rows | seconds | peak RSS | file |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| | {e['rows']:,} | {e['seconds']} | {e['peak_rss_mb']} MB | {e['file_mb']} MB |"
                  for e in result["export"]]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--export-child":
        export_child(argv[1], argv[2], int(argv[3]), argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="share of the full size (1,000,000 conversations on PostgreSQL, 100,000 on SQLite)")
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--out", type=Path, default=RESULTS / "reports.json")
    args = parser.parse_args(argv)
    report = {"scale": args.scale, "python": platform.python_version(), "cpus": os.cpu_count(),
              "load_average": round(os.getloadavg()[0], 2), "started": datetime.now(timezone.utc).isoformat(),
              "backends": {}}
    for name in args.backends:
        report["backends"][name] = run_backend(name, args.scale)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
