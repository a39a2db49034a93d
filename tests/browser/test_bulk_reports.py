"""Reports in bulk in Chromium, JavaScript on and off: a folder of PDFs goes to the season's
engagements and out to the clients for approval in one sitting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import clock
from portal import db as portal_db
from portal.clients import tiers
from portal.engagements.models import Share
from tests.factories import PASSWORD, PDF, Factory

pytestmark = pytest.mark.browser


def test_a_folder_of_reports_is_matched_stored_and_shared(app, live, page, accessible,
                                                          tmp_path):
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="admin")
    for number in ("1001", "1002"):
        company = make.client(practice, tiers.COLLABORATE, client_number=number,
                              name=f"Klant {number}")
        make.client_user(practice, company, email=f"info@{number}.example")
        make.engagement(company, kind="annual_accounts", year=2026)
    folder = []
    for name, body in (("1001 Jaarrekening 2026.pdf", PDF + b"% a\n"),
                       ("1002 Jaarrekening 2026.pdf", PDF + b"% b\n"),
                       ("7777 Onbekend.pdf", PDF + b"% c\n")):
        path = tmp_path / name
        path.write_bytes(body)
        folder.append(str(path))

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/engagements"))
    page.get_by_role("link", name="Reports in bulk").click()
    page.get_by_label("Reports (PDF)").set_input_files(folder)
    page.get_by_label("Year").fill("2026")
    accessible(page)
    page.get_by_role("button", name="Match the files").click()

    expect(page.get_by_text("No client has number 7777.")).to_be_visible()
    accessible(page)
    page.get_by_label("Approve before").fill((clock.today() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Store 2 reports").click()
    expect(page.get_by_text("2 reports stored, 2 shared.")).to_be_visible()
    with app.app_context():
        assert len(portal_db.session.scalars(select(Share)).all()) == 2
