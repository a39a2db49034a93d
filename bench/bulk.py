"""The bulk figures: a bulk tier change, the reminder sweep, the worker's mails per second,
engagements for every client (the questionnaire figures are in bench/questionnaires.py).

Each runs through the service the application uses (clients.service.bulk_change_tier,
notifications.reminders.sweep, notifications.worker.Worker) on a seeded database, and
reports its time next to the target of its issue.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.http import free_port
from bench.seed import ADMIN_EMAIL, CLIENT_EMAIL, TASK_KIND, add_tasks
from portal import db
from portal.clock import now
from portal.db import QueryCounter, transaction

TIER_CHANGE_CLIENTS = 5_000
TIER_CHANGE_TARGET_S = 2.0
SWEEP_TASKS = 100_000
SWEEP_TARGET_S = 5.0
WORKER_MAILS = 2_000
WORKER_TARGET_PER_S = 100.0
BULK_ENGAGEMENT_CLIENTS = 10_000
BULK_ENGAGEMENT_TARGET_S = 5.0


def tier_change(app: Flask, practice_id: int, count: int = TIER_CHANGE_CLIENTS
                ) -> dict[str, Any]:
    """Select `count` clients that are not on Collaborate yet and move them there; not the
    companies of the known client login, whose questionnaires are measured afterwards."""
    from portal.accounts.models import ClientUser, Membership, StaffUser
    from portal.audit import Actor
    from portal.clients import billing, service, tiers
    from portal.clients.models import Client

    target = tiers.COLLABORATE
    with app.app_context():
        session = db.session
        admin = session.scalar(select(StaffUser).where(StaffUser.practice_id == practice_id,
                                                       StaffUser.email == ADMIN_EMAIL))
        known = (select(Membership.client_id)
                 .join(ClientUser, ClientUser.id == Membership.client_user_id)
                 .where(ClientUser.practice_id == practice_id, ClientUser.email == CLIENT_EMAIL))
        ids = tuple(session.scalars(select(Client.id).where(
            Client.practice_id == practice_id, Client.tier != target, Client.id.not_in(known))
            .order_by(Client.id).limit(count)))
        selection = service.Selection(ids=ids)
        prices, _extra = billing.prices_from(app.config)
        stamp = service.bulk_preview(session, practice_id, selection, target, prices).stamp
        session.rollback()
        actor = Actor(practice_id, "staff", admin.id, admin.email, "127.0.0.1", "bench")
        with QueryCounter(db.engine_of(app)) as counter:
            start = time.perf_counter()
            changed = service.bulk_change_tier(session, actor, selection, target, stamp)
            seconds = time.perf_counter() - start
    return {"clients": changed, "seconds": round(seconds, 3), "queries": counter.count,
            "target": f"< {TIER_CHANGE_TARGET_S:g} s",
            "passed": changed == count and seconds < TIER_CHANGE_TARGET_S}


def compose_reminders(session: Session, due: list[Any]) -> list[tuple[Any, Any]]:
    """What a feature's composer does (as in tests/unit/test_reminders.py): for each due
    task a reminder mail to the client's contact person, with its link; loaded set-based."""
    from portal.clients.models import Client
    from portal.notifications import Mail, practice_url
    from portal.tenancy.models import Practice

    practices = {p.id: p for p in session.scalars(
        select(Practice).where(Practice.id.in_({t.practice_id for t in due})))}
    links = {pid: practice_url(p, "home.index") for pid, p in practices.items()}
    wanted = sorted({t.client_id for t in due})
    contacts = {}
    for start in range(0, len(wanted), 1000):
        contacts.update((row.id, row) for row in session.execute(
            select(Client.id, Client.name, Client.contact_name, Client.contact_email)
            .where(Client.id.in_(wanted[start:start + 1000]))))
    mails = []
    for task in due:
        client = contacts[task.client_id]
        if not client.contact_email:
            continue
        practice = practices[task.practice_id]
        mails.append((practice, Mail(
            to=client.contact_email, to_name=client.contact_name, kind="reminder",
            dedupe_key=f"{TASK_KIND}:{task.id}:{task.offset}",
            context={"task": task.title, "client_name": client.name,
                     "deadline": task.deadline, "link": links[practice.id],
                     "action": "Bekijken in het portaal", "overdue": task.offset > 0,
                     "custom_text": practice.reminder_text})))
    return mails


def reminder_sweeps(app: Flask, practice_id: int, count: int = SWEEP_TASKS) -> dict[str, Any]:
    """Add `count` open tasks, then sweep twice: the first sends, the second finds nothing."""
    from portal.notifications import reminders

    with app.app_context():
        session = db.session
        with transaction(session):
            insert_seconds = add_tasks(session, practice_id, count, rng=random.Random(7),
                                       moment=now())
        sweeps = []
        for _ in range(2):
            with QueryCounter(db.engine_of(app)) as counter:
                start = time.perf_counter()
                queued = reminders.sweep(session, {TASK_KIND: compose_reminders},
                                         tiers=app.config["REMINDER_TIERS"])
                seconds = time.perf_counter() - start
            sweeps.append({"seconds": round(seconds, 3), "mails": queued,
                           "queries": counter.count,
                           "passed": seconds < SWEEP_TARGET_S})
    sweeps[0]["passed"] = sweeps[0]["passed"] and sweeps[0]["mails"] > 0
    sweeps[1]["passed"] = sweeps[1]["passed"] and sweeps[1]["mails"] == 0
    return {"tasks": count, "insert_seconds": round(insert_seconds, 3), "first": sweeps[0],
            "second": sweeps[1], "target": f"< {SWEEP_TARGET_S:g} s"}


