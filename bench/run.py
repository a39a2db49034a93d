"""`make bench` (`python -m bench`): the portal's figures on fresh databases, in one table.

1. Loads the reference data set (`portal bench-seed`) at 1x and 10x into fresh SQLite files
   in a temporary directory and, when one answers, into fresh PostgreSQL databases (created
   for this run, dropped after it), two loads at a time.
2. Per main page: SQL statements per request at 1x and 10x (they must be equal), median
   and p95 server time in-process (Flask test client, signed in through the login form).
3. HTTP throughput through gunicorn with gunicorn.conf.py on 127.0.0.1 (SQLite 1x) for
   three pages, next to the bare-Flask baseline of bench/baseline.py measured in the same run.
4. Bulk figures on the 1x databases: bulk tier change, worker mails per second to an SMTP
   sink, reminder sweep over 100,000 open tasks, a questionnaire sent to 1,000 clients, its
   autosave, and a part of a 150-question questionnaire (bench/questionnaires.py); an
   approved 40-page 5 MB report sealed, and a 20 MB sealed file verified (bench/sealing.py).
5. A 200 MB document up and down through gunicorn, and the worker's memory (bench/files.py,
   its own throwaway instance).
6. Insights (bench/insights.py, on a fresh database of its own per engine): the dashboards of
   a client with ten years of figures, and a 50,000-line trial balance import.

Prints one table and writes it as JSON to bench/results/. Targets are reported PASS/FAIL;
the exit code is not 0 only when something could not be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench import (
    bulk,
    databases,
    files,
    imports,
    insights,
    load,
    machine,
    pages,
    questionnaires,
    report,
    sealing,
    throughput,
)
from bench.databases import Database
from bench.seed import BIG, BIG_SLUG

HOST = f"{BIG_SLUG}.localhost"
RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-only-secret-key"  # noqa: S105 (signs the bench's own throwaway sessions)
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Progress:
    """Says what the run is doing, and notes at each step how much of the machine other
    work took: anything else running makes every figure worse, and the table says so."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.steps: list[tuple[str, float, machine.Snapshot]] = [
            ("start", self.start, machine.Snapshot.now())]

    def __call__(self, message: str) -> None:
        self.steps.append((message, time.perf_counter(), machine.Snapshot.now()))
        print(f"[{self.elapsed():6.1f} s] {message}", file=sys.stderr, flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def other_work(self) -> dict[str, Any]:
        """The share of all CPUs other work used, in the whole run and per step."""
        steps = [*self.steps, ("end", time.perf_counter(), machine.Snapshot.now())]
        per_step = []
        for (label, start, before), (_, end, after) in pairwise(steps):
            if end - start >= 5:
                share = machine.others_share(before, after, end - start)
                per_step.append({"step": label, "seconds": round(end - start, 1),
                                 "share": None if share is None else round(share, 2)})
        whole = machine.others_share(steps[0][2], steps[-1][2], steps[-1][1] - steps[0][1])
        return {"share": None if whole is None else round(whole, 2), "steps": per_step}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200,
                        help="timed requests per page at 1x (default 200)")
    parser.add_argument("--page-seconds", type=float, default=3.0,
                        help="at most this long timing one page at 1x; a slow page stops "
                             "early, after 2 requests at least (default 3)")
    parser.add_argument("--requests-10x", type=int, default=20,
                        help="timed requests per page at 10x (default 20, at most 3 s)")
    parser.add_argument("--warmup", type=int, default=20, help="requests before timing")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="HTTP load per page and for the baseline (default 10)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help=f"PostgreSQL server to create databases on ({DEFAULT_PG_URL})")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-http", action="store_true", help="skip gunicorn throughput")
    parser.add_argument("--no-files", action="store_true",
                        help="skip the large document through gunicorn")
    parser.add_argument("--no-insights", action="store_true",
                        help="skip the dashboards and the trial balance import")
    parser.add_argument("--file-mb", type=int, default=200,
                        help="size of the document sent up and down (default 200)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer requests and 3 s of load: a smoke run, not figures")
    parser.add_argument("--profile", metavar="PAGE",
                        help="instead of the figures: profile one page (a key of "
                             "bench.pages.PAGES) or all with pyinstrument on SQLite 1x, "
                             "writing bench/results/profile-PAGE.html and .txt")
    parser.add_argument("--profile-requests", type=int, default=50, metavar="N",
                        help="profiled requests per page (default 50)")
    args = parser.parse_args(argv)
    profiled = [p.key for p in pages.PAGES] + ["all"]
    if args.profile is not None and args.profile not in profiled:
        print(f"python -m bench: --profile {args.profile!r} is not a page; one of: "
              + ", ".join(profiled), file=sys.stderr)
        raise SystemExit(2)
    if args.quick:
        args.requests, args.requests_10x, args.warmup, args.seconds = 30, 5, 5, 3.0
        args.page_seconds = 2.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.profile:
        from bench import profiling

        return profiling.main(args)
    progress = Progress()
    results = _start(clean_environment())
    results["settings"] = {"requests": args.requests, "page_seconds": args.page_seconds,
                           "requests_10x": args.requests_10x, "page_seconds_10x": 3.0,
                           "warmup": args.warmup, "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        workdir = Path(tmp)
        env = environment(workdir)
        postgres = None if args.no_postgres else _postgres(args.pg_url, results, progress)
        try:
            try:
                loaded = _load_all(workdir, env, postgres, progress)
            except Exception as error:  # nothing can be measured: say so, loudly
                print(f"bench: could not load the reference data: {error}", file=sys.stderr)
                return 1
            failed = _measure(loaded, results, env, workdir, args, progress)
            failed += _separate(results, postgres, args, progress)
        finally:
            if postgres:
                postgres.drop_all()
    results["duration_seconds"] = round(progress.elapsed(), 1)
    _note_other_work(results, progress.other_work())
    results["verdicts"] = {p.key: report.page_check(results, p.key) for p in pages.PAGES}
    print(report.table(results))
    written = _write(results)
    print(f"written to {written} (whole run {results['duration_seconds']:.0f} s)")
    if failed:
        print("\nbench: these figures could not be measured:", file=sys.stderr)
        for problem in failed:
            print(f"  {problem}", file=sys.stderr)
        return 1
    return 0


def _start(stray: list[str]) -> dict[str, Any]:
    """The results, begun with what describes the machine and the data."""
    busy = os.getloadavg()[0]
    notes = [f"ignored {name} from the environment" for name in stray]
    return {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "sqlite": sqlite3.sqlite_version, "postgresql": None,
                    "load_tool": load.tool(), "load_average_at_start": round(busy, 2)},
        "sizes": (f'big practice "{BIG_SLUG}": {BIG.clients:,} clients, '
                  f"{BIG.engagements:,} engagements, {BIG.client_users:,} client users, "
                  f"{BIG.staff:,} staff, {BIG.documents:,} documents (metadata) at 1x; ten "
                  "times that at 10x; 19 small practices"),
        "notes": notes, "databases": {}, "pages": {}, "http": {}, "bulk": {},
        "files": {}, "insights": {},
    }


