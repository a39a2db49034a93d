"""The application reads the time only through portal.clock, so a test that sets the clock
sets it for everything, and the database never stamps a row with a clock of its own."""

from __future__ import annotations

import ast
from pathlib import Path

from portal import db

ROOT = Path(__file__).resolve().parents[2]
# Calls that read the calendar; time.monotonic and perf_counter measure durations only.
CALENDAR_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                  ("date", "today"), ("time", "time"), ("time", "time_ns"),
                  ("time", "localtime"), ("time", "gmtime"), ("time", "ctime")}


def _calendar_reads(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            reads_now = node.func.attr not in {"localtime", "gmtime", "ctime"} or not node.args
            if (name, node.func.attr) in CALENDAR_READS and reads_now:
                found.append(f"{path.relative_to(root)}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_only_portal_clock_reads_the_calendar() -> None:
    # the app and the reference data it is measured on (bench/run.py only names its files)
    sources = [p for p in (ROOT / "portal").rglob("*.py") if p.name != "clock.py"]
    sources += [ROOT / "bench" / "seed.py"]
    assert [hit for path in sources for hit in _calendar_reads(path)] == []


def test_the_scan_finds_a_read_behind_the_clocks_back(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("import time\nfrom datetime import date\nstamp = time.time()\n"
                      "day = date.today()\nlater = time.gmtime(0)\n")
    assert _calendar_reads(module, tmp_path) == ["probe.py:3 time.time()",
                                                 "probe.py:4 date.today()"]


def test_no_column_takes_its_default_from_the_database_clock() -> None:
    db.import_models()
    clocked = [f"{table.name}.{column.name}"
               for table in db.Base.metadata.sorted_tables for column in table.columns
               if column.server_default is not None and any(
                   word in str(getattr(column.server_default, "arg", "")).lower()
                   for word in ("now", "current_", "localtime"))]
    assert clocked == []
    versions = ROOT / "migrations" / "versions"
    assert [p.name for p in versions.glob("*.py")
            if "now()" in p.read_text().lower() or "current_timestamp" in p.read_text().lower()
            ] == []
