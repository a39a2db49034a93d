"""Key figures, trial balances, the client's CSVs, the dashboard and client insights,
through the pages staff and clients use."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.clients import tiers
from portal.insights.models import (
    AccountMapping,
    Figure,
    FigureImport,
    PendingImport,
    Series,
    SharedBlocks,
)

D = Decimal

# A small trial balance of 2025 in a Dutch export: hand-computed, revenue 100.000, cost of
# sales 40.000, wages 30.000, rent 12.000 (so a result of 18.000), fixed assets 20.000,
# receivables 15.000, bank 25.000, equity 30.000 (before the result), debts 12.000.
TRIAL_BALANCE_2025 = (
    b"Rekening;Omschrijving;Debet;Credit;RGS-code\r\n"
    b"0100;Inventaris;20.000,00;;BMvaBei\r\n"
    b"1300;Debiteuren;15.000,00;;BVorDeb\r\n"
    b"1100;ING zakelijk;25.000,00;;BLimBan\r\n"
    b"0500;Eigen vermogen;;30.000,00;BEivOvr\r\n"
    b"1600;Crediteuren;;12.000,00;BSchCre\r\n"
    b"8000;Omzet;;100.000,00;WOmzNod\r\n"
    b"7000;Inkopen;40.000,00;;WKprInh\r\n"
    b"4000;Lonen;30.000,00;;WPerLes\r\n"
    b"4100;Huur;12.000,00;;WBedHui\r\n"
)


@pytest.fixture
def world(make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo", name="Bakker & Visser")
    anna = make.staff(practice, "anna@demo.example", role="admin", name="Anna")
    plus = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    sanne = make.client_user(practice, plus, email="sanne@korst.example", name="Sanne")
    engagement = make.engagement(plus, year=2025)
    return {"practice": practice, "anna": anna, "plus": plus, "sanne": sanne,
            "engagement": engagement}


@pytest.fixture
def office(client, world):  # type: ignore[no-untyped-def]
    client.login_staff(world["anna"].email)
    return client


def _page(engagement) -> str:  # type: ignore[no-untyped-def]
    return f"/office/engagements/{engagement.id}"


def _upload_trial_balance(office, engagement, data=TRIAL_BALANCE_2025, period="2025",  # type: ignore[no-untyped-def]
                          name="proefbalans 2025.csv"):
    page = _page(engagement) + "/trial-balance"
    return office.submit(page, {"period": period, "upload": (io.BytesIO(data), name)},
                         page=page, content_type="multipart/form-data")


def _preview_path(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def _save_trial_balance(office, preview, mapping=None, action="save"):  # type: ignore[no-untyped-def]
    data = {"action": action, "account": list((mapping or {}).keys()),
            "code": list((mapping or {}).values())}
    return office.submit(preview, data, page=preview)


def _import(office, engagement, data=TRIAL_BALANCE_2025, period="2025"):  # type: ignore[no-untyped-def]
    preview = _preview_path(_upload_trial_balance(office, engagement, data, period))
    response = _save_trial_balance(office, preview)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return response


def _figures(db, client_id, year, month=None):  # type: ignore[no-untyped-def]
    with db() as s:
        return {code: amount for code, amount in s.execute(
            select(Figure.code, func.sum(Figure.amount)).where(
                Figure.client_id == client_id, Figure.year == year,
                Figure.month.is_(None) if month is None else Figure.month == month)
            .group_by(Figure.code))}


# --- the trial balance ----------------------------------------------------------------------

def test_a_trial_balance_is_previewed_then_saved_with_its_source(office, world, db):
    engagement = world["engagement"]
    preview = _preview_path(_upload_trial_balance(office, engagement))
    page = office.get(preview).get_data(as_text=True)
    assert "proefbalans 2025.csv" in page and "What will be saved" in page
    assert "€100,000" in page and "€18,000" in page  # revenue and net result, English page
    with db() as s:  # nothing saved by looking
        assert s.scalar(select(func.count()).select_from(Figure)) == 0
    _save_trial_balance(office, preview)
    figures = _figures(db, world["plus"].id, 2025)
    assert figures["WOmzNod"] == D("-100000.00") and figures["BLimBan"] == D("25000.00")
    with db() as s:
        record = s.scalar(select(FigureImport))
        assert (record.source, record.slot, record.filename, record.lines) == (
            "trial_balance", "year:2025", "proefbalans 2025.csv", 9)
        assert record.created_by == "anna@demo.example"
        assert s.scalar(select(func.count()).select_from(PendingImport)) == 0


def _share_report(make, engagement, client, *signers, mode="approval"):  # type: ignore[no-untyped-def]
    return make.share(make.report(engagement), client, *signers, mode=mode)


def _share_blocks(office, engagement, *blocks):  # type: ignore[no-untyped-def]
    page = _page(engagement) + "/dashboard"
    response = office.submit(page, {"blocks": list(blocks)}, page=page)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def _block_titles(html: str) -> list[str]:
    return re.findall(r'<h2 id="block-[a-z_]+-title">([^<]+)</h2>', html)


def test_the_staff_dashboard_shows_every_block_and_its_charts_are_valid_svg(office, world):
    _import(office, world["engagement"])
    response = office.get(_page(world["engagement"]) + "/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert _block_titles(html) == ["Revenue and gross margin", "Costs by category", "Result",
                                   "Balance sheet", "This year against last year", "Ratios"]
    figures = re.findall(r'<figure class="chart-figure.*?</figure>', html, re.S)
    assert len(figures) == 4  # revenue, costs, result, balance (no last year to compare)
    for figure in figures:
        root = ET.fromstring(figure)  # noqa: S314 (our own markup): valid XML, or it raises
        svg = root.find("{http://www.w3.org/2000/svg}svg")
        assert svg.get("role") == "img" and svg.find("{http://www.w3.org/2000/svg}title").text
        table = root.find("details/div/table")
        assert table is not None and table.find("tbody/tr/td") is not None
    assert "style=" not in html.split("<main", 1)[1]


def test_unmapped_accounts_are_mapped_once_and_remembered_for_the_client(office, world, db):
    engagement = world["engagement"]
    without_codes = TRIAL_BALANCE_2025.replace(b";WOmzNod", b";").replace(b";WBedHui", b";")
    preview = _preview_path(_upload_trial_balance(office, engagement, without_codes))
    page = office.get(preview).get_data(as_text=True)
    assert "2 accounts have no RGS code yet" in page
    assert "What will be saved" not in page
    refused = _save_trial_balance(office, preview)
    assert refused.status_code == 422
    assert _figures(db, world["plus"].id, 2025) == {}

    checked = _save_trial_balance(office, preview, {"8000": "WOmzNod", "4100": "WBedHui"},
                                  action="check")
    assert checked.status_code == 303
    page = office.get(preview).get_data(as_text=True)
    assert "have no RGS code yet" not in page and "What will be saved" in page
    with db() as s:  # chosen, but not remembered before the import is saved
        assert s.scalar(select(func.count()).select_from(AccountMapping)) == 0
    assert _save_trial_balance(office, preview).status_code == 303
    with db() as s:
        assert dict(s.execute(select(AccountMapping.account, AccountMapping.code)).all()) == {
            "8000": "WOmzNod", "4100": "WBedHui"}

    # Next year's file needs no mapping for those accounts.
    again = _preview_path(_upload_trial_balance(office, engagement, without_codes, "2024"))
    assert "no RGS code yet" not in office.get(again).get_data(as_text=True)


def test_an_unknown_rgs_code_is_refused_with_its_line(office, world, db):
    data = TRIAL_BALANCE_2025.replace(b"WBedHui", b"XYZ")
    preview = _preview_path(_upload_trial_balance(office, world["engagement"], data))
    page = office.get(preview).get_data(as_text=True)
    assert "Line 10:" in page and "“XYZ” is not an RGS code this portal knows" in page
    assert _save_trial_balance(office, preview).status_code == 422
    assert _figures(db, world["plus"].id, 2025) == {}


def test_an_unbalanced_trial_balance_is_refused_with_its_difference(office, world, db):
    data = TRIAL_BALANCE_2025.replace(b"12.000,00;;WBedHui", b"13.250,50;;WBedHui")
    preview = _preview_path(_upload_trial_balance(office, world["engagement"], data))
    page = office.get(preview).get_data(as_text=True)
    assert "does not balance" in page and "a difference of 1.250,50" in page
    assert "What will be saved" not in page
    response = _save_trial_balance(office, preview)
    assert response.status_code == 422 and "does not balance" in response.get_data(
        as_text=True)
    assert _figures(db, world["plus"].id, 2025) == {}


def test_a_bad_amount_is_refused_per_line_and_nothing_is_saved(office, world, db):
    data = TRIAL_BALANCE_2025.replace(b"15.000,00", b"15.00,00").replace(b"25.000,00",
                                                                         b"vijftig")
    preview = _preview_path(_upload_trial_balance(office, world["engagement"], data))
    page = office.get(preview).get_data(as_text=True)
    assert "Line 3:" in page and "Account 1300:" in page
    assert "Line 4:" in page and "“vijftig” is not an amount" in page
    assert _save_trial_balance(office, preview).status_code == 422
    assert _figures(db, world["plus"].id, 2025) == {}


def test_an_english_trial_balance_is_read_as_well(office, world, db):
    english = (
        b"Account,Description,Balance,RGS code\r\n"
        b'1100,Bank,"1,234.56",BLimBan\r\n'
        b'8000,Sales,"-1,234.56",WOmzNod\r\n')
    _import(office, world["engagement"], english)
    assert _figures(db, world["plus"].id, 2025) == {"BLimBan": D("1234.56"),
                                                    "WOmzNod": D("-1234.56")}


def test_importing_the_same_period_again_replaces_it(office, world, db):
    _import(office, world["engagement"])
    smaller = TRIAL_BALANCE_2025.replace(b"12.000,00;;WBedHui", b"2.000,00;;WBedHui").replace(
        b"0500;Eigen vermogen;;30.000,00", b"0500;Eigen vermogen;;20.000,00")
    _import(office, world["engagement"], smaller)
    figures = _figures(db, world["plus"].id, 2025)
    assert figures["WBedHui"] == D("2000.00") and figures["WOmzNod"] == D("-100000.00")
    with db() as s:
        assert s.scalar(select(func.count()).select_from(FigureImport)) == 1


def test_a_month_is_imported_beside_the_year_without_touching_it(office, world, db):
    _import(office, world["engagement"])
    march = TRIAL_BALANCE_2025.replace(b"100.000,00", b"9.000,00").replace(
        b"40.000,00;;WKprInh", b"3.000,00;;WKprInh").replace(
        b"30.000,00;;WPerLes", b"2.000,00;;WPerLes").replace(
        b"12.000,00;;WBedHui", b"1.000,00;;WBedHui").replace(
        b"0500;Eigen vermogen;;30.000,00", b"0500;Eigen vermogen;;45.000,00")
    _import(office, world["engagement"], march, period="2025-03")
    assert _figures(db, world["plus"].id, 2025, month=3)["WOmzNod"] == D("-9000.00")
    assert _figures(db, world["plus"].id, 2025)["WOmzNod"] == D("-100000.00")


def test_an_upload_of_one_colleague_cannot_be_continued_by_another(office, world, make, app):
    preview = _preview_path(_upload_trial_balance(office, world["engagement"]))
    colleague = make.staff(world["practice"], "joost@demo.example")
    other = app.test_client()
    other.login_staff(colleague.email)
    assert other.get(preview).status_code == 404


def test_a_file_that_is_not_csv_is_refused_on_upload(office, world):
    response = _upload_trial_balance(office, world["engagement"], b"PK\x03\x04\x00\x00xlsx",
                                     name="balans.xlsx")
    assert response.status_code == 422
    assert "This is not a CSV file" in response.get_data(as_text=True)


# --- typed key figures ----------------------------------------------------------------------

KEY_FIGURES = {  # 2025 as in TRIAL_BALANCE_2025, typed as the annual accounts show them
    "line_WOmz": "100,000.00", "line_WKpr": "40.000,00", "line_WPer": "30000",
    "line_WBedHui": "12,000", "line_BMva": "20000", "line_BVorDeb": "15000",
    "line_BLim": "25000", "line_BEiv": "48000", "line_BSchCre": "12000",
}


def _type_figures(office, engagement, values, action, year=2025):  # type: ignore[no-untyped-def]
    page = _page(engagement) + f"/figures?year={year}"
    return office.submit(_page(engagement) + "/figures",
                         {"year": str(year), "action": action, **values}, page=page)


def test_typed_key_figures_are_checked_then_saved_in_both_number_formats(office, world, db):
    engagement = world["engagement"]
    preview = _type_figures(office, engagement, KEY_FIGURES, "preview")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "The balance sheet balances" in page
    assert "€60,000" in page  # gross margin
    assert _figures(db, world["plus"].id, 2025) == {}
    assert _type_figures(office, engagement, KEY_FIGURES, "save").status_code == 303
    figures = _figures(db, world["plus"].id, 2025)
    # Equity is typed with the result in it (48.000 = 30.000 + 18.000): its own code holds
    # the 30.000 of the trial balance, the result stays in the profit and loss codes.
    assert figures["BEiv"] == D("-30000.00") and figures["WOmz"] == D("-100000.00")
    assert figures["WKpr"] == D("40000.00") and figures["WBedHui"] == D("12000.00")
    with db() as s:
        assert s.scalar(select(FigureImport.source)) == "staff_form"


def test_the_form_starts_from_the_figures_already_there(office, world):
    _import(office, world["engagement"])
    page = office.get(_page(world["engagement"]) + "/figures").get_data(as_text=True)
    assert re.search(r'name="line_BEiv"[^>]*value="48,000.00"', page)
    assert re.search(r'name="line_WOmz"[^>]*value="100,000.00"', page)
    assert "Saving this form replaces them" in page


def test_a_typed_amount_that_is_not_one_is_refused_beside_its_field(office, world, db):
    response = _type_figures(office, world["engagement"],
                             {**KEY_FIGURES, "line_WPer": "30.000,0,0"}, "save")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="line_WPer-error">[^<]*30.000,0,0', page)
    assert 'value="30.000,0,0"' in page  # what was typed stays
    assert _figures(db, world["plus"].id, 2025) == {}


def test_typed_figures_that_do_not_balance_are_refused_with_the_difference(office, world, db):
    response = _type_figures(office, world["engagement"],
                             {**KEY_FIGURES, "line_BLim": "25500"}, "save")
    assert response.status_code == 422
    assert "a difference of €500.00" in response.get_data(as_text=True)
    assert _figures(db, world["plus"].id, 2025) == {}


def test_dutch_staff_type_dutch_amounts(client, make, world, db):
    henk = make.staff(world["practice"], "henk@demo.example", locale="nl")
    client.login_staff(henk.email)
    values = {**KEY_FIGURES, "line_WOmz": "100.000", "line_WKpr": "40.000"}  # 1.234 = 1234
    assert _type_figures(client, world["engagement"], values, "save").status_code == 303
    assert _figures(db, world["plus"].id, 2025)["WOmz"] == D("-100000.00")


# --- what the client sees -------------------------------------------------------------------

def test_the_client_sees_exactly_the_blocks_staff_shared(office, world, make, app):
    engagement = world["engagement"]
    _import(office, engagement)
    _share_report(make, engagement, world["plus"], world["sanne"])
    _share_blocks(office, engagement, "revenue", "ratios")
    portal = app.test_client()
    portal.login_client(world["sanne"].email)
    response = portal.get(f"/c/{world['plus'].id}/dashboard/{engagement.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _block_titles(html) == ["Revenue and gross margin", "Ratios"]
    assert "Current ratio" in html and "how many days customers take to pay" in html
    with app.app_context():
        from portal import db as portal_db

        assert portal_db.session.scalar(select(SharedBlocks.blocks)) == ["revenue", "ratios"]
    _share_blocks(office, engagement)  # nothing shared any more
    assert portal.get(f"/c/{world['plus'].id}/dashboard/{engagement.id}").status_code == 404


def test_without_a_shared_report_the_client_sees_no_dashboard(office, world, app):
    engagement = world["engagement"]
    _import(office, engagement)
    _share_blocks(office, engagement, "revenue")
    portal = app.test_client()
    portal.login_client(world["sanne"].email)
    assert portal.get(f"/c/{world['plus'].id}/dashboard/{engagement.id}").status_code == 404
    history = portal.get(f"/c/{world['plus'].id}/history").get_data(as_text=True)
    assert "Dashboard: the year in charts" not in history


def test_history_and_the_portal_task_link_to_the_shared_dashboard(office, world, make, app):
    engagement = world["engagement"]
    _import(office, engagement)
    share = _share_report(make, engagement, world["plus"], world["sanne"])
    _share_blocks(office, engagement, "result")
    portal = app.test_client()
    portal.login_client(world["sanne"].email)
    url = f"/c/{world['plus'].id}/dashboard/{engagement.id}"
    assert url in portal.get(f"/c/{world['plus'].id}/history").get_data(as_text=True)
    task = portal.get(f"/c/{world['plus'].id}/approvals/{share.id}").get_data(as_text=True)
    assert url in task


def test_a_client_of_another_company_or_practice_gets_404(office, world, make, app):
    engagement = world["engagement"]
    _import(office, engagement)
    _share_report(make, engagement, world["plus"], world["sanne"])
    _share_blocks(office, engagement, "revenue")
    neighbour = make.client(world["practice"], tiers.COLLABORATE_PLUS, name="Buurman B.V.")
    stranger = make.client_user(world["practice"], neighbour, email="buur@buurman.example")
    browser = app.test_client()
    browser.login_client(stranger.email)
    assert browser.get(f"/c/{world['plus'].id}/dashboard/{engagement.id}").status_code == 404
    assert browser.get(f"/c/{neighbour.id}/dashboard/{engagement.id}").status_code == 404
    assert browser.get(f"/c/{world['plus'].id}/insights").status_code == 404

    other = make.practice("other")
    outsider_company = make.client(other, tiers.COLLABORATE_PLUS)
    outsider = make.client_user(other, outsider_company, email="x@other.example")
    elsewhere = app.test_client().on("other.localhost")
    elsewhere.login_client(outsider.email)
    assert elsewhere.get(f"/c/{world['plus'].id}/dashboard/{engagement.id}").status_code == 404
    assert elsewhere.get(f"/office/engagements/{engagement.id}/dashboard").status_code in (
        302, 404)


def test_a_collaborate_client_sees_the_dashboard_through_the_links_grant(office, world, make,
                                                                         app, db):
    company = make.client(world["practice"], tiers.COLLABORATE, name="Fietsen Jansen")
    engagement = make.engagement(company, year=2025)
    _import(office, engagement)
    _share_blocks(office, engagement, "revenue", "balance")
    share = _share_report(make, engagement, company, "piet@jansen.example")
    from portal.engagements.models import Signer

    with db() as s:
        signer = s.scalar(select(Signer).where(Signer.share_id == share.id))
    token = make.link(world["practice"], "approval", signer.email,
                      ("share_signers", signer.id))
    holder = app.test_client()
    assert holder.get(f"/task/{signer.id}/dashboard").status_code == 403  # no grant yet
    opened = holder.submit(f"/l/{token}", page=f"/l/{token}")
    assert opened.status_code == 303
    task = holder.get(opened.headers["Location"]).get_data(as_text=True)
    assert f"/task/{signer.id}/dashboard" in task
    html = holder.get(f"/task/{signer.id}/dashboard").get_data(as_text=True)
    assert _block_titles(html) == ["Revenue and gross margin", "Balance sheet"]
    with db() as s:  # once the task is decided the link shows nothing any more
        s.get(type(share), share.id).state = "approved"
        s.commit()
    assert holder.get(f"/task/{signer.id}/dashboard").status_code == 404


def test_a_standard_client_gets_no_shared_dashboard(office, world, make):
    company = make.client(world["practice"], tiers.STANDARD, name="Kapsalon")
    engagement = make.engagement(company, year=2025)
    page = _page(engagement) + "/dashboard"
    assert "is on Standard" in office.get(page).get_data(as_text=True)
    response = office.submit(page, {"blocks": ["revenue"]}, page=page)
    assert response.status_code == 422


def test_the_engagement_page_has_the_figures_section(office, world):
    _import(office, world["engagement"])
    page = office.get(_page(world["engagement"])).get_data(as_text=True)
    assert "Figures and dashboard" in page and "from the trial balance of" in page
    assert f"/office/engagements/{world['engagement'].id}/dashboard" in page


def test_the_dashboard_compares_with_last_year(office, world, make, db):
    engagement = world["engagement"]
    _import(office, engagement)
    last_year = TRIAL_BALANCE_2025.replace(b"100.000,00", b"80.000,00").replace(
        b"0500;Eigen vermogen;;30.000,00", b"0500;Eigen vermogen;;50.000,00")
    _import(office, engagement, last_year, period="2024")
    html = office.get(_page(engagement) + "/dashboard").get_data(as_text=True)
    assert "2025 against 2024" in html
    # Revenue 80.000 -> 100.000: +20.000, or 25%.
    assert "+€20,000" in html and "25.0%" in html



# --- the client's own figures ---------------------------------------------------------------

TILL_CSV = (
    b"Kassa-export De Korst\r\n"
    b"Datum;Omschrijving;Bedrag incl.;Omzet\r\n"
    b"02-01-2025;dag;1.000,00;826,45\r\n"
    b"03-01-2025;dag;1.210,00;1.000,00\r\n"
    b"03-02-2025;dag;605,00;500,00\r\n"
    b"maart 2025;maand;2.420,00;2.000,00\r\n"
)


@pytest.fixture
def portal(app, world):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    browser.login_client(world["sanne"].email)
    return browser


def _upload_series(portal, world, data=TILL_CSV, name="kassa.csv"):  # type: ignore[no-untyped-def]
    page = f"/c/{world['plus'].id}/insights/upload"
    response = portal.submit(page, {"upload": (io.BytesIO(data), name)}, page=page,
                             content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def _map_series(portal, preview, action="preview", **values):  # type: ignore[no-untyped-def]
    fields = {"date_column": "Datum", "amount_column": "Omzet", "series": "new",
              "name": "Kassa", "kind": "revenue", "action": action, **values}
    return portal.submit(preview, fields, page=preview)


def _series_figures(db, name):  # type: ignore[no-untyped-def]
    with db() as s:
        return {(y, m): a for y, m, a in s.execute(
            select(Figure.year, Figure.month, Figure.amount).join(
                Series, Series.id == Figure.series_id).where(Series.name == name))}


def test_the_client_maps_the_columns_previews_and_saves_its_till_figures(portal, world, db):
    preview = _upload_series(portal, world)
    page = portal.get(preview).get_data(as_text=True)
    assert "Bedrag incl." in page and "02-01-2025" in page  # the columns and first rows
    assert re.search(r'<option selected value="Datum">|<option value="Datum" selected>', page)
    shown = _map_series(portal, preview)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "3 months from 4 rows" in html
    assert "€1,826.45" in html and "€2,000.00" in html
    assert _series_figures(db, "Kassa") == {}
    saved = _map_series(portal, preview, action="save")
    assert saved.status_code == 303
    assert _series_figures(db, "Kassa") == {(2025, 1): D("1826.45"), (2025, 2): D("500.00"),
                                             (2025, 3): D("2000.00")}
    with db() as s:
        record = s.scalar(select(FigureImport))
        assert (record.source, record.filename, record.created_by) == (
            "client_csv", "kassa.csv", "sanne@korst.example")


def test_a_new_file_replaces_the_months_it_covers_and_keeps_the_others(portal, world, db):
    _map_series(portal, _upload_series(portal, world), action="save")
    again = (
        b"Datum;Omzet\r\n"
        b"15-03-2025;2.500,00\r\n"
        b"15-04-2025;3.000,00\r\n")
    preview = _upload_series(portal, world, again, "kassa-2.csv")
    with db() as s:
        series_id = s.scalar(select(Series.id))
    assert _map_series(portal, preview, action="save", series=str(series_id),
                       name="").status_code == 303
    assert _series_figures(db, "Kassa") == {(2025, 1): D("1826.45"), (2025, 2): D("500.00"),
                                             (2025, 3): D("2500.00"), (2025, 4): D("3000.00")}
    with db() as s:
        assert s.scalar(select(func.count()).select_from(FigureImport)) == 2
        assert s.scalar(select(func.count()).select_from(Series)) == 1


def test_rows_that_cannot_be_read_are_listed_and_nothing_is_saved(portal, world, db):
    bad = TILL_CSV.replace(b"03-02-2025", b"31-02-2025").replace(b";500,00", b";vijf")
    preview = _upload_series(portal, world, bad)
    response = _map_series(portal, preview, action="save")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 5:" in html and "is not a date" in html
    assert "Save these figures" not in html
    assert _series_figures(db, "Kassa") == {}


def test_a_new_series_needs_a_name(portal, world, db):
    preview = _upload_series(portal, world)
    response = _map_series(portal, preview, action="save", name="  ")
    assert response.status_code == 422
    assert "Give the new series a name." in response.get_data(as_text=True)


def test_the_client_sees_the_insight_blocks_staff_shared_and_filters_the_years(
        office, portal, world, db):
    _import(office, world["engagement"])
    last_year = TRIAL_BALANCE_2025.replace(b"100.000,00", b"80.000,00").replace(
        b"0500;Eigen vermogen;;30.000,00", b"0500;Eigen vermogen;;50.000,00")
    _import(office, world["engagement"], last_year, period="2024")
    _map_series(portal, _upload_series(portal, world), action="save")
    insights = f"/c/{world['plus'].id}/insights"
    assert "has not shared insights with you yet" in portal.get(insights).get_data(
        as_text=True)

    staff_page = f"/office/clients/{world['plus'].id}/insights"
    assert office.submit(staff_page, {"blocks": ["trends", "monthly"]},
                         page=staff_page).status_code == 303
    html = portal.get(insights).get_data(as_text=True)
    titles = re.findall(r'<h2 id="insight-[a-z_]+-title">([^<]+)</h2>', html)
    assert titles == ["Trends over the years", "Month by month"]
    assert "Kassa (Revenue): your own CSV files" in html  # the source of the series, named
    assert "Revenue per month" in html
    for figure in re.findall(r'<figure class="chart-figure.*?</figure>', html, re.S):
        ET.fromstring(figure)  # noqa: S314 (our own markup)

    only_2025 = portal.get(insights + "?first=2025&last=2025",
                           headers={"HX-Request": "true", "HX-Target": "div#insights_results"})
    fragment = only_2025.get_data(as_text=True)
    assert only_2025.status_code == 200 and fragment.lstrip().startswith(
        '<div id="insights_results">')
    assert "Showing 2025 to 2025" in fragment and ">2024<" not in fragment.split(
        "Revenue per month")[0]


def test_insights_are_only_for_collaborate_extended(office, world, make):
    company = make.client(world["practice"], tiers.COLLABORATE, name="Fietsen Jansen")
    page = office.get(f"/office/clients/{company.id}/insights").get_data(as_text=True)
    assert "Client insights are part of Collaborate Extended" in page
    response = office.submit(f"/office/clients/{company.id}/insights", {"blocks": ["trends"]},
                             page=f"/office/clients/{company.id}/insights")
    assert response.status_code == 422


def test_the_portal_nav_and_the_client_card_link_to_insights(office, portal, world):
    assert f"/c/{world['plus'].id}/insights" in portal.get(
        f"/c/{world['plus'].id}/").get_data(as_text=True)
    assert f"/office/clients/{world['plus'].id}/insights" in office.get(
        f"/office/clients/{world['plus'].id}").get_data(as_text=True)


# --- a fixed number of queries, whatever the amount of data ---------------------------------

def _many_years(app, client, engagement, years):  # type: ignore[no-untyped-def]
    """Figures for a number of years: a year's trial balance and twelve monthly ones."""
    from portal import db as portal_db
    from portal.db import transaction
    from portal.insights.demo import ACCOUNTS, PROFILES, trial_balance

    with app.app_context(), transaction(portal_db.session) as session:
        for n, year in enumerate(range(engagement.year - years + 1, engagement.year + 1)):
            for month in (None, *range(1, 13)):
                record = FigureImport(practice_id=client.practice_id, client_id=client.id,
                                      source="trial_balance", year=year, month=month,
                                      slot=f"{year}-{month}", lines=0, created_by="bench")
                session.add(record)
                session.flush()
                session.add_all(Figure(import_id=record.id, client_id=client.id, year=year,
                                       month=month, code=ACCOUNTS[k][2], account=ACCOUNTS[k][0],
                                       amount=v)
                                for k, v in trial_balance(PROFILES[0], n % 3).items())


