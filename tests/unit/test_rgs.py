from decimal import Decimal

import pytest

from portal.insights import rgs


def d(text: str) -> Decimal:
    return Decimal(text)


# A small trial balance after aggregation: debit positive, credit negative; the year is open,
# so the result (revenue minus costs) still sits in the profit and loss accounts.
OPEN_YEAR = rgs.aggregate({
    "BMvaBei": d("20000"),      # inventaris
    "BVrdHan": d("10000"),      # stock
    "BVorDeb": d("15000"),      # trade receivables
    "BVorOvr": d("5000"),
    "BLimBan": d("30000"),
    "BEivGok": d("-18000"),     # share capital
    "BLasSak": d("-12000"),
    "BSchCre": d("-25000"),
    "WOmzNod": d("-100000"),    # revenue
    "WKprInh": d("40000"),      # cost of sales
    "WPerLes": d("20000"),
    "WAfsAmv": d("5000"),
    "WBedHui": d("8000"),
    "WFbeRls": d("1000"),       # interest paid
    "WBelBgr": d("1000"),       # tax on profit
})


def test_level_three_amounts_add_up_into_their_rubriek_and_level_one():
    totals = rgs.aggregate({"BLimKas": d("100.50"), "BLimBan": d("900"), "WOmzNod": d("-50")})
    assert totals["BLimKas"] == d("100.50")
    assert totals["BLim"] == d("1000.50")
    assert totals["B"] == d("1000.50")
    assert totals["WOmz"] == totals["W"] == d("-50")


def test_amounts_booked_on_a_rubriek_stay_there_and_count_in_level_one():
    totals = rgs.aggregate({"BLim": d("10"), "BLimKas": d("5")})
    assert totals["BLim"] == d("15")
    assert totals["B"] == d("15")
    assert "BLimBan" not in totals


def test_deeper_codes_count_towards_their_nearest_listed_ancestor():
    assert rgs.resolve("BLimKasKas").code == "BLimKas"
    assert rgs.resolve("WBedKseAbs").code == "WBed"  # level 3 not in the table: its rubriek
    totals = rgs.aggregate({"BLimBanRba": d("7"), "BLimBan": d("3")})
    assert totals["BLimBan"] == d("10")


def test_codes_are_found_whatever_their_case():
    assert rgs.get("blimkas").code == "BLimKas"
    assert rgs.resolve(" WOMZNOD ").code == "WOmzNod"


@pytest.mark.parametrize("code", ["XLim", "BXyz", "1000", "Kas", "", "WOmz-Nod"])
def test_codes_outside_the_known_rubrieken_are_unknown(code):
    assert rgs.resolve(code) is None
    with pytest.raises(rgs.UnknownCode):
        rgs.aggregate({code: d("1")})


def test_children_and_ancestors_follow_the_code_prefixes():
    assert [c.code for c in rgs.children("BLim")] == ["BLimKas", "BLimBan", "BLimKru"]
    assert [a.code for a in rgs.ancestors("BLimKas")] == ["BLim", "B"]
    assert rgs.ancestors("W") == []
    with pytest.raises(rgs.UnknownCode):
        rgs.children("BNope")


def test_names_come_in_dutch_and_english():
    assert rgs.name("BLim", "nl") == "Liquide middelen"
    assert rgs.name("BLim", "en") == "Cash and cash equivalents"
    assert rgs.name("WPerLes", "en_GB") == "Wages and salaries"


def test_level2_of_rolls_any_deeper_code_up_to_its_rubriek():
    assert rgs.level2_of("BVorDeb") == "BVor"
    assert rgs.level2_of("BVorDebHad") == "BVor"
    assert rgs.level2_of("WOmz") == "WOmz"
    with pytest.raises(rgs.UnknownCode):
        rgs.level2_of("B")