def _note_other_work(results: dict[str, Any], other: dict[str, Any]) -> None:
    results["machine"]["other_work"] = other
    worst = max((step for step in other["steps"] if step["share"] is not None),
                key=lambda step: step["share"], default=None)
    if other["share"] is None or worst is None:
        return
    if other["share"] > 0.1 or worst["share"] > 0.25:
        results["notes"].append(
            f"other work used {other['share']:.0%} of the CPUs during the run (up to "
            f"{worst['share']:.0%} while: {worst['step']}): times are longer and "
            "throughput lower than on a quiet machine")


def _postgres(url: str, results: dict[str, Any], progress: Progress
              ) -> databases.PostgresServer | None:
    """The PostgreSQL server to create this run's databases on, or None (and why)."""
    server = databases.PostgresServer(url)
    reason = server.unavailable()
    if reason:
        progress(f"PostgreSQL skipped: {reason}")
        results["notes"].append(f"PostgreSQL skipped: {reason}")
        return None
    results["machine"]["postgresql"] = server.version()
    return server


def _measure(loaded: list[Database], results: dict[str, Any], env: dict[str, str],
             workdir: Path, args: argparse.Namespace, progress: Progress) -> list[str]:
    """Pages, throughput and bulk figures into results; returns what could not be measured."""
    failed: list[str] = []
    for database in loaded:
        results["databases"][f"{database.engine}-{database.scale}x"] = {
            "url": database.safe_url(), "load_seconds": round(database.load_seconds, 1),
            "rows": database.seed["rows"], "seconds": database.seed["seconds"],
            "seed_total_seconds": round(database.seed["total_seconds"], 2)}
        notes = [f"seed {database.scale}x: {note}" for note in database.seed["notes"]]
        results["notes"] += [n for n in notes if n not in results["notes"]]
    for database in loaded:
        progress(f"pages in-process on {database.label} {database.scale}x")
        measured = _pages(database, workdir, args)
        results["pages"].setdefault(database.engine, {})[f"{database.scale}x"] = measured
        failed += [f"{database.label} {database.scale}x {key}: {m['error']}"
                   for key, m in measured.items() if "error" in m]
    one_x = {d.engine: d for d in loaded if d.scale == 1}
    if args.no_http:
        results["http"] = {"skipped": "--no-http"}
    else:
        progress(f"HTTP throughput through gunicorn ({load.tool()}, {args.seconds:g} s a page)")
        results["http"] = _http(one_x["sqlite"], env, workdir, args.seconds)
        if "error" in results["http"]:
            failed.append(f"HTTP: {results['http']['error']}")
    for engine, database in one_x.items():
        progress(f"bulk figures on {database.label} 1x")
        results["bulk"][engine] = _bulk(database, workdir)
        failed += [f"{database.label} {key}: {figures['error']}"
                   for key, figures in results["bulk"][engine].items() if "error" in figures]
    return failed


