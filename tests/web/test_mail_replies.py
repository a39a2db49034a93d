"""Mail reads as a person wrote it: replies reach someone, names keep their own punctuation."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import ROOT
from portal.clock import now
from portal.notifications.mail import Mail, render_mail
from portal.notifications.models import OutboxMessage
from tests.web.test_approvals import _engagement, _share, _upload

NAME = "Bakkerij De Gouden Korst B.V."
# One value per variable the mail templates use; the names end in a full stop.
SAMPLES = {
    "client_name": NAME, "recipient_name": "J.A. de Vries jr.", "who": "P. Jansen sr.",
    "uploader": "Jansen & Zn. B.V.", "inviter": "A. Bakker MSc.", "by": "A. Bakker MSc.",
    "admin": "A. Bakker MSc.", "payer": "client", "report": "Jaarrekening 2026 van Korst B.V.",
    "task": "Jaarrekening 2026 van Korst B.V.", "title": "Vragenlijst Korst B.V.",
    "request_title": "Stukken Korst B.V.", "section": "Deel 1 van Korst B.V.",
    "engagement": "Jaarrekening 2026 van Korst B.V.", "tier_label": "Samenwerken Plus",
    "link": "http://demo.localhost/l/x", "url": "http://demo.localhost/x", "label": "Open",
    "action": "Open het rapport", "message": "Met groet, Korst B.V.",
    "comment": "Akkoord namens Korst B.V.", "note": "Zie bijlage van Korst B.V.",
    "custom_text": "Groet van Korst B.V.", "welcome_text": "Welkom bij Korst B.V.",
    "email": "info@korst.example", "new_email": "nieuw@korst.example",
    "old_email": "oud@korst.example", "filename": "jaarrekening.pdf", "sha256": "ab" * 32,
    "files": [("jaarrekening.pdf", 1234)], "includes": ["Rapporten delen"],
    "count": 2, "version": 2, "hours": 24, "minutes": 30, "free_days": 30,
    "price": Decimal("12.50"), "mode": "approval", "outcome": "declined",
    "decision": "declined", "overdue": True, "via_portal": False, "has_portal": True,
    "reminder": True, "event_id": 41, "head_hash": "cd" * 32,
}
DATES = ("deadline", "moment", "expires", "expires_at", "purge_after", "when", "stamped_at")
LAYOUT = {"brand", "on_brand", "logo_url", "home_url", "practice_name", "get_locale",
          "ngettext"}  # render_mail and the app provide these


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    return {"practice": practice,
            "anna": make.staff(practice, "anna@demo.example", role="admin", name="Anna")}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _kinds() -> list[str]:
    return sorted(p.stem for p in (Path(ROOT) / "templates" / "mail").glob("[!_]*.txt")
                  if p.stem != "base")


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_every_mail_ends_a_sentence_once_after_a_name_with_a_full_stop(app, make, locale):
    from jinja2 import meta

    practice = make.practice(name="Administratiekantoor Visser & Co.")
    with app.test_request_context():
        for kind in _kinds():
            source = Path(ROOT, "templates", "mail", f"{kind}.txt").read_text()
            used = meta.find_undeclared_variables(app.jinja_env.parse(source)) - LAYOUT
            missing = used - set(SAMPLES) - set(DATES)
            assert not missing, f"add samples for {sorted(missing)} ({kind})"
            context = {**SAMPLES, **{d: now() + timedelta(days=3) for d in DATES}}
            rendered = render_mail(practice, Mail(to="a@b.example", kind=kind, locale=locale,
                                                  to_name="J.A. de Vries jr.", context=context))
            for part in (rendered.subject, rendered.text, re.sub(r"<[^>]+>", "", rendered.html)):
                doubled = re.search(r"\w\.\.(?!\.)", part)
                assert doubled is None, f"{kind} ({locale}): {part[doubled.start() - 40:][:80]!r}"


def test_a_reply_to_a_shared_report_reaches_the_responsible_accountant(office, make, world,
                                                                         db):
    engagement, users = _engagement(make, world)
    _upload(office, engagement)
    assert _share(office, engagement, users).status_code == 303
    with db() as s:
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "report_shared"))
    assert mail.reply_to == world["anna"].email


def test_without_a_responsible_replies_go_to_the_practice_address(office, make, world, db):
    with db() as s:
        s.get(type(world["practice"]), world["practice"].id).reply_to = "info@bakker.example"
        s.commit()
    engagement, users = _engagement(make, world)
    with db() as s:
        s.get(type(engagement), engagement.id).responsible_id = None
        s.commit()
    _upload(office, engagement)
    assert _share(office, engagement, users).status_code == 303
    with db() as s:
        mail = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "report_shared"))
    assert mail.reply_to == "info@bakker.example"
