"""The one table `make bench` prints, from the results it also writes as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.pages import PAGES
from bench.throughput import PAGES as HTTP_PAGES

QUERY_BUDGET = 12
MEDIAN_TARGET_MS = 25.0
GROWTH_NOTE = 1.5  # a page this many times bigger at 10x than at 1x gets a note
ENGINES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))
RULE = "-" * 112


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def page_check(results: dict[str, Any], key: str) -> str:
    """The verdict of one page: the same number of queries at 1x and 10x, within the budget,
    and (SQLite 1x) the median under the target. A page that grows with the data (an
    unpaginated list, a dropdown of every row) gets a note, not a failure."""
    failures, notes = [], []
    for engine, label in ENGINES:
        runs = results["pages"].get(engine)
        if not runs:
            continue
        one, ten = runs.get("1x", {}).get(key, {}), runs.get("10x", {}).get(key, {})
        if "error" in one or "error" in ten:
            failures.append(f"ERROR ({label})")
            continue
        if one.get("queries") != ten.get("queries") or not (
                one.get("queries_stable") and ten.get("queries_stable")):
            failures.append(f"queries 1x != 10x ({label})")
        if max(one.get("queries", 0), ten.get("queries", 0)) > QUERY_BUDGET:
            failures.append(f"> {QUERY_BUDGET} queries ({label})")
        if engine == "sqlite" and (one.get("median_ms") or 1e9) >= MEDIAN_TARGET_MS:
            failures.append(f"median >= {MEDIAN_TARGET_MS:g} ms")
        growth = (ten.get("bytes") or 0) / (one.get("bytes") or 1)
        if growth > GROWTH_NOTE and not notes:
            notes.append(f"page {growth:.1f}x bigger at 10x")
    verdict = "PASS" if not failures else "FAIL: " + ", ".join(failures)
    return verdict + "".join(f"; {note}" for note in notes)


def table(results: dict[str, Any]) -> str:
    out = [RULE, _title(results), RULE]
    out += _pages(results)
    out += [RULE, *_http(results)]
    out += [RULE, *_bulk(results)]
    out += [RULE, *_files(results)]
    out += [RULE, *_insights(results)]
    if results.get("notes"):
        out += [RULE, *(f"note: {note}" for note in results["notes"])]
    out.append(RULE)
    return "\n".join(out)


def _title(results: dict[str, Any]) -> str:
    machine = results["machine"]
    sizes = results.get("sizes", "")
    share = (machine.get("other_work") or {}).get("share")
    other = "unknown" if share is None else f"{share:.0%}"
    return (f"portal bench {results['started_at']}  |  {machine['cpus']} CPUs (other work "
            f"used {other} of them), Python {machine['python']}, "
            f"SQLite {machine['sqlite']}, {machine.get('postgresql') or 'no PostgreSQL'}\n"
            f"{sizes}")


def _pages(results: dict[str, Any]) -> list[str]:
    settings = results["settings"]
    head1 = f"{'PAGES in-process':<31}"
    counts = (f"(<={settings['requests']} req or {settings['page_seconds']:g} s;"
              f" 10x <={settings['requests_10x']})")
    head2 = f"{counts:<31}"
    for _, label in ENGINES:
        head1 += f"  {label:-^31}"
        head2 += f"  {'q 1x':>4} {'q 10x':>5} {'med ms':>6} {'p95 ms':>6} {'med 10x':>7}"
    lines = [head1, head2 + "  target: same q, <= 12 q, med < 25 ms (SQLite 1x)"]
    for page in PAGES:
        row = f"{page.actor + ' ' + page.label:<31.31}"
        for engine, _ in ENGINES:
            runs = results["pages"].get(engine)
            if not runs:
                row += f"  {'skipped':^31}"
                continue
            one = runs.get("1x", {}).get(page.key, {})
            ten = runs.get("10x", {}).get(page.key, {})
            if "error" in one or "error" in ten:
                row += f"  {'ERROR':^31}"
                continue
            mark = "" if one.get("queries") == ten.get("queries") else "!"
            row += (f"  {_num(one.get('queries')):>4} {_num(ten.get('queries')) + mark:>5} "
                    f"{_num(one.get('median_ms')):>6} {_num(one.get('p95_ms')):>6} "
                    f"{_num(ten.get('median_ms')):>7}")
        lines.append(f"{row}  {page_check(results, page.key)}")
    return lines


def _http(results: dict[str, Any]) -> list[str]:
    http = results.get("http") or {}
    if "skipped" in http or "error" in http:
        reason = http.get("skipped") or "ERROR " + http["error"].strip().splitlines()[-1]
        return [f"HTTP THROUGHPUT through gunicorn: {reason}"]
    gunicorn = http["gunicorn"]
    lines = [f"HTTP THROUGHPUT through gunicorn on 127.0.0.1 ({http.get('database', '')}; "
             f"{gunicorn['workers']} workers x {gunicorn['threads']} threads; load: "
             f"{http['tool']}, {http['connections']} connections, "
             f"{http['seconds_per_page']:g} s per page)",
             f"{'':<31}  {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
             f"{'page/baseline':>13}  target"]
    base = http["baseline"]
    lines.append(f"{'baseline: bare Flask, 1 query':<31}  {_num(base['rps']):>8} "
                 f"{_num(base['p50_ms']):>7} {_num(base['p99_ms']):>7} "
                 f"{base['errors']:>6} {'1.00':>13}")
    for key, who, path, _ in HTTP_PAGES:
        entry = http.get(key, {})
        verdict = "" if entry.get("passed") is None else (
            "PASS" if entry["passed"] else "FAIL")
        lines.append(f"{who + ' ' + path:<31.31}  {_num(entry.get('rps')):>8} "
                     f"{_num(entry.get('p50_ms')):>7} {_num(entry.get('p99_ms')):>7} "
                     f"{entry.get('errors', '-'):>6} {_num(entry.get('ratio'), 2):>13}  "
                     f"{entry.get('target') or '':<18} {verdict}")
    log = http.get("access_log", {})
    lines.append(f"{'access log':<31}  {log.get('lines', 0):>8} lines; a link with a query "
                 "string is logged as /invitation/[token]: "
                 f"{'PASS' if log.get('ok') else 'FAIL'}")
    return lines


def _bulk(results: dict[str, Any]) -> list[str]:
    bulk = results.get("bulk", {})
    lines = [f"{'BULK (big practice, 1x)':<38}  {'SQLite':<24}  {'PostgreSQL':<24}  target"]
    rows = (
        ("bulk tier change, 5,000 clients", "tier_change", _tier_cell, "< 2 s"),
        ("reminder sweep, 100,000 open tasks", "reminders", _seconds_and_mails("first"),
         "< 5 s"),
        ("  second sweep, nothing new", "reminders", _seconds_and_mails("second"), "< 5 s"),
        ("worker to SMTP sink, 2,000 mails", "worker", _worker_cell, ">= 100 mails/s"),
        ("questionnaire sent to 1,000 clients", "questionnaires", _seconds_and_mails("send"),
         "< 5 s"),
        ("  autosave of one answer (htmx POST)", "questionnaires", _autosave_cell,
         "median < 20 ms"),
        ("  part of 150 questions: statements", "questionnaires", _big_section_cell,
         "same after answers"),
        ("bulk engagements, 10,000 clients", "engagements", _engagements_cell, "< 5 s"),
        ("import 5,000 clients, 7,500 contacts", "client_import", _tier_cell, "< 10 s"),
        ("300 PDFs of 200 KB stored and shared", "bulk_reports", _reports_cell,
         "< 30 s, < 100 MB"),
        ("approved 40 pages, 5 MB: sealed", "sealing", _sealing_cell("seal_s", 2),
         "< 2 s"),
        ("sealed 20 MB file: verified", "sealing", _sealing_cell("verify_s", 1), "< 1 s"),
    )
    for label, key, cell, target in rows:
        line = f"{label:<38}"
        for engine, _ in ENGINES:
            figures = bulk.get(engine)
            if figures is None:
                line += f"  {'skipped':<24}"
            elif "error" in figures.get(key, {}):
                line += f"  {'ERROR':<24}"
            else:
                line += f"  {cell(figures.get(key, {})):<24}"
        lines.append(f"{line}  {target}")
    return lines


def _verdict(passed: bool | None) -> str:
    return "PASS" if passed else "FAIL"


def _sealing_cell(key: str, limit: float) -> Callable[[dict[str, Any]], str]:
    def cell(f: dict[str, Any]) -> str:
        return f"{f[key]:.2f} s {_verdict(f[key] < limit)}"
    return cell


def _reports_cell(f: dict[str, Any]) -> str:
    return f"{f['seconds']:.1f} s {f['peak_mb']:.0f} MB {_verdict(f['passed'])}"


def _tier_cell(f: dict[str, Any]) -> str:
    return f"{f['seconds']:.2f} s {_verdict(f['passed'])}"


def _seconds_and_mails(part: str) -> Callable[[dict[str, Any]], str]:
    """The cell of one part of a figure that takes seconds and writes mails."""
    def cell(f: dict[str, Any]) -> str:
        s = f[part]
        return f"{s['seconds']:.2f} s {_verdict(s['passed'])} {s['mails']:,} mails"
    return cell


def _engagements_cell(f: dict[str, Any]) -> str:
    return f"{f['seconds']:.2f} s {_verdict(f['passed'])} {f['created']:,} new"


def _worker_cell(f: dict[str, Any]) -> str:
    return f"{f['per_second']:,.0f}/s {_verdict(f['passed'])} ({f['sent']:,} sent)"


def _autosave_cell(f: dict[str, Any]) -> str:
    s = f["autosave"]
    return f"{s['median_ms']:.1f} ms {_verdict(s['passed'])} {s['queries']} q"


def _big_section_cell(f: dict[str, Any]) -> str:
    s = f["big_section"]
    return (f"{s['queries_before_answers']} -> {s['queries_after_30_answers']} q "
            f"{_verdict(s['passed'])} {s['median_ms']:.0f} ms")


def _skipped_or_error(section: dict[str, Any]) -> str | None:
    if "skipped" in section:
        return section["skipped"]
    if "error" in section:
        return "ERROR " + section["error"].strip().splitlines()[-1]
    return None


def _row(label: str, figure: str, target: str = "", verdict: str = "") -> str:
    return f"{label:<38}  {figure:<24}  {target} {verdict}".rstrip()


def _files(results: dict[str, Any]) -> list[str]:
    f = results.get("files") or {"skipped": "not run"}
    reason = _skipped_or_error(f)
    if reason:
        return [f"LARGE FILE through gunicorn: {reason}"]
    idle = f["idle_rss_mb"]
    return [
        f"LARGE FILE through gunicorn on 127.0.0.1 ({f['size_mb']} MB up and down; "
        f"{f['worker']}; SQLite, local storage)",
        _row("", "", "target"),
        _row("upload through the portal's form",
             f"{_num(f['upload_mb_per_s'])} MB/s ({f['upload_seconds']:.2f} s)"),
        _row("download, SHA-256 checked",
             f"{_num(f['download_mb_per_s'])} MB/s ({f['download_seconds']:.2f} s)"),
        _row("worker's memory (RSS), idle", f"{idle:.1f} MB"),
        _row("  peak during the upload", f"+{f['upload_peak_rss_mb'] - idle:.1f} MB"),
        _row("  peak during the download", f"+{f['download_peak_rss_mb'] - idle:.1f} MB"),
        _row("  most above idle", f"{f['above_idle_mb']:.1f} MB", f["target"],
             _verdict(f["passed"])),
    ]


def _insights(results: dict[str, Any]) -> list[str]:
    """Per engine: statements and median of each dashboard page, against the bench's page
    budget of statements (bench/insights.py sets no time target), and the import's time."""
    section = results.get("insights") or {"skipped": "not run"}
    reason = _skipped_or_error(section)
    if reason:
        return [f"INSIGHTS: {reason}"]
    runs = {engine: section.get(engine) for engine, _ in ENGINES}
    done = [run for run in runs.values() if run and "error" not in run]
    about = ""
    if done:
        data = done[0]["data"]
        about = (f" ({data['years']} years x {data['months']} months x {data['lines']} lines: "
                 f"{data['figure_rows']:,} figure rows)")
    lines = [f"INSIGHTS in-process, one client{about}",
             f"{'':<38}  {'SQLite':<24}  {'PostgreSQL':<24}  target"]
    for label in done[0]["pages"] if done else []:
        line, verdicts = f"{label:<38.38}", []
        for engine, _ in ENGINES:
            cell, ok = _insights_page_cell(runs[engine], label)
            line += f"  {cell:<24}"
            if ok is not None:
                verdicts.append(ok)
        verdict = _verdict(all(verdicts)) if verdicts else ""
        lines.append(f"{line}  <= {QUERY_BUDGET} q (page budget) {verdict}".rstrip())
    if done:
        count = done[0]["import"]["lines"]
        line = f"{f'trial balance import, {count:,} lines':<38}"
        for engine, _ in ENGINES:
            line += f"  {_import_cell(runs[engine]):<24}"
        lines.append(f"{line}  no target (in brackets: preview + save)")
    return lines


def _insights_page_cell(run: dict[str, Any] | None, label: str) -> tuple[str, bool | None]:
    if run is None:
        return "skipped", None
    page = run.get("pages", {}).get(label)
    if "error" in run or page is None:
        return "ERROR", False
    return f"{page['queries']} q, med {page['median_ms']:.1f} ms", page["queries"] <= QUERY_BUDGET


def _import_cell(run: dict[str, Any] | None) -> str:
    if run is None:
        return "skipped"
    if "error" in run:
        return "ERROR"
    i = run["import"]
    return f"{i['total_s']:.1f} s ({i['preview_ms'] / 1000:.1f} + {i['save_ms'] / 1000:.1f})"