def _separate(results: dict[str, Any], postgres: databases.PostgresServer | None,
              args: argparse.Namespace, progress: Progress) -> list[str]:
    """The benches with their own data: a large document through gunicorn (bench/files.py)
    and insights (bench/insights.py, on SQLite and, when it answers, PostgreSQL). Returns
    what could not be measured."""
    failed: list[str] = []
    if args.no_files:
        results["files"] = {"skipped": "--no-files"}
    else:
        progress(f"a {args.file_mb} MB document up and down through gunicorn")
        try:
            results["files"] = files.measure(args.file_mb).as_dict()
        except Exception:
            results["files"] = {"error": traceback.format_exc()}
            failed.append(f"files: {results['files']['error']}")
    if args.no_insights:
        results["insights"] = {"skipped": "--no-insights"}
        return failed
    engines: list[tuple[str, str, Any]] = [("sqlite", "SQLite", lambda: None)]
    if postgres:
        engines.append(("postgresql", "PostgreSQL", lambda: postgres.empty("insights")))
    for engine, label, url in engines:
        progress(f"insights in-process on {label}: dashboards over ten years of figures, "
                 f"a {insights.IMPORT_LINES:,}-line trial balance import")
        try:
            results["insights"][engine] = insights.measure(url())
        except Exception:
            results["insights"][engine] = {"error": traceback.format_exc()}
            failed.append(f"insights {label}: {results['insights'][engine]['error']}")
    return failed


def clean_environment() -> list[str]:
    """The bench sets every PORTAL_* setting it needs; a developer's own (PORTAL_HTTPS=1, a
    production database URL, ...) must neither change the figures nor be touched."""
    stray = sorted(name for name in os.environ if name.startswith("PORTAL_"))
    for name in stray:
        del os.environ[name]
    return stray


