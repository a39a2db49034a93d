"""Dashboards and imports of key figures, measured in-process: `python -m bench.insights`.

1. The pages of a client with 10 years x 12 months x 200 lines of figures (monthly trial
   balances of 200 accounts, a year's trial balance of 200 accounts per year, and three series
   of the client's own CSVs): SQL statements per request and the median server time (the
   whole request through the app) of the engagement's dashboard for staff and for the
   client, and of the client insights page over all ten years.
2. Importing a trial balance CSV of 50,000 lines through the pages staff use: upload, the
   preview (the file parsed in full), and saving (parsed again, 50,000 rows in one
   transaction).

A fresh SQLite database in a temporary folder, unless --database-url names another
(PostgreSQL: an empty database; its tables are made by the migrations). Wall-clock times
suffer on a busy machine; the CPU time of this process (the app and, for SQLite, the
database) says what a request costs.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from portal import create_app, migrate
from portal import db as portal_db
from portal.db import QueryCounter, transaction

YEARS, MONTHS, LINES = 10, 12, 200
IMPORT_LINES = 50_000
RUNS = 30
PASSWORD = "bench insights password 2026"  # noqa: S105 (a throwaway database's login)
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def _leaf_codes() -> list[str]:
    from portal.insights import rgs

    return [c.code for c in rgs.CODES.values() if c.level == 3]


def balanced_lines(count: int, seed: int) -> list[tuple[str, str, Decimal]]:
    """(account, RGS code, signed amount) lines that add up to zero: the last account takes
    what is left, on equity."""
    codes = _leaf_codes()
    lines = []
    total = Decimal(0)
    for n in range(count - 1):
        code = codes[(n + seed) % len(codes)]
        amount = Decimal((n * 7919 + seed * 104729) % 2_500_000 + 1000) / 100
        if code.startswith(("W", "BEiv", "BSch", "BLas", "BVrz")) and code[1:4] != "Kpr":
            amount = -amount
        lines.append((f"{10000 + n}", code, amount))
        total += amount
    lines.append((f"{10000 + count}", "BEivOvr", -total))
    return lines


def _app(url: str, tmp: Path):  # type: ignore[no-untyped-def]
    migrate.upgrade(url)
    return create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "BASE_DOMAIN": "localhost",
                       "INSTANCE_PATH": str(tmp / "instance"), "PASSWORD_HASH_FAST": True,
                       "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                       "STORAGE_URL": f"file://{tmp / 'files'}", "INSIGHTS_MAX_MB": 64})


def _world(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A practice, its admin, an Uitgebreid client with a contact and a shared report, and the
    blocks of its dashboard and insights shared."""
    from portal.accounts.models import ClientUser, Membership, StaffUser
    from portal.accounts.passwords import hash_password
    from portal.clients.models import Client
    from portal.engagements.models import Engagement, ReportVersion, Share, Signer
    from portal.insights.dashboard import DASHBOARD_BLOCKS, INSIGHT_BLOCKS
    from portal.insights.models import SharedBlocks
    from portal.tenancy.models import Practice

    with app.app_context(), transaction(portal_db.session) as s:
        practice = Practice(slug="bench", name="Bench Accountants", locale="nl")
        s.add(practice)
        s.flush()
        hashed = hash_password(PASSWORD)
        staff = StaffUser(practice_id=practice.id, email="anna@bench.example", name="Anna",
                          role="admin", password_hash=hashed)
        client = Client(practice_id=practice.id, name="Bakkerij Bench B.V.",
                        client_number="1", tier="collaborate_plus")
        s.add_all([staff, client])
        s.flush()
        owner = ClientUser(practice_id=practice.id, email="sanne@bench.example", name="Sanne",
                           password_hash=hashed)
        s.add(owner)
        s.flush()
        s.add(Membership(client_user_id=owner.id, client_id=client.id, role="owner"))
        year = 2025
        engagement = Engagement(practice_id=practice.id, client_id=client.id,
                                kind="annual_accounts", year=year, status="shared")
        s.add(engagement)
        s.flush()
        version = ReportVersion(practice_id=practice.id, engagement_id=engagement.id, number=1,
                                storage_key="0" * 64, sha256="0" * 64, size=1,
                                filename="jaarrekening.pdf")
        s.add(version)
        s.flush()
        share = Share(practice_id=practice.id, client_id=client.id,
                      engagement_id=engagement.id, report_version_id=version.id, mode="view")
        s.add(share)
        s.flush()
        s.add(Signer(share_id=share.id, email=owner.email, client_user_id=owner.id,
                     via_portal=True))
        s.add_all([
            SharedBlocks(practice_id=practice.id, client_id=client.id,
                         engagement_id=engagement.id, scope=f"engagement:{engagement.id}",
                         blocks=list(DASHBOARD_BLOCKS)),
            SharedBlocks(practice_id=practice.id, client_id=client.id, scope="insights",
                         blocks=list(INSIGHT_BLOCKS))])
        return {"practice_id": practice.id, "client_id": client.id,
                "engagement_id": engagement.id, "year": year}


