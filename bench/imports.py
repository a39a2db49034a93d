"""The import figure: 5,000 clients with 7,500 contact persons read, previewed and applied
through the service the import pages use (clients.imports), on a seeded database; applied
as the page and the worker do it (queued, then the worker's sweep), timed together."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import select

from bench import files as files_bench
from bench.seed import ADMIN_EMAIL
from portal import db
from portal.db import QueryCounter

IMPORT_CLIENTS = 5_000
IMPORT_TARGET_S = 10.0


def exact_export(count: int) -> bytes:
    """Relations as Exact Online exports them; every other client has a second contact."""
    lines = ["Code;Naam;KvK-nummer;Cliënttype;Contactpersoon;E-mail;Contactpersoon 2;E-mail 2"]
    for n in range(count):
        second = n % 2 == 0
        lines.append(";".join([
            f"IMP{n:05d}", f"Importbedrijf {n} B.V.", f"{70000000 + n}",
            "Samenwerken Uitgebreid" if second else "Samenwerken",
            f"Eigenaar {n}", f"eigenaar{n}@import.example",
            f"Boekhouder {n}" if second else "", f"boekhouder{n}@import.example" if second
            else ""]))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def client_import(app: Flask, practice_id: int, count: int = IMPORT_CLIENTS) -> dict[str, Any]:
    from portal.accounts.models import StaffUser
    from portal.audit import Actor
    from portal.clients import billing, imports
    from portal.tenancy.models import Practice

    data = exact_export(count)
    with app.app_context():
        session = db.session
        admin = session.scalar(select(StaffUser).where(StaffUser.practice_id == practice_id,
                                                       StaffUser.email == ADMIN_EMAIL))
        practice = session.get(Practice, practice_id)
        actor = Actor(practice_id, "staff", admin.id, admin.email, "127.0.0.1", "bench")
        prices, extra = billing.prices_from(app.config)
        with QueryCounter(db.engine_of(app)) as counter:
            start = time.perf_counter()
            started = imports.upload(session, actor, "relaties.csv", data)
            uploaded = time.perf_counter()
            previewed = imports.preview(session, started, prices, extra)
            checked = time.perf_counter()
            queued = imports.apply(session, actor, practice, started, previewed,
                                   previewed.stamp, only_valid=False, admin=True)
            # More than INLINE_LIMIT rows: the page queues them and the worker's sweep
            # applies them (the preview made again, then a chunk per transaction).
            assert queued is None or count <= imports.INLINE_LIMIT
            imports.run_queued(session, prices, extra)
            done = time.perf_counter()
            outcome = session.get(type(started), started.id, populate_existing=True).result
    seconds = done - start
    return {"clients": outcome["created"], "contacts": outcome["contacts"],
            "upload_s": round(uploaded - start, 3), "preview_s": round(checked - uploaded, 3),
            "apply_s": round(done - checked, 3), "seconds": round(seconds, 3),
            "queries": counter.count, "target": f"< {IMPORT_TARGET_S:g} s",
            "passed": outcome["created"] == count and seconds < IMPORT_TARGET_S}


BULK_REPORTS = 300
BULK_REPORT_KB = 200
BULK_REPORTS_TARGET_S = 30.0
BULK_REPORTS_TARGET_MB = 100


def bulk_reports(config: dict[str, Any], practice_id: int) -> dict[str, Any]:
    """The figure below, in a new process (as a worker is): the memory it adds is then
    seen, not hidden in what this process freed during the figures before it."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_bulk_reports_here, (config, practice_id))


def _bulk_reports_here(config: dict[str, Any], practice_id: int) -> dict[str, Any]:
    from portal import create_app

    app = create_app(config)
    try:
        return measure_bulk_reports(app, practice_id)
    finally:
        db.engine_of(app).dispose()


def measure_bulk_reports(app: Flask, practice_id: int, count: int = BULK_REPORTS
                         ) -> dict[str, Any]:
    """300 PDFs of 200 KB for 300 clients' annual accounts: staged, matched, stored and
    shared for approval (mails through the outbox), with this process's peak resident
    memory above what it held before (the uploads already read). The peak is the kernel's
    (VmHWM, reset first), not tracemalloc's: tracing every allocation doubled the time."""
    import io
    import os
    from datetime import timedelta

    from sqlalchemy import insert

    from portal.accounts.models import ClientUser, Membership, StaffUser
    from portal.audit import Actor
    from portal.clients import tiers
    from portal.clients.models import Client
    from portal.clock import now
    from portal.documents import files
    from portal.engagements import bulk_reports as service
    from portal.engagements.models import Engagement
    from portal.tenancy.models import Practice

    year = 2031  # a year nobody has engagements for yet
    with app.app_context():
        session = db.session
        admin = session.scalar(select(StaffUser).where(StaffUser.practice_id == practice_id,
                                                       StaffUser.email == ADMIN_EMAIL))
        chosen = session.execute(
            select(Client.id, Client.client_number)
            .join(Membership, Membership.client_id == Client.id)
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .where(Client.practice_id == practice_id, Client.status == "active",
                   Client.client_number.not_like("IMP%"),  # the import figure's clients
                   Client.tier.in_([t for t in tiers.TIERS if tiers.has(t, "share_reports")]))
            .group_by(Client.id, Client.client_number).order_by(Client.id).limit(count)).all()
        session.execute(insert(Engagement), [
            {"practice_id": practice_id, "client_id": cid, "kind": "annual_accounts",
             "year": year, "status": "in_preparation"} for cid, _n in chosen])
        session.commit()
        practice = session.get(Practice, practice_id)
        actor = Actor(practice_id, "staff", admin.id, admin.email, "127.0.0.1", "bench")
        padding = b"0" * (BULK_REPORT_KB * 1024)
        uploads = [(f"{number} Jaarrekening {year}.pdf",
                    io.BytesIO(b"%PDF-1.4\n%" + number.encode() + b"\n" + padding + b"%%EOF\n"))
                   for _cid, number in chosen]
        me = os.getpid()
        files_bench.reset_peak(me)
        idle_mb = files_bench.rss_mb(me)
        with QueryCounter(db.engine_of(app)) as counter:
            start = time.perf_counter()
            batch = service.stage(session, actor, files.storage(), kind="annual_accounts",
                                  year=year, pattern=service.DEFAULT_PATTERN, files=uploads,
                                  max_bytes=50 * 1024 * 1024)
            staged = time.perf_counter()
            found = service.preview(session, batch)
            service.confirm(session, actor, practice, files.storage(), batch, found,
                            found.stamp, share="approval", deadline=now() + timedelta(days=14),
                            message=None)
            service.run_queued(session, files.storage())  # what the worker's sweep does
            seconds = time.perf_counter() - start
            result = session.get(type(batch), batch.id, populate_existing=True).result or {}
        peak_mb = files_bench.peak_rss_mb(me) - idle_mb
    return {"files": len(uploads), "stored": result["stored"], "shared": result["shared"],
            "stage_s": round(staged - start, 3), "seconds": round(seconds, 3),
            "peak_mb": round(peak_mb, 1), "queries": counter.count,
            "target": f"< {BULK_REPORTS_TARGET_S:g} s, < {BULK_REPORTS_TARGET_MB} MB",
            "passed": result["shared"] == len(uploads) and seconds < BULK_REPORTS_TARGET_S
            and peak_mb < BULK_REPORTS_TARGET_MB}