def _load_all(workdir: Path, env: dict[str, str], postgres: databases.PostgresServer | None,
              progress: Progress) -> list[Database]:
    wanted = [databases.sqlite(workdir, 10)]
    if postgres:
        wanted.append(postgres.database(10))
    wanted.append(databases.sqlite(workdir, 1))
    if postgres:
        wanted.append(postgres.database(1))
    progress("loading the reference data set: " + ", ".join(
        f"{d.label} {d.scale}x" for d in wanted) + " (two at a time)")
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda d: databases.load(d, env), wanted))
    for database in done:
        seconds = database.seed["seconds"]
        progress(f"  {database.label} {database.scale}x: {sum(database.seed['rows'].values()):,}"
                 f" rows in {database.load_seconds:.1f} s (clients "
                 f"{seconds.get('clients', 0):.1f} s, engagements "
                 f"{seconds.get('engagements', 0):.1f} s)")
    return sorted(done, key=lambda d: (d.engine != "sqlite", d.scale))


def environment(workdir: Path) -> dict[str, str]:
    """The settings of the processes the bench starts (`portal bench-seed`, gunicorn)."""
    return {"PORTAL_SECRET_KEY": SECRET, "PORTAL_INSTANCE_PATH": str(workdir / "instance"),
            "PORTAL_BASE_DOMAIN": "localhost"}


def app_config(database: Database, workdir: Path) -> dict[str, Any]:
    """The settings of an app the bench creates in-process on one of its databases."""
    return {"DATABASE_URL": database.url, "SECRET_KEY": SECRET, "DEBUG": False,
            "INSTANCE_PATH": str(workdir / "instance"), "BASE_DOMAIN": "localhost",
            "RATELIMIT_STORAGE_URI": "memory://", "MAIL_BACKEND": "smtp"}


def _pages(database: Database, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from portal import create_app
    from portal import db as portal_db

    app = create_app(app_config(database, workdir))
    if database.scale == 1:
        budget = pages.Budget(args.requests, args.warmup, args.page_seconds)
    else:  # the counts are what 10x is for; its times only show the trend
        budget = pages.Budget(args.requests_10x, min(args.warmup, 1), 3.0)
    try:
        return pages.measure(app, database.seed, host=HOST, budget=budget)
    except Exception:
        return {p.key: {"error": traceback.format_exc()} for p in pages.PAGES}
    finally:
        portal_db.engine_of(app).dispose()


def _http(database: Database, env: dict[str, str], workdir: Path, seconds: float
          ) -> dict[str, Any]:
    try:
        result = throughput.measure({**env, "PORTAL_DATABASE_URL": database.url}, workdir,
                                    host=HOST, seconds=seconds)
    except Exception:
        return {"error": traceback.format_exc()}
    result["database"] = f"{database.label} {database.scale}x"
    return result


def _bulk(database: Database, workdir: Path) -> dict[str, Any]:
    from portal import create_app
    from portal import db as portal_db

    config = app_config(database, workdir)
    practice_id = database.seed["big_practice_id"]
    app = create_app(config)
    figures: dict[str, Any] = {}
    steps = (("tier_change", lambda: bulk.tier_change(app, practice_id)),
             ("worker", lambda: bulk.worker_mails(config, practice_id)),
             ("reminders", lambda: bulk.reminder_sweeps(app, practice_id)),
             ("questionnaires", lambda: questionnaires.measure(app, practice_id, HOST)),
             # after the others, before the import: on the big practice's 10,000 clients
             ("engagements", lambda: bulk.bulk_engagements(app, practice_id)),
             # last: it adds 5,000 clients to the practice the other figures measure
             ("client_import", lambda: imports.client_import(app, practice_id)),
             ("bulk_reports", lambda: imports.bulk_reports(config, practice_id)),
             ("sealing", lambda: sealing.measure(app, practice_id)))
    try:
        for key, step in steps:
            try:
                figures[key] = step()
            except Exception:
                figures[key] = {"error": traceback.format_exc()}
    finally:
        portal_db.engine_of(app).dispose()
    return figures


def _write(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{stamp}.json"
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    path.write_text(text + "\n")
    (RESULTS / "latest.json").write_text(text + "\n")
    return path