def _figures(app, world: dict[str, Any]) -> int:  # type: ignore[no-untyped-def]
    """10 years of a year's trial balance and twelve monthly ones, 200 lines each, and three
    series of the client's own figures per month. Returns the number of figure rows."""
    from portal.insights.models import Figure, FigureImport, Series

    rows = 0
    client_id, practice_id = world["client_id"], world["practice_id"]
    with app.app_context(), transaction(portal_db.session) as s:
        series = [Series(practice_id=practice_id, client_id=client_id, name=name, kind=kind)
                  for name, kind in (("Kassa", "revenue"), ("Webshop", "revenue"),
                                     ("Bank", "bank_balance"))]
        s.add_all(series)
        s.flush()
        for year in range(world["year"] - YEARS + 1, world["year"] + 1):
            for month in (None, *range(1, MONTHS + 1)):
                record = FigureImport(
                    practice_id=practice_id, client_id=client_id, source="trial_balance",
                    slot=f"year:{year}" if month is None else f"month:{year}-{month:02d}",
                    year=year, month=month, lines=LINES, created_by="anna@bench.example")
                s.add(record)
                s.flush()
                batch = [{"import_id": record.id, "client_id": client_id, "year": year,
                          "month": month, "code": code, "series_id": None, "account": account,
                          "amount": amount}
                         for account, code, amount in balanced_lines(LINES, year * 13
                                                                     + (month or 0))]
                s.execute(insert(Figure), batch)
                rows += len(batch)
            for one in series:
                record = FigureImport(practice_id=practice_id, client_id=client_id,
                                      series_id=one.id, source="client_csv", year=year,
                                      lines=MONTHS, created_by="sanne@bench.example")
                s.add(record)
                s.flush()
                s.execute(insert(Figure), [
                    {"import_id": record.id, "client_id": client_id, "year": year,
                     "month": month, "code": None, "series_id": one.id, "account": None,
                     "amount": Decimal(10_000 + 250 * month + year)}
                    for month in range(1, MONTHS + 1)])
                rows += MONTHS
    return rows


