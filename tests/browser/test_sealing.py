"""Annual accounts approved by both directors end in a sealed PDF that anyone who holds it
can check on /verify, in Chromium with JavaScript on and off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import clock
from portal.clients import tiers
from portal.demo_work import report_pdf
from portal.notifications.worker import Worker
from tests.browser.conftest import fetch
from tests.browser.test_approval_flow import _sign_in, app  # noqa: F401
from tests.factories import Factory

pytestmark = pytest.mark.browser
REPORT = report_pdf("Jaarrekening 2025 - Bakkerij De Korst", ["Balans per 31 december 2025"])


def _world(application, live):  # type: ignore[no-untyped-def]
    from portal import db as portal_db
    from portal.accounts.models import Membership

    application.config["PUBLIC_PORT"] = live.port
    make = Factory(application)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    jan = make.client_user(practice, company, email="jan@korst.example", name="Jan de Korst",
                           role="owner")
    els = make.client_user(practice, company, email="els@korst.example", name="Els de Korst")
    make.client_user(practice, company, email="boekhouding@korst.example",
                     name="Boekhouding")
    with application.app_context():
        portal_db.session.execute(Membership.__table__.update().where(
            Membership.client_user_id == jan.id).values(position="director"))
        portal_db.session.commit()
    engagement = make.engagement(company)
    make.report(engagement, data=REPORT, filename="Jaarrekening 2025.pdf")
    return {"company": company, "engagement": engagement, "els": els}


def test_two_directors_approve_and_the_verify_page_checks_the_sealed_file(
        app, live, page, tab, smtp, tsa, tmp_path, accessible):  # noqa: F811
    world = _world(app, live)
    _sign_in(page, live, "/office/login", "anna@demo.example")

    # Els is a director too: staff say so on the client card.
    page.goto(live.url(f"/office/clients/{world['company'].id}"))
    page.get_by_label("Position of Els de Korst").select_option(label="Director (bestuurder)")
    page.get_by_role("button", name="Save position of Els de Korst").click()
    expect(page.get_by_text("The position is saved.")).to_be_visible()
    accessible(page)

    # Sharing the annual accounts proposes both directors, not the bookkeeper.
    page.goto(live.url(f"/office/engagements/{world['engagement'].id}"))
    expect(page.get_by_label("Jan de Korst <jan@korst.example> · Director (bestuurder)")
           ).to_be_checked()
    expect(page.get_by_label("Els de Korst <els@korst.example> · Director (bestuurder)")
           ).to_be_checked()
    expect(page.get_by_label("Boekhouding <boekhouding@korst.example>")).not_to_be_checked()
    page.get_by_label("Approve before").fill((clock.today() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text("The report is on its way to 2 people.")).to_be_visible()

    for email in ("jan@korst.example", "els@korst.example"):
        director = tab()
        _sign_in(director, live, "/login", email)
        director.get_by_role("link", name="Approve Annual accounts 2025").first.click()
        director.get_by_role("button", name="Approve", exact=True).click()
        expect(director.get_by_text("You approved this report")).to_be_visible()
    Worker(app).run_pass()  # seals it

    page.reload()
    sealed_link = page.get_by_role("link", name="Sealed PDF")
    expect(sealed_link).to_be_visible()
    status, sealed = fetch(page, live.url(sealed_link.get_attribute("href")))
    assert status == 200 and sealed.startswith(REPORT) and len(sealed) > len(REPORT)
    accessible(page)

    # Anyone who holds the file, signed in or not, checks it on the practice's host.
    holder = tab(viewport={"width": 360, "height": 740})
    holder.goto(live.url("/verify"))
    accessible(holder)
    received = tmp_path / "Jaarrekening 2025 (verzegeld).pdf"
    received.write_bytes(sealed)
    holder.get_by_label("The PDF file").set_input_files(str(received))
    holder.get_by_role("button", name="Check the file").click()
    expect(holder.get_by_text("This file was sealed by Bakker & Visser and is unchanged "
                              "since.")).to_be_visible()
    expect(holder.get_by_text("Jan de Korst: approved")).to_be_visible()
    expect(holder.get_by_text("Els de Korst: approved")).to_be_visible()
    accessible(holder)

    changed = bytearray(sealed)
    changed[len(REPORT) // 2] ^= 0x01
    received.write_bytes(bytes(changed))
    holder.get_by_label("The PDF file").set_input_files(str(received))
    holder.get_by_role("button", name="Check the file").click()
    expect(holder.get_by_text("is not the file that was sealed", exact=False)).to_be_visible()
    expect(holder.get_by_text("Jan de Korst: approved")).to_have_count(0)

    with app.app_context():
        from portal import db as portal_db
        from portal.engagements.models import SealedReport

        token = portal_db.session.scalar(select(SealedReport.verify_token))
    holder.goto(live.url(f"/verify/{token}"))  # the QR code's address
    expect(holder.get_by_text("This is the record of a report sealed by Bakker & Visser."
                              , exact=False)).to_be_visible()
