"""Engagements for many clients in Chromium, JavaScript on and off: ticked on the clients
overview, previewed with what is skipped, confirmed, and there on the engagements overview."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import db as portal_db
from portal.clients import tiers
from portal.clock import AMSTERDAM
from portal.engagements.models import Engagement
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def _annual_accounts_2025(app) -> list[tuple[str, date | None]]:  # type: ignore[no-untyped-def]
    from portal.clients.models import Client

    with app.app_context():
        return sorted(portal_db.session.execute(
            select(Client.name, Engagement.deadline)
            .join(Client, Client.id == Engagement.client_id)
            .where(Engagement.kind == "annual_accounts", Engagement.year == 2025)).tuples())


def test_ticked_clients_get_the_annual_accounts_except_who_has_them(
        frozen_clock, app, live, page, accessible):
    frozen_clock.at(datetime(2026, 3, 10, 12, 0, tzinfo=AMSTERDAM))
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser")
    make.staff(practice, "anna@demo.example", role="staff", name="Anna de Vries")
    make.client(practice, tiers.STANDARD, name="Bakker Noord")
    south = make.client(practice, tiers.STANDARD, name="Bakker Zuid")
    make.engagement(south, kind="annual_accounts", year=2025)
    make.client(practice, tiers.STANDARD, name="Slager")

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/clients?q=Bakker"))
    page.get_by_role("checkbox", name="Bakker Noord").check()
    page.get_by_role("checkbox", name="Bakker Zuid").check()
    page.get_by_role("button", name="Create an engagement for each").click()

    expect(page.get_by_text("The 2 clients you ticked on the clients overview.")).to_be_visible()
    expect(page.get_by_label("Year", exact=True)).to_have_value("2025")
    accessible(page)
    page.get_by_label("Months after the year's end", exact=True).fill("5")
    page.get_by_label("Staff member", exact=True).select_option(label="Anna de Vries")
    page.get_by_role("button", name="Review").click()

    expect(page.get_by_role(
        "heading", name="Create Annual accounts 2025 for 1 client?")).to_be_visible()
    expect(page.get_by_text("May 31, 2026 (5 months after the year's end)")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Bakker Noord")).to_be_visible()
    assert _annual_accounts_2025(app) == [("Bakker Zuid", None)]  # nothing yet
    accessible(page)

    page.get_by_role("button", name="Create 1 engagement").click()
    expect(page.get_by_text("1 engagement created, 1 skipped.")).to_be_visible()
    assert "/office/engagements?kind=annual_accounts&year=2025" in page.url
    expect(page.get_by_role("row").filter(has_text="Bakker Noord")).to_contain_text(
        "Anna de Vries")
    assert _annual_accounts_2025(app) == [("Bakker Noord", date(2026, 5, 31)),
                                          ("Bakker Zuid", None)]


def test_a_past_date_is_said_by_the_field_and_kept(frozen_clock, app, live, page):
    frozen_clock.at(datetime(2026, 3, 10, 12, 0, tzinfo=AMSTERDAM))
    make = Factory(app)
    practice = make.practice("demo")
    make.staff(practice, "anna@demo.example")
    make.client(practice, name="Bakker Noord")

    page.goto(live.url("/office/login"))
    page.get_by_label("E-mail address").fill("anna@demo.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/office/engagements"))
    page.get_by_role("link", name="Engagements for many clients").click()
    page.get_by_label("On a date").check()
    page.get_by_label("Deadline date").fill("2026-03-01")
    page.get_by_role("button", name="Review").click()

    expect(page.get_by_text("Choose a deadline after today.")).to_be_visible()
    expect(page.get_by_label("Deadline date")).to_have_value("2026-03-01")
    expect(page.get_by_label("On a date")).to_be_checked()
    assert _annual_accounts_2025(app) == []