def worker_mails(config: dict[str, Any], practice_id: int, count: int = WORKER_MAILS
                 ) -> dict[str, Any]:
    """Queue `count` rendered mails, then time one worker pass that sends them all to an
    SMTP sink on loopback (a separate process)."""
    from portal import create_app
    from portal.notifications.worker import Worker

    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        _wait_for_line(sink, "ready", timeout=20)
        app = create_app({**config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                          "MAIL_BACKEND": "smtp", "MAIL_USE_TLS": False,
                          "MAIL_USE_SSL": False, "MAIL_USERNAME": None,
                          "MAIL_DEFAULT_SENDER": "portal@bench.example", "MAIL_TIMEOUT": 10})
        queue_seconds = _queue(app, practice_id, count)
        start = time.perf_counter()
        result = Worker(app, batch=100).run_pass(sweeps=False)
        seconds = time.perf_counter() - start
        db.engine_of(app).dispose()
    finally:
        sink.terminate()
        received_text, _ = sink.communicate(timeout=20)
    lines = received_text.split()
    received = int(lines[-1]) if lines and lines[-1].isdigit() else -1
    per_second = result.sent / seconds if seconds else 0.0
    return {"queued": count, "queue_seconds": round(queue_seconds, 3), "sent": result.sent,
            "not_sent": result.retried + result.failed, "received_by_sink": received,
            "seconds": round(seconds, 3), "per_second": round(per_second, 1),
            "target": f">= {WORKER_TARGET_PER_S:g}/s",
            "passed": result.sent == count == received and per_second >= WORKER_TARGET_PER_S}


def _queue(app: Flask, practice_id: int, count: int) -> float:
    """Rendered reminder mails to the practice's contact persons, as the sweep writes them."""
    from portal.clients.models import Client
    from portal.notifications import Mail, enqueue_many, practice_url
    from portal.tenancy.models import Practice

    with app.app_context():
        session = db.session
        practice = session.get(Practice, practice_id)
        contacts = session.execute(
            select(Client.id, Client.name, Client.contact_name, Client.contact_email)
            .where(Client.practice_id == practice_id, Client.contact_email.is_not(None))
            .order_by(Client.id).limit(count)).all()
        if not contacts:
            raise RuntimeError("the practice has no client with a contact e-mail address")
        link = practice_url(practice, "home.index")
        deadline = now() + timedelta(days=7)
        mails = [Mail(to=c.contact_email, to_name=c.contact_name, kind="reminder",
                      dedupe_key=f"bench-worker:{n}",
                      context={"task": f"Jaarrekening {deadline.year - 1} goedkeuren",
                               "client_name": c.name, "deadline": deadline, "link": link,
                               "action": "Bekijken in het portaal", "overdue": False,
                               "custom_text": None})
                 for n, c in zip(range(count), _cycle(contacts), strict=False)]
        start = time.perf_counter()
        with transaction(session):
            enqueue_many(session, practice, mails)
        return time.perf_counter() - start


def _cycle(rows: list[Any]) -> Any:
    while True:
        yield from rows


def _wait_for_line(process: subprocess.Popen[str], expected: str, timeout: float) -> None:
    found = threading.Event()

    def read() -> None:
        if process.stdout and process.stdout.readline().strip() == expected:
            found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found.is_set():
        raise RuntimeError(f"the SMTP sink did not start (exit code {process.poll()})")


def bulk_engagements(app: Flask, practice_id: int) -> dict[str, Any]:
    """Annual accounts for every client of the big practice (10,000): the preview, then the
    creation of exactly what it showed as the page and the worker do it (confirmed and
    queued, then the worker's sweep), timed together. The year
    is one the seed has no engagements of, so every active client gets one; blocked and
    ended clients are left out."""
    from portal.accounts.models import StaffUser
    from portal.audit import Actor
    from portal.clients.service import ClientFilter, Selection
    from portal.engagements import service

    with app.app_context():
        session = db.session
        admin = session.scalar(select(StaffUser).where(StaffUser.practice_id == practice_id,
                                                       StaffUser.email == ADMIN_EMAIL))
        year = now().year + 1
        work = service.NewWork("annual_accounts", year,
                               deadline=service.months_after_year_end(year, 5))
        selection = Selection(matching=ClientFilter())
        start = time.perf_counter()
        preview = service.preview_many(session, practice_id, selection, work)
        preview_seconds = time.perf_counter() - start
        session.rollback()
        actor = Actor(practice_id, "staff", admin.id, admin.email, "127.0.0.1", "bench")
        with QueryCounter(db.engine_of(app)) as counter:
            start = time.perf_counter()
            # As the page confirms it: more than INLINE_LIMIT are queued as a batch, and
            # the worker's sweep creates them a chunk per transaction.
            queued = service.confirm_many(session, actor, selection, work, preview.stamp)
            assert not isinstance(queued, tuple) or preview.creating <= service.INLINE_LIMIT
            if isinstance(queued, tuple):
                created, skipped = queued
            else:
                service.run_queued_batches(session)
                result = session.get(type(queued), queued.id, populate_existing=True).result
                created, skipped = result["created"], result["skipped"]
            seconds = time.perf_counter() - start
    return {"clients": preview.selected, "created": created, "skipped": skipped,
            "preview_seconds": round(preview_seconds, 3), "seconds": round(seconds, 3),
            "queries": counter.count, "target": f"< {BULK_ENGAGEMENT_TARGET_S:g} s",
            "passed": preview.selected >= BULK_ENGAGEMENT_CLIENTS and created > 0
            and created == preview.creating and seconds < BULK_ENGAGEMENT_TARGET_S}
