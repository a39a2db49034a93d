"""Key figures from hand-computed trial balances, the typed key figures form's rules, the
dashboard's derived rows, the CSV header step and the lying-down bar chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import jinja2
import pytest
from flask import Flask
from flask_babel import Babel

from portal.insights import charts, csv_import, dashboard, rgs, service
from portal.insights.demo import PROFILES, trial_balance

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"

# The leaf totals of a small trial balance (debit positive): revenue 100.000, cost of sales
# 40.000, wages 30.000, rent 12.000; fixed assets 20.000, trade debtors 15.000, bank 25.000,
# equity before the result 30.000, trade creditors 12.000.
LEAVES = {"WOmzNod": D(-100000), "WKprInh": D(40000), "WPerLes": D(30000),
          "WBedHui": D(12000), "BMvaBei": D(20000), "BVorDeb": D(15000), "BLimBan": D(25000),
          "BEivOvr": D(-30000), "BSchCre": D(-12000)}


@pytest.fixture(autouse=True)
def english():  # type: ignore[no-untyped-def]
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "en")
    with app.test_request_context():
        yield


def test_rgs_aggregation_matches_the_totals_worked_out_by_hand():
    totals = rgs.aggregate(LEAVES)
    assert (totals["WOmz"], totals["WKpr"], totals["WPer"], totals["WBed"]) == (
        D(-100000), D(40000), D(30000), D(12000))
    assert totals["W"] == D(-18000)  # a profit of 18.000 is a credit
    assert (totals["BMva"], totals["BVor"], totals["BLim"], totals["B"]) == (
        D(20000), D(15000), D(25000), D(18000))
    figures = rgs.key_figures(totals)
    assert (figures["revenue"], figures["gross_margin"], figures["net_result"]) == (
        D(100000), D(60000), D(18000))
    assert (figures["total_assets"], figures["equity"], figures["total_liabilities"]) == (
        D(60000), D(48000), D(60000))
    assert rgs.current_ratio(totals) == D("3.33")  # 40.000 / 12.000
    assert rgs.solvency(totals) == D("80.0")  # 48.000 / 60.000
    assert rgs.gross_margin_pct(totals) == D("60.0")
    assert rgs.net_margin_pct(totals) == D("18.0")
    assert rgs.days_receivable(totals) == D(55)  # 15.000 / 100.000 * 365 = 54,75


def _typed(**values: str) -> dict[str, str]:
    return {"WOmz": "100000", "WKpr": "40000", "WPer": "30000", "WBedHui": "12000",
            "BMva": "20000", "BVorDeb": "15000", "BLim": "25000", "BEiv": "48000",
            "BSchCre": "12000", **values}


def test_typed_key_figures_become_the_same_totals_as_the_trial_balance():
    check = service.check_key_figures(_typed(), decimal_comma=True)
    assert check.ok
    expected = rgs.aggregate(LEAVES)
    for code in ("WOmz", "WKpr", "W", "BMva", "BVor", "BLim", "BEiv", "BSch", "B"):
        assert check.totals[code] == expected[code], code
    assert check.signed["BEiv"] == D(-30000)  # 48.000 typed, of which 18.000 the result


def test_typed_amounts_follow_the_pages_language_where_they_are_ambiguous():
    dutch = service.check_key_figures(_typed(WOmz="100.000", WKpr="40.000"),
                                      decimal_comma=True)
    assert dutch.ok and dutch.amounts["WOmz"] == D(100000)
    english = service.check_key_figures(_typed(WOmz="100,000.00", WKpr="40.000,00"),
                                         decimal_comma=False)
    assert english.ok and english.amounts["WKpr"] == D(40000)


def test_a_typed_amount_that_is_not_one_is_an_error_of_its_line():
    check = service.check_key_figures(_typed(WPer="dertig"), decimal_comma=True)
    assert not check.ok and set(check.errors) == {"WPer"}
    assert "“dertig” is not an amount" in check.errors["WPer"]


def test_a_balance_sheet_that_does_not_balance_is_refused_with_both_totals():
    check = service.check_key_figures(_typed(BLim="25500"), decimal_comma=True)
    assert not check.ok and not check.errors
    assert (check.total_assets, check.total_liabilities) == (D(60500), D(60000))


def test_only_a_profit_and_loss_account_balances_too():
    check = service.check_key_figures({"WOmz": "1000", "WBedKan": ""}, decimal_comma=True)
    assert check.ok and check.total_assets == 0


def test_the_form_starts_from_totals_and_loses_nothing():
    totals = rgs.aggregate({**LEAVES, "BVorOva": D(500), "BLimBan": D(24500),
                            "WBedAea": D(1000), "WPerLes": D(29000)})
    values = service.key_lines_from_totals(totals)
    assert values["BVorDeb"] == D(15000) and values["BVorOvr"] == D(500)
    assert values["WBedHui"] == D(12000) and values["WBedAlk"] == D(1000)
    assert values["BEiv"] == D(48000) and values["WOmz"] == D(100000)
    typed = {code: str(amount) for code, amount in values.items() if amount}
    again = service.check_key_figures(typed, decimal_comma=False)
    assert again.ok
    assert rgs.key_figures(again.totals) == rgs.key_figures(totals)


def _board(this: dict[str, Decimal], last: dict[str, Decimal] | None = None):  # type: ignore[no-untyped-def]
    from portal.engagements.models import Engagement

    return dashboard.EngagementDashboard(
        Engagement(year=2025, client_id=1), dashboard.Year(2025, rgs.aggregate(this), object()),
        dashboard.Year(2024, rgs.aggregate(last or {}), object() if last else None),
        list(dashboard.DASHBOARD_BLOCKS))


def test_the_result_steps_add_up_to_the_net_result():
    board = _board({**LEAVES, "WFbeRls": D(1000), "WOmzNod": D(-101000)})
    steps = board.result_steps()
    assert steps[0] == ("Gross margin", D(61000))
    assert steps[-1] == ("Net result", D(18000))
    assert sum(amount for _label, amount in steps[:-1]) == D(18000)


def test_costs_by_category_leave_out_what_is_zero_and_keep_every_euro():
    board = _board(LEAVES)
    rows = dict(board.cost_categories())
    assert rows == {"Cost of sales": D(40000), "Personnel expenses": D(30000),
                    "Housing costs": D(12000)}


def test_the_comparison_with_last_year_gives_changes_and_percentages():
    last = {**LEAVES, "WOmzNod": D(-80000), "BEivOvr": D(-50000)}
    revenue = _board(LEAVES, last).comparisons()[0]
    assert (revenue.last, revenue.this, revenue.change, revenue.change_pct) == (
        D(80000), D(100000), D(20000), D("25.0"))
    assert _board(LEAVES).comparisons()[0].change is None


def test_demo_trial_balances_balance_every_year():
    for profile in PROFILES:
        for year in range(3):
            assert sum(trial_balance(profile, year).values()) == 0


def test_the_csv_header_step_offers_the_columns_and_guesses_date_and_amount():
    data = b"Export\r\nDag;Artikel;Omzet;Btw\r\n01-01-2025;brood;10,00;0,90\r\n"
    header = csv_import.series_header(data)
    assert header.columns == ["Dag", "Artikel", "Omzet", "Btw"]
    assert (header.date_column, header.amount_column) == (None, "Omzet")
    assert header.samples == [["01-01-2025", "brood", "10,00", "0,90"]]
    unknown = csv_import.series_header(b"Kassa 3\r\nDag;Totaal\r\n01-01-2025;10\r\n")
    assert unknown.columns == ["Dag", "Totaal"] and unknown.date_column is None
    known = csv_import.series_header(b"Datum;Bedrag\r\n2025-01;5\r\n")
    assert (known.date_column, known.amount_column) == ("Datum", "Bedrag")


def test_a_csv_without_column_names_cannot_be_mapped():
    assert csv_import.series_header(b"").error is not None
    assert csv_import.series_header(b"a;a\r\n1;2\r\n").error is not None


@pytest.fixture
def macros():  # type: ignore[no-untyped-def]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"), autoescape=True)
    charts.register(env)
    return env.get_template("macros/charts.html").module


def test_lying_bars_are_valid_svg_with_every_number_in_the_table(macros):
    html = str(macros.hbar_chart(
        "Kosten", "Personeel het hoogst",
        ["Kostprijs van de omzet", "Personeelskosten", "Financiële baten en lasten"],
        [("2024", [D(100), D(300), D(-50)]), ("2025", [D(120), D(280), None])],
        lambda v: f"€ {v}"))
    figure = ET.fromstring(html)  # noqa: S314 (our own markup)
    svg = figure.find(f"{SVG}svg")
    bars = svg.findall(f".//{SVG}rect")
    assert len([b for b in bars if "chart__bar" in b.get("class")]) == 5  # None has no bar
    cells = [td.text for td in figure.iter("td")]
    assert cells == ["€ 100", "€ 120", "€ 300", "€ 280", "€ -50", "\u2013"]
    assert "style=" not in html


def test_lying_bars_are_as_long_as_their_values_and_negatives_run_left():
    chart = charts.hbar_chart("t", "d", ["a", "b", "c"], [("x", [D(100), D(200), D(-100)])],
                              str)
    a, b, c = chart.bars
    assert b.width == pytest.approx(2 * a.width, abs=0.02)
    assert c.x + c.width == pytest.approx(a.x, abs=0.02)  # both start at the zero line
    assert c.css.endswith("chart__bar--negative")
