"""The import figure: 5,000 clients with 7,500 contact persons read, previewed and applied
through the service the import pages use (clients.imports), on a seeded database."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import select

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
            outcome = imports.apply(session, actor, practice, started, previewed,
                                    previewed.stamp, only_valid=False, admin=True)
            done = time.perf_counter()
    seconds = done - start
    return {"clients": outcome.created, "contacts": outcome.contacts,
            "upload_s": round(uploaded - start, 3), "preview_s": round(checked - uploaded, 3),
            "apply_s": round(done - checked, 3), "seconds": round(seconds, 3),
            "queries": counter.count, "target": f"< {IMPORT_TARGET_S:g} s",
            "passed": outcome.created == count and seconds < IMPORT_TARGET_S}
