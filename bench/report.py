"""The one table `make bench` prints, from the results it also writes as JSON."""

from __future__ import annotations

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
        ("reminder sweep, 100,000 open tasks", "reminders", _first_sweep_cell, "< 5 s"),
        ("  second sweep, nothing new", "reminders", _second_sweep_cell, "< 5 s"),
        ("worker to SMTP sink, 2,000 mails", "worker", _worker_cell, ">= 100 mails/s"),
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


def _tier_cell(f: dict[str, Any]) -> str:
    return f"{f['seconds']:.2f} s {_verdict(f['passed'])}"


def _first_sweep_cell(f: dict[str, Any]) -> str:
    s = f["first"]
    return f"{s['seconds']:.2f} s {_verdict(s['passed'])} {s['mails']:,} mails"


def _second_sweep_cell(f: dict[str, Any]) -> str:
    s = f["second"]
    return f"{s['seconds']:.2f} s {_verdict(s['passed'])} {s['mails']:,} mails"


def _worker_cell(f: dict[str, Any]) -> str:
    return f"{f['per_second']:,.0f}/s {_verdict(f['passed'])} ({f['sent']:,} sent)"