def test_the_dashboard_and_insights_cost_the_same_queries_for_more_data(
        office, portal, world, make, app, count_queries):
    engagement = world["engagement"]
    _share_report(make, engagement, world["plus"], world["sanne"])
    _share_blocks(office, engagement, *["revenue", "costs", "result", "balance", "comparison",
                                        "ratios"])
    staff_page = f"/office/clients/{world['plus'].id}/insights"
    office.submit(staff_page, {"blocks": ["trends", "monthly", "balance_trend", "ratios"]},
                  page=staff_page)
    pages = [(office, _page(engagement) + "/dashboard"),
             (portal, f"/c/{world['plus'].id}/dashboard/{engagement.id}"),
             (portal, f"/c/{world['plus'].id}/insights?first=2016&last=2025"),
             (office, staff_page + "?first=2016&last=2025")]
    _many_years(app, world["plus"], engagement, 2)
    small = [count_queries(lambda b=b, p=p: b.get(p)) for b, p in pages]
    _many_years(app, make.client(world["practice"]), engagement, 1)  # another client's data
    _many_years(app, world["plus"], make.engagement(world["plus"], year=2023), 8)
    large = [count_queries(lambda b=b, p=p: b.get(p)) for b, p in pages]
    assert all(r.status_code == 200 for r, _n in small + large)
    assert [n for _r, n in small] == [n for _r, n in large]
