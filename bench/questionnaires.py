"""The questionnaire figures of their issue, on the seeded reference data set, in-process:

1. Sending a template to 1,000 clients: `questionnaires.service.send` (a send this large is
   queued) and the worker's `deliver_queued` that creates the assignments, their open
   actions and the mails' outbox rows. Target: under 5 s together.
2. The autosave round trip: the known client user answers one question of that
   questionnaire the way htmx sends it (one POST, the question fragment back), timed
   through the whole app. Target: median under 20 ms server time.
3. A questionnaire of 150 questions (5 parts of 30): the part's page, its SQL statements
   before and after 30 answers are saved (the same number), and its time.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from bench.pages import CSRF_INPUT, Browser
from bench.seed import ADMIN_EMAIL, CLIENT_EMAIL, PASSWORD
from portal import db
from portal.db import QueryCounter

SEND_CLIENTS = 1_000
SEND_TARGET_S = 5.0
AUTOSAVE_TARGET_MS = 20.0
AUTOSAVES = 100
BIG_QUESTIONNAIRE = {"sections": [
    {"key": f"s{n}", "title": f"Deel {n + 1}", "intro": "", "questions": [
        {"key": f"q{n}_{m}", "type": "short_text", "label": f"Vraag {n + 1}.{m + 1}",
         "help": "", "required": False, "allow_na": False, "options": [], "show_if": None}
        for m in range(30)]} for n in range(5)]}


def measure(app: Flask, practice_id: int, host: str) -> dict[str, Any]:
    from portal.questionnaires import examples

    example = examples.SOLE_TRADER_ANNUAL_ACCOUNTS
    with app.app_context():
        actor, practice, company_id, client_ids = _cast(practice_id)
        template = _template(actor, example["name"], example["content"])
        big = _template(actor, "Groot: 150 vragen", BIG_QUESTIONNAIRE)
        practice_row = db.session.get(type(practice), practice.id)
        send = _send(app, actor, practice_row, template, client_ids)
        _send(app, actor, practice_row, big, [company_id])
        ids = (template.id, big.id)
        assignments = _assignments(company_id, ids)
    browser = Browser(app, host)
    browser.login("/login", CLIENT_EMAIL, PASSWORD)
    return {"send": send,
            "autosave": _autosave(app, browser, company_id, assignments[ids[0]],
                                  example["content"]),
            "big_section": _big_section(app, browser, company_id, assignments[ids[1]])}


def _cast(practice_id: int) -> tuple[Any, Any, int, list[int]]:
    """The admin as actor, and 1,000 active clients whose tier has questionnaires, the
    known client user's first such company among them."""
    from portal.accounts.models import ClientUser, Membership, StaffUser
    from portal.audit import Actor
    from portal.clients import tiers
    from portal.clients.models import Client
    from portal.tenancy.models import Practice

    session = db.session
    admin = session.scalar(select(StaffUser).where(StaffUser.practice_id == practice_id,
                                                   StaffUser.email == ADMIN_EMAIL))
    eligible = (Client.practice_id == practice_id, Client.status == "active",
                Client.tier.in_(tiers.tiers_with("questionnaires")))
    company_id = session.scalar(
        select(Client.id).join(Membership, Membership.client_id == Client.id)
        .join(ClientUser, ClientUser.id == Membership.client_user_id)
        .where(*eligible, ClientUser.email == CLIENT_EMAIL).order_by(Client.id).limit(1))
    if company_id is None:
        raise RuntimeError(f"{CLIENT_EMAIL} has no company that receives questionnaires")
    others = list(session.scalars(select(Client.id).where(*eligible, Client.id != company_id)
                                  .order_by(Client.id).limit(SEND_CLIENTS - 1)))
    practice = session.get(Practice, practice_id)
    session.rollback()
    actor = Actor(practice_id, "staff", admin.id, admin.email, "127.0.0.1", "bench")
    return actor, practice, company_id, [company_id, *others]


def _template(actor: Any, name: str, content: dict[str, Any]) -> Any:
    from portal.questionnaires import service

    return service.create_template(db.session, actor, name, None, content=content)