def _signed_in(app, kind: str):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    login = "/office/login" if kind == "staff" else "/login"
    email = "anna@bench.example" if kind == "staff" else "sanne@bench.example"
    token = CSRF_INPUT.search(browser.get(login, base_url=BASE).get_data(as_text=True))[1]
    response = browser.post(login, base_url=BASE, data={
        "csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code in (302, 303), f"{kind} could not sign in"
    return browser


BASE = "http://bench.localhost"


def _measure(app, browser, path: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    for _ in range(3):  # warm up: templates compiled, caches filled
        assert browser.get(path, base_url=BASE).status_code == 200, path
    with QueryCounter(portal_db.engine_of(app)) as counter:
        browser.get(path, base_url=BASE)
    times, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        browser.get(path, base_url=BASE)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"path": path, "queries": counter.count,
            "median_ms": round(statistics.median(times), 1),
            "p90_ms": round(sorted(times)[int(RUNS * 0.9) - 1], 1),
            "median_cpu_ms": round(statistics.median(cpu), 1)}


def dashboards(app, world: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    staff, client = _signed_in(app, "staff"), _signed_in(app, "client")
    first = world["year"] - YEARS + 1
    pages: list[tuple[str, Any, str]] = [
        ("engagement dashboard (staff)", staff,
         f"/office/engagements/{world['engagement_id']}/dashboard"),
        ("engagement dashboard (client, portal)", client,
         f"/c/{world['client_id']}/dashboard/{world['engagement_id']}"),
        ("client insights, 10 years (client)", client,
         f"/c/{world['client_id']}/insights?first={first}&last={world['year']}"),
        ("client insights, 10 years (staff)", staff,
         f"/office/clients/{world['client_id']}/insights?first={first}&last={world['year']}"),
    ]
    return {label: _measure(app, browser, path) for label, browser, path in pages}


def trial_balance_csv(lines: int) -> bytes:
    """A Dutch trial balance export: `;`, decimal commas, debit and credit, RGS codes."""
    out = io.StringIO()
    out.write("Rekening;Omschrijving;Debet;Credit;RGS-code\r\n")
    for account, code, amount in balanced_lines(lines, 7):
        text = f"{abs(amount):,.2f}".translate(str.maketrans(",.", ".,"))
        debit, credit = (text, "") if amount >= 0 else ("", text)
        out.write(f"{account};Rekening {account};{debit};{credit};{code}\r\n")
    return out.getvalue().encode()


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


def big_import(app, world: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from portal.insights.models import Figure

    staff = _signed_in(app, "staff")
    page = f"/office/engagements/{world['engagement_id']}/trial-balance"
    data = trial_balance_csv(IMPORT_LINES)
    token = CSRF_INPUT.search(staff.get(page, base_url=BASE).get_data(as_text=True))[1]
    upload, upload_ms = _timed(lambda: staff.post(page, base_url=BASE, data={
        "csrf_token": token, "period": str(world["year"] - 1),
        "upload": (io.BytesIO(data), "proefbalans.csv")}, content_type="multipart/form-data"))
    assert upload.status_code == 303, upload.get_data(as_text=True)[:500]
    preview_path = upload.headers["Location"]
    preview, preview_ms = _timed(lambda: staff.get(preview_path, base_url=BASE))
    html = preview.get_data(as_text=True)
    assert 'name="action" value="save"' in html, html[:3000]  # any locale: the button
    token = CSRF_INPUT.search(html)[1]
    saved, save_ms = _timed(lambda: staff.post(preview_path, base_url=BASE, data={
        "csrf_token": token, "action": "save"}))
    assert saved.status_code == 303, saved.get_data(as_text=True)[:500]
    with app.app_context():
        from sqlalchemy import func, select

        stored = portal_db.session.scalar(select(func.count()).select_from(Figure).where(
            Figure.year == world["year"] - 1, Figure.month.is_(None),
            Figure.client_id == world["client_id"]))
    assert stored == IMPORT_LINES, stored
    return {"lines": IMPORT_LINES, "bytes": len(data), "upload_ms": round(upload_ms),
            "preview_ms": round(preview_ms), "save_ms": round(save_ms),
            "total_s": round((upload_ms + preview_ms + save_ms) / 1000, 2)}


def measure(database_url: str | None = None) -> dict[str, Any]:
    """Both parts on a fresh database (an empty one at database_url, else temporary SQLite);
    the figures as a dict (what --json prints). `make bench` calls this."""
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as folder:
        tmp = Path(folder)
        url = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        app = _app(url, tmp)
        try:
            world = _world(app)
            rows, seed_ms = _timed(lambda: _figures(app, world))
            return {"database": url.split(":", 1)[0],
                    "data": {"years": YEARS, "months": MONTHS, "lines": LINES,
                             "figure_rows": rows, "seeded_in_s": round(seed_ms / 1000, 1)},
                    "pages": dashboards(app, world),
                    "import": big_import(app, world)}
        finally:
            portal_db.engine_of(app).dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = measure(args.database_url)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return result


def _print(result: dict[str, Any]) -> None:
    data = result["data"]
    print(f"Database: {result['database']}; {data['figure_rows']:,} figure rows "
          f"({data['years']} years x {data['months']} months x {data['lines']} lines, plus "
          f"a year's trial balance per year and three client series)")
    print(f"{'page':42} {'queries':>7} {'median ms':>10} {'p90 ms':>8} {'median CPU ms':>14}")
    for label, page in result["pages"].items():
        print(f"{label:42} {page['queries']:>7} {page['median_ms']:>10} {page['p90_ms']:>8} "
              f"{page['median_cpu_ms']:>14}")
    imp = result["import"]
    print(f"Trial balance import, {imp['lines']:,} lines ({imp['bytes'] / 1e6:.1f} MB): "
          f"upload {imp['upload_ms']} ms, preview {imp['preview_ms']} ms, "
          f"save {imp['save_ms']} ms; {imp['total_s']} s in all")


if __name__ == "__main__":
    main()