@pytest.mark.parametrize(("code", "side", "normal"), [
    ("BMva", rgs.BALANCE, rgs.DEBIT), ("BLimKas", rgs.BALANCE, rgs.DEBIT),
    ("BEiv", rgs.BALANCE, rgs.CREDIT), ("BSchCre", rgs.BALANCE, rgs.CREDIT),
    ("BVrz", rgs.BALANCE, rgs.CREDIT), ("WOmzNod", rgs.PROFIT_AND_LOSS, rgs.CREDIT),
    ("WKpr", rgs.PROFIT_AND_LOSS, rgs.DEBIT), ("WBedHui", rgs.PROFIT_AND_LOSS, rgs.DEBIT),
    ("WFbeRls", rgs.PROFIT_AND_LOSS, rgs.DEBIT), ("WFbeRlm", rgs.PROFIT_AND_LOSS, rgs.CREDIT),
])
def test_assets_and_costs_are_debit_normal_equity_debt_and_revenue_credit_normal(
        code, side, normal):
    entry = rgs.get(code)
    assert (entry.side, entry.normal_side) == (side, normal)


def test_every_code_sits_under_the_code_it_starts_with():
    for entry in rgs.CODES.values():
        assert entry.level == {1: 1, 4: 2, 7: 3}[len(entry.code)]
        if entry.parent is not None:
            assert entry.code.startswith(entry.parent)
            assert rgs.CODES[entry.parent].level == entry.level - 1
        assert rgs.resolve(entry.code) is entry


def test_the_rubrieken_a_dashboard_needs_are_there():
    needed = {"BIva", "BMva", "BFva", "BVrd", "BVor", "BLim", "BEiv", "BVrz", "BLas", "BSch",
              "WOmz", "WKpr", "WPer", "WAfs", "WBed", "WFbe", "WBel"}
    assert needed <= {c for c, e in rgs.CODES.items() if e.level == 2}


def test_key_figures_show_revenue_costs_and_profit_as_positive_numbers():
    figures = rgs.key_figures(OPEN_YEAR)
    assert figures["revenue"] == d("100000")
    assert figures["cost_of_sales"] == d("40000")
    assert figures["gross_margin"] == d("60000")
    assert figures["personnel"] == d("20000")
    assert figures["operating_result"] == d("27000")  # 60000 - 20000 - 5000 - 8000
    assert figures["financial_result"] == d("-1000")
    assert figures["taxes"] == d("1000")
    assert figures["net_result"] == d("25000")
    assert figures["net_result"] == (
        figures["operating_result"] + figures["financial_result"] - figures["taxes"])


def test_equity_counts_the_open_years_result_so_both_sides_of_the_balance_agree():
    figures = rgs.key_figures(OPEN_YEAR)
    assert figures["equity"] == d("43000")  # 18000 capital + 25000 result
    assert figures["total_assets"] == d("80000")
    assert figures["current_assets"] == d("60000")
    assert figures["total_liabilities"] == figures["total_assets"]


def test_after_closing_the_result_is_in_equity_and_equity_is_the_same():
    closed = rgs.aggregate({"BLimBan": d("43000"), "BEivOvr": d("-43000")})
    assert rgs.EQUITY.amount(closed) == d("43000")


def test_ratios_from_a_trial_balance():
    assert rgs.current_ratio(OPEN_YEAR) == d("2.40")  # 60000 / 25000
    assert rgs.solvency(OPEN_YEAR) == d("53.8")  # 43000 / 80000
    assert rgs.gross_margin_pct(OPEN_YEAR) == d("60.0")
    assert rgs.net_margin_pct(OPEN_YEAR) == d("25.0")
    assert rgs.days_receivable(OPEN_YEAR) == d("55")  # trade receivables 15000 / 100000 * 365


def test_days_receivable_uses_all_receivables_when_only_rubrieken_are_known():
    level2 = {"BVor": d("20000"), "WOmz": d("-100000")}
    assert rgs.days_receivable(level2) == d("73")


@pytest.mark.parametrize("ratio", rgs.RATIOS, ids=lambda r: r.key)
def test_a_ratio_without_its_denominator_is_none_not_an_error(ratio):
    assert ratio.compute({}) is None
    assert str(ratio.label) and str(ratio.explanation).endswith(".")