def _send(app: Flask, actor: Any, practice: Any, template: Any, client_ids: list[int]
          ) -> dict[str, Any]:
    from portal.notifications.models import OutboxMessage
    from portal.questionnaires import service

    session = db.session
    mails_before = session.scalar(select(func.count()).select_from(OutboxMessage))
    session.rollback()
    with QueryCounter(db.engine_of(app)) as counter:
        start = time.perf_counter()
        service.send(session, actor, practice, template, client_ids, deadline=None,
                     message="Graag voor 1 maart.")
        queued = time.perf_counter()
        service.deliver_queued(session)
        done = time.perf_counter()
    mails = session.scalar(select(func.count()).select_from(OutboxMessage)) - mails_before
    session.rollback()
    seconds = done - start
    return {"clients": len(client_ids), "mails": mails, "queries": counter.count,
            "send_seconds": round(queued - start, 3),
            "deliver_seconds": round(done - queued, 3), "seconds": round(seconds, 3),
            "target": f"< {SEND_TARGET_S:g} s", "passed": mails > 0 and seconds < SEND_TARGET_S}


def _assignments(company_id: int, template_ids: tuple[int, ...]) -> dict[int, int]:
    from portal.questionnaires.models import Assignment, TemplateVersion

    rows = db.session.execute(
        select(TemplateVersion.template_id, Assignment.id)
        .join(TemplateVersion, TemplateVersion.id == Assignment.version_id)
        .where(Assignment.client_id == company_id,
               TemplateVersion.template_id.in_(template_ids))).all()
    db.session.rollback()
    return dict(rows)


def _autosave(app: Flask, browser: Browser, company_id: int, assignment_id: int,
              content: dict[str, Any]) -> dict[str, Any]:
    """One number question answered again and again, as htmx posts it."""
    section = next(s for s in content["sections"]
                   if any(q["type"] == "number" for q in s["questions"]))
    question = next(q for q in section["questions"] if q["type"] == "number")
    page = f"/c/{company_id}/questionnaires/{assignment_id}/s/{section['key']}"
    url = f"/c/{company_id}/questionnaires/{assignment_id}/q/{question['key']}"
    token = CSRF_INPUT.search(browser.get(page).get_data(as_text=True))
    if token is None:
        raise RuntimeError(f"no form at {page}")
    headers = {"HX-Request": "true", "HX-Target": f"status-{question['key']}",
               "X-CSRFToken": token.group(1)}
    times, counts = [], []
    for n in range(AUTOSAVES + 10):
        with QueryCounter(db.engine_of(app)) as counter:
            start = time.perf_counter()
            response = browser.client.post(url, base_url=browser.base, headers=headers,
                                           data={question["key"]: str(1000 + n)})
            elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"POST {url} answered {response.status_code}")
        if n >= 10:  # the first ones warm up
            times.append(elapsed)
            counts.append(counter.count)
    times.sort()
    median = statistics.median(times)
    return {"path": url, "saves": len(times), "queries": counts[-1],
            "queries_stable": len(set(counts)) == 1, "median_ms": round(median, 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "target": f"median < {AUTOSAVE_TARGET_MS:g} ms",
            "passed": median < AUTOSAVE_TARGET_MS}


def _big_section(app: Flask, browser: Browser, company_id: int, assignment_id: int
                 ) -> dict[str, Any]:
    page = f"/c/{company_id}/questionnaires/{assignment_id}/s/s0"

    def timed() -> tuple[float, int]:
        with QueryCounter(db.engine_of(app)) as counter:
            start = time.perf_counter()
            response = browser.get(page)
            elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {page} answered {response.status_code}")
        return elapsed, counter.count

    timed()
    _, before = timed()
    token = CSRF_INPUT.search(browser.get(page).get_data(as_text=True))
    headers = {"HX-Request": "true", "X-CSRFToken": token.group(1) if token else ""}
    for m in range(30):
        browser.client.post(f"/c/{company_id}/questionnaires/{assignment_id}/q/q0_{m}",
                            base_url=browser.base, headers=headers,
                            data={f"q0_{m}": "antwoord"})
    runs = [timed() for _ in range(20)]
    after = runs[-1][1]
    return {"path": page, "questions": 150, "queries_before_answers": before,
            "queries_after_30_answers": after, "median_ms": round(
                statistics.median(t for t, _ in runs), 2),
            "passed": before == after}
