"""`python -m bench --profile PAGE` (`make profile PAGE=clients`): where a page's time goes.

Loads the reference data set at 1x into a fresh SQLite file as `make bench` does
(bench/databases.py), signs in as bench/pages.py does, warms the page up, counts its
statements, then profiles requests in-process with pyinstrument: the profiler runs only
inside the app's WSGI call, so the test client's own work is not in the profile. Writes
pyinstrument's HTML and text to bench/results/profile-PAGE.html and .txt, and prints per page
the median time, the statements per request and the eight frames with the most self time,
grouped by what they do (KINDS).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, got_request_exception
from pyinstrument import Profiler
from pyinstrument.frame import Frame

from bench import databases, pages, run
from bench.pages import Browser, Page
from portal import PACKAGE, ROOT
from portal.db import QueryCounter, engine_of

TOP_FRAMES = 8
OTHER = "other (Python, other libraries)"
# What a frame does, by the package its code is in; the first that matches wins.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("template rendering", ("jinja2", "jinja2_fragments", "markupsafe", "wtforms/widgets")),
    ("SQL", ("sqlalchemy", "sqlite3", "psycopg", "psycopg_binary")),
    ("Flask/Werkzeug request handling", ("flask", "werkzeug", "flask_login", "flask_wtf",
                                         "flask_babel", "flask_limiter", "itsdangerous")),
)
OURS = "our code (portal/*)"
TEMPLATE_DIRS = (f"{ROOT / 'templates'}/", f"{ROOT / 'themes'}/")  # compiled templates
PORTAL_DIR = f"{PACKAGE}/"


@dataclass
class PageProfile:
    page: Page
    path: str
    median_ms: float
    unprofiled_median_ms: float
    statements: list[int]  # of two requests: they should be equal
    profiler: Profiler
    requests: int


class PageFailed(Exception):
    """A page answered other than 200 OK."""


def main(args: argparse.Namespace) -> int:
    wanted = [p for p in pages.PAGES if args.profile in ("all", p.key)]
    for name in run.clean_environment():
        print(f"bench: ignored {name} from the environment", file=sys.stderr)
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    failed = 0
    with tempfile.TemporaryDirectory(prefix="portal-profile-") as tmp:
        workdir = Path(tmp)
        database = databases.sqlite(workdir, 1)
        say("loading the reference data set at 1x into SQLite")
        try:
            databases.load(database, run.environment(workdir))
        except Exception as error:  # nothing can be profiled: say so, loudly
            print(f"bench: could not load the reference data: {error}", file=sys.stderr)
            return 1
        say(f"loaded in {database.load_seconds:.1f} s; {args.warmup} requests to warm up, "
            f"then {args.profile_requests} profiled, per page")
        from portal import create_app

        app = create_app(run.app_config(database, workdir))
        try:
            for page, profile in _profile_pages(app, database.seed, wanted, args):
                if isinstance(profile, str):
                    failed += 1
                    print(f"bench: {page.key} could not be profiled: {profile}", file=sys.stderr)
                    continue
                written = _write(profile)
                print(summary(profile, written), flush=True)
        finally:
            engine_of(app).dispose()
    say(f"done in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


def _profile_pages(app: Flask, seed: dict[str, Any], wanted: list[Page],
                   args: argparse.Namespace) -> Iterator[tuple[Page, PageProfile | str]]:
    """(page, its profile or why it has none), page by page."""
    errors: list[str] = []

    def keep(_sender: object, exception: BaseException, **_extra: object) -> None:
        errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(keep, app)
    try:
        browsers: dict[str, Browser] = {}
        for page in wanted:
            errors.clear()
            if page.actor not in browsers:
                browsers[page.actor] = pages.signed_in(app, run.HOST, page.actor)
            try:
                yield page, profile_page(app, browsers[page.actor], page,
                                         pages.path_of(page, seed), args.warmup,
                                         args.profile_requests, errors)
            except PageFailed as failure:
                yield page, str(failure)
    finally:
        got_request_exception.disconnect(keep, app)


def profile_page(app: Flask, browser: Browser, page: Page, path: str, warmup: int,
                 requests: int, errors: list[str]) -> PageProfile:
    """Warm up (the second half of the warm-up is timed without the profiler), count the
    statements of two requests, then profile `requests` requests."""
    def get() -> float:
        start = time.perf_counter()
        response = browser.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise PageFailed(f"GET {path} answered {response.status_code}"
                             + (f"\n{errors[-1]}" if errors else ""))
        return elapsed

    warm = [get() for _ in range(max(warmup, 2))]
    statements = []
    for _ in range(2):
        with QueryCounter(engine_of(app)) as counter:
            get()
        statements.append(counter.count)
    profiler = Profiler()  # samples every millisecond
    original = app.wsgi_app
    app.wsgi_app = _profiled(original, profiler, f"GET {path} ({page.label})")  # type: ignore[method-assign]
    try:
        wall = [get() for _ in range(requests)]
    finally:
        app.wsgi_app = original  # type: ignore[method-assign]
    return PageProfile(page, path, statistics.median(wall),
                       statistics.median(warm[len(warm) // 2:]), statements, profiler,
                       requests)


def _profiled(wsgi_app: Callable[..., Any], profiler: Profiler, description: str
              ) -> Callable[..., Any]:
    """The app's WSGI call with the profiler running during it (pyinstrument adds up the
    sessions of a profiler started and stopped again)."""
    def profiled_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        profiler.start(target_description=description)
        try:
            return wsgi_app(environ, start_response)
        finally:
            profiler.stop()

    return profiled_wsgi_app


def kind_of(file_path: str | None) -> str:
    """Which of KINDS, OURS or OTHER a frame of this file is."""
    path = (file_path or "").replace("\\", "/")
    if path.endswith(".html") or path.startswith(TEMPLATE_DIRS):
        return KINDS[0][0]
    for kind, packages in KINDS:
        if any(f"/{package}/" in path for package in packages):
            return kind
    if path.startswith(PORTAL_DIR):
        return OURS
    return OTHER


@dataclass(frozen=True)
class SelfTime:
    function: str
    where: str  # short path:line
    kind: str
    seconds: float


def self_times(profiler: Profiler) -> tuple[list[SelfTime], float]:
    """Each function's self time in the profile, most first, and the profile's total."""
    session = profiler.last_session
    root = session.root_frame(trim_stem=False) if session else None
    if root is None:
        return [], 0.0
    seconds: Counter[tuple[str, str, str]] = Counter()

    # Code in C (<built-in>: sqlite3's Cursor.execute) and code made with exec (<string>,
    # <werkzeug routing>) work for the frame that called them, and are of its kind.
    def walk(frame: Frame, caller_kind: str) -> None:
        if (frame.file_path or "").startswith("<"):
            kind, where = caller_kind, frame.file_path.strip("<>")
        else:
            kind = kind_of(frame.file_path)
            where = f"{frame.file_path_short or '?'}:{frame.line_no or 0}"
        for child in frame.children:
            walk(child, kind)
        if not frame.is_synthetic:
            seconds[frame.function, where, kind] += frame.total_self_time

    walk(root, OTHER)
    ranked = [SelfTime(function, where, kind, s)
              for (function, where, kind), s in seconds.most_common()]
    return ranked, root.time


def summary(profile: PageProfile, written: list[Path]) -> str:
    """Median, statements, and the top frames by self time under their kind's share."""
    ranked, total = self_times(profile.profiler)
    n = profile.requests
    counts = profile.statements
    statements = (str(counts[0]) if len(set(counts)) == 1
                  else f"{counts[0]} then {counts[1]} (not stable)")
    lines = [f"{profile.page.key}: GET {profile.path} ({profile.page.label})",
             f"  median {profile.median_ms:.1f} ms a request over {n} profiled "
             f"({profile.unprofiled_median_ms:.1f} ms without the profiler), "
             f"{statements} SQL statements a request",
             f"  top {TOP_FRAMES} frames by self time, of {total * 1000 / n:.1f} ms sampled "
             "a request:"]
    by_kind: Counter[str] = Counter()
    for frame in ranked:
        by_kind[frame.kind] += frame.seconds
    top = ranked[:TOP_FRAMES]
    for kind in [*(k for k, _ in KINDS), OURS, OTHER]:
        lines.append(f"    {kind}: {_share(by_kind[kind], total)} of the time")
        for frame in (f for f in top if f.kind == kind):
            lines.append(f"      {_share(frame.seconds, total):>4}  "
                         f"{frame.seconds * 1000 / n:5.2f} ms  {frame.function}  {frame.where}")
    lines.append("  written: " + ", ".join(map(_shown, written)))
    return "\n".join(lines)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _share(part: float, total: float) -> str:
    return f"{part / total:.0%}" if total else "-"


def _write(profile: PageProfile) -> list[Path]:
    run.RESULTS.mkdir(exist_ok=True)
    html = run.RESULTS / f"profile-{profile.page.key}.html"
    html.write_text(profile.profiler.output_html(), encoding="utf-8")
    text = run.RESULTS / f"profile-{profile.page.key}.txt"
    text.write_text(profile.profiler.output_text(unicode=False, color=False, show_all=False,
                                                 time="seconds"), encoding="utf-8")
    return [html, text]
