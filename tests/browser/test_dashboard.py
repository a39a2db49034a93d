"""The dashboard end to end in Chromium, with JavaScript on and off: staff import a trial
balance (mapping an account on the way), choose what the client sees, and the business owner
reads the year on a phone, numbers and all; the client's own CSV on the insights page."""

from __future__ import annotations

import pytest

from portal.clients import tiers
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

TRIAL_BALANCE = (
    "Rekening;Omschrijving;Debet;Credit;RGS-code\r\n"
    "0100;Inventaris;20.000,00;;BMvaBei\r\n"
    "1300;Debiteuren;15.000,00;;BVorDeb\r\n"
    "1100;ING zakelijk;25.000,00;;BLimBan\r\n"
    "0500;Eigen vermogen;;30.000,00;BEivOvr\r\n"
    "1600;Crediteuren;;12.000,00;BSchCre\r\n"
    "8000;Omzet;;100.000,00;WOmzNod\r\n"
    "7000;Inkopen;40.000,00;;WKprInh\r\n"
    "4000;Lonen;30.000,00;;WPerLes\r\n"
    "4100;Huur;12.000,00;;\r\n"
)
TILL = "Datum;Omzet\r\n" + "".join(
    f"{day:02d}-{month:02d}-2025;{100 * month + day},50\r\n"
    for month in range(1, 7) for day in (1, 15))


def _world(app):  # type: ignore[no-untyped-def]
    make = Factory(app)
    practice = make.practice("demo", name="Bakker & Visser", brand_color="#1d4f7a")
    make.staff(practice, "anna@demo.example", name="Anna Bakker", role="admin")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example",
                             name="Sanne de Boer")
    engagement = make.engagement(company)
    make.share(make.report(engagement), company, sanne, mode="view")
    return {"engagement": engagement, "company": company}


def _sign_in(page, live, path: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_import_and_share_and_the_owner_reads_the_year_on_a_phone(
        app, live, page, tab, tmp_path, accessible):
    world = _world(app)
    engagement = world["engagement"]
    _sign_in(page, live, "/office/login", "anna@demo.example")
    page.goto(live.url(f"/office/engagements/{engagement.id}"))
    page.get_by_role("link", name="Import a trial balance").first.click()
    csv = tmp_path / "proefbalans 2025.csv"
    csv.write_text(TRIAL_BALANCE, encoding="utf-8")
    page.get_by_label("Trial balance (CSV)").set_input_files(str(csv))
    page.get_by_role("button", name="Upload and check").click()

    page.get_by_text("1 account has no RGS code yet").wait_for()
    accessible(page)
    page.get_by_label("RGS code for account 4100").select_option("WBedHui")
    page.get_by_role("button", name="Apply and check again").click()
    page.get_by_role("button", name="Save the figures").click()
    page.get_by_text("The trial balance of 2025 is imported: 9 lines.").wait_for()

    page.get_by_role("link", name="Open the dashboard").click()
    page.get_by_role("heading", name="Costs by category").wait_for()
    for block in ("Revenue and gross margin", "Result", "Ratios"):
        page.get_by_role("checkbox", name=block).check()
    page.get_by_role("button", name="Save what the client sees").click()
    page.get_by_text("The client sees 3 blocks of the dashboard with the report.").wait_for()
    accessible(page)

    phone = tab(viewport={"width": 360, "height": 740})
    _sign_in(phone, live, "/login", "sanne@korst.example")
    phone.get_by_role("link", name="History").click()
    phone.get_by_role("link", name="Dashboard: the year in charts").click()
    headings = phone.get_by_role("heading", level=2).all_inner_texts()
    assert headings[:3] == ["Revenue and gross margin", "Result", "Ratios"]
    assert "Costs by category" not in headings
    # Nothing is wider than the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    chart = phone.get_by_role("img", name="Revenue and gross margin")
    assert chart.is_visible()
    phone.locator("summary", has_text="Show the numbers").first.click()
    phone.get_by_role("cell", name="€100,000").first.wait_for()
    accessible(phone)


def test_the_client_uploads_a_till_csv_and_sees_it_on_insights(app, live, page, tmp_path,
                                                                accessible):
    world = _world(app)
    from portal import db
    from portal.db import transaction
    from portal.insights.models import SharedBlocks

    with app.app_context(), transaction(db.session) as session:
        session.add(SharedBlocks(practice_id=world["company"].practice_id,
                                 client_id=world["company"].id, scope="insights",
                                 blocks=["monthly", "trends"]))
    _sign_in(page, live, "/login", "sanne@korst.example")
    page.get_by_role("link", name="Insights").click()
    page.get_by_role("link", name="Upload your own figures (CSV)").click()
    till = tmp_path / "kassa.csv"
    till.write_text(TILL, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(till))
    page.get_by_role("button", name="Upload and check").click()

    page.get_by_label("Add these figures to").select_option("new")
    page.get_by_label("Name of the new series").fill("Kassa")
    page.get_by_role("button", name="Show what will be saved").click()
    page.get_by_text("6 months from 12 rows").wait_for()
    accessible(page)
    page.get_by_role("button", name="Save these figures").click()
    page.get_by_text("Your figures are saved: 6 months.").wait_for()

    page.get_by_label("From", exact=True).select_option("2025")
    if not page.javascript:
        page.get_by_role("button", name="Show").click()
    # htmx pushes the address once the swap is done (no load event: so not wait_for_url)
    page.wait_for_function("() => location.search.includes('first=2025')")
    page.get_by_role("img", name="Revenue per month").wait_for()
    assert page.get_by_text("Kassa (Revenue): your own CSV files").is_visible()
    accessible(page)
