"""The Referentie GrootboekSchema (RGS 3.x) codes an annual-accounts dashboard needs.

RGS codes nest by prefix: `B` (balance sheet) > `BLim` (liquide middelen) > `BLimKas`
(kasmiddelen) > `BLimKasKas` (the bookable account). This table holds levels 1 to 3, and of
level 3 a selection: the rubrieken small and medium businesses book on. Deeper codes, and
level-3 codes the table does not list, roll up to their nearest listed ancestor (`resolve`), so
an import keeps its totals right without the whole schema of several thousand codes.

Amounts here are signed the way a trial balance is: debit positive, credit negative. A code's
`normal_side` says on which side its balance normally is (assets and costs: debit; equity,
liabilities and revenue: credit); `Figure`s turn signed totals into the numbers a dashboard
shows (revenue positive, costs positive, profit positive).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

BALANCE = "balance"
PROFIT_AND_LOSS = "profit_and_loss"
DEBIT = "debit"
CREDIT = "credit"
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RgsCode:
    code: str
    name_nl: str
    name_en: str
    level: int
    parent: str | None
    side: str  # BALANCE or PROFIT_AND_LOSS
    normal_side: str  # DEBIT or CREDIT

    def name(self, locale: str = "nl") -> str:
        return self.name_en if str(locale).lower().startswith("en") else self.name_nl


class UnknownCode(KeyError):
    """A code that is not RGS, or whose rubriek (level 2) this table does not know."""

    def __str__(self) -> str:
        return f"Unknown RGS code: {self.args[0]!r}"


D, C = DEBIT, CREDIT

# (code, Dutch name, English name, normal side or None to inherit from the parent).
# Names are the RGS descriptions, shortened where the official one is long-winded.
_TABLE: tuple[tuple[str, str, str, str | None], ...] = (
    ("B", "Balans", "Balance sheet", D),
    ("BIva", "Immateriële vaste activa", "Intangible fixed assets", D),
    ("BIvaKou", "Kosten van oprichting en van uitgifte van aandelen",
     "Formation and share issue costs", None),
    ("BIvaKoo", "Kosten van ontwikkeling", "Development costs", None),
    ("BIvaCev", "Concessies, vergunningen en intellectuele eigendom",
     "Concessions, licences and intellectual property", None),
    ("BIvaGoo", "Goodwill", "Goodwill", None),
    ("BIvaVoi", "Vooruitbetalingen op immateriële vaste activa",
     "Prepayments on intangible fixed assets", None),
    ("BIvaOiv", "Overige immateriële vaste activa", "Other intangible fixed assets", None),
    ("BMva", "Materiële vaste activa", "Tangible fixed assets", D),
    ("BMvaTer", "Terreinen", "Land", None),
    ("BMvaBeg", "Bedrijfsgebouwen", "Commercial buildings", None),
    ("BMvaVer", "Verbouwingen", "Renovations", None),
    ("BMvaHuu", "Huurdersinvesteringen", "Leasehold improvements", None),
    ("BMvaMei", "Machines en installaties", "Machinery and installations", None),
    ("BMvaObe", "Andere vaste bedrijfsmiddelen", "Other fixed operating assets", None),
    ("BMvaBei", "Inventaris", "Furniture and fixtures", None),
    ("BMvaTev", "Automobielen en overige transportmiddelen", "Cars and other vehicles", None),
    ("BMvaVbi", "Vaste bedrijfsmiddelen in uitvoering", "Assets under construction", None),
    ("BFva", "Financiële vaste activa", "Financial fixed assets", D),
    ("BFvaDig", "Deelnemingen in groepsmaatschappijen", "Participations in group companies",
     None),
    ("BFvaVog", "Vorderingen op groepsmaatschappijen", "Receivables from group companies",
     None),
    ("BFvaLbv", "Latente belastingvorderingen", "Deferred tax assets", None),
    ("BFvaOvr", "Overige vorderingen", "Other receivables", None),
    ("BVrd", "Voorraden", "Inventories", D),
    ("BVrdGeh", "Grond- en hulpstoffen", "Raw materials and consumables", None),
    ("BVrdHal", "Halffabrikaten", "Semi-finished products", None),
    ("BVrdOwe", "Onderhanden werk", "Work in progress", None),
    ("BVrdGep", "Gereed product", "Finished products", None),
    ("BVrdHan", "Handelsgoederen", "Goods for resale", None),
    ("BVrdVoo", "Vooruitbetalingen op voorraden", "Prepayments on inventories", None),
    ("BPro", "Onderhanden projecten", "Work in progress on projects", D),
    ("BVor", "Vorderingen", "Receivables", D),
    ("BVorDeb", "Handelsdebiteuren", "Trade receivables", None),
    ("BVorVog", "Vorderingen op groepsmaatschappijen", "Receivables from group companies",
     None),
    ("BVorVbk", "Vorderingen uit hoofde van belastingen", "Tax receivables", None),
    ("BVorOvr", "Overige vorderingen", "Other receivables", None),
    ("BVorOva", "Overlopende activa", "Prepayments and accrued income", None),
    ("BVorTus", "Tussenrekeningen", "Suspense accounts", None),
    ("BEff", "Effecten", "Securities", D),
    ("BLim", "Liquide middelen", "Cash and cash equivalents", D),
    ("BLimKas", "Kasmiddelen", "Cash in hand", None),
    ("BLimBan", "Tegoeden bij banken", "Bank balances", None),
    ("BLimKru", "Kruisposten", "Cash in transit", None),
    ("BEiv", "Eigen vermogen", "Equity", C),
    ("BEivGok", "Aandelenkapitaal", "Share capital", None),
    ("BEivAgi", "Agio", "Share premium", None),
    ("BEivHer", "Herwaarderingsreserves", "Revaluation reserves", None),
    ("BEivWer", "Wettelijke reserves", "Legal reserves", None),
    ("BEivBer", "Bestemmingsreserves", "Appropriated reserves", None),
    ("BEivOvr", "Overige reserves", "Other reserves", None),
    ("BEivOre", "Onverdeelde winst", "Undistributed profit", None),
    ("BEivKap", "Eigen vermogen onderneming natuurlijke personen", "Proprietors' capital",
     None),
    ("BEivFir", "Fiscale reserves", "Tax reserves", None),
    ("BVrz", "Voorzieningen", "Provisions", C),
    ("BVrzVvp", "Voorzieningen voor pensioenen", "Pension provisions", None),
    ("BVrzVvb", "Voorzieningen voor belastingen", "Provisions for taxes", None),
    ("BVrzOvz", "Overige voorzieningen", "Other provisions", None),
    ("BLas", "Langlopende schulden", "Long-term liabilities", C),
    ("BLasAcl", "Achtergestelde leningen", "Subordinated loans", None),
    ("BLasSak", "Schulden aan kredietinstellingen", "Debts to credit institutions", None),
    ("BLasSag", "Schulden aan groepsmaatschappijen", "Debts to group companies", None),
    ("BSch", "Kortlopende schulden", "Current liabilities", C),
    ("BSchSak", "Schulden aan kredietinstellingen", "Debts to credit institutions", None),
    ("BSchAos", "Aflossingsverplichtingen van langlopende leningen",
     "Current portion of long-term loans", None),
    ("BSchCre", "Schulden aan leveranciers en handelskredieten", "Trade payables", None),
    ("BSchBep", "Belastingen en premies sociale verzekeringen",
     "Taxes and social security premiums", None),
    ("BSchSal", "Salarisverwerking", "Payroll liabilities", None),
    ("BSchOvs", "Overige schulden", "Other liabilities", None),
    ("BSchOpa", "Overlopende passiva", "Accruals and deferred income", None),
    ("BSchTus", "Tussenrekeningen", "Suspense accounts", None),
    ("W", "Winst-en-verliesrekening", "Profit and loss account", C),
    ("WOmz", "Netto-omzet", "Net turnover", C),
    ("WOmzNop", "Netto-omzet uit leveringen geproduceerde goederen",
     "Turnover from manufactured goods", None),
    ("WOmzNoh", "Netto-omzet uit verkoop van handelsgoederen",
     "Turnover from goods for resale", None),
    ("WOmzNod", "Netto-omzet uit verleende diensten", "Turnover from services", None),
    ("WOmzKeb", "Kortingen en bonussen en provisies", "Discounts, bonuses and commissions", D),
    ("WKpr", "Kostprijs van de omzet", "Cost of sales", D),
    ("WKprInh", "Inkoopwaarde handelsgoederen", "Purchase cost of goods for resale", None),
    ("WKprInp", "Inkoopwaarde productiegoederen", "Purchase cost of production goods", None),
    ("WKprKuw", "Kosten uitbesteed werk en andere externe kosten",
     "Subcontracted work and other external costs", None),
    ("WKprVom", "Voorraadmutatie", "Change in inventories", None),
    ("WOvb", "Overige bedrijfsopbrengsten", "Other operating income", C),
    ("WPer", "Personeelskosten", "Personnel expenses", D),
    ("WPerLes", "Lonen en salarissen", "Wages and salaries", None),
    ("WPerSol", "Sociale lasten", "Social security charges", None),
    ("WPerPen", "Pensioenlasten", "Pension costs", None),
    ("WPerOlu", "Overige lasten uit hoofde van personeelsbeloningen",
     "Other employee benefit expenses", None),
    ("WAfs", "Afschrijvingen", "Depreciation and amortisation", D),
    ("WAfsAiv", "Afschrijvingen op immateriële vaste activa",
     "Amortisation of intangible fixed assets", None),
    ("WAfsAmv", "Afschrijvingen op materiële vaste activa",
     "Depreciation of tangible fixed assets", None),
    ("WBed", "Overige bedrijfskosten", "Other operating expenses", D),
    ("WBedOvp", "Overige personeelskosten", "Other personnel costs", None),
    ("WBedHui", "Huisvestingskosten", "Housing costs", None),
    ("WBedEem", "Exploitatie- en machinekosten", "Operating and machinery costs", None),
    ("WBedVkk", "Verkoopkosten", "Selling expenses", None),
    ("WBedAut", "Autokosten", "Car and vehicle costs", None),
    ("WBedTra", "Transportkosten", "Transport costs", None),
    ("WBedKan", "Kantoorkosten", "Office expenses", None),
    ("WBedOrg", "Organisatiekosten", "Organisational costs", None),
    ("WBedAss", "Assurantiekosten", "Insurance costs", None),
    ("WBedAea", "Accountants- en advieskosten", "Accountancy and advisory fees", None),
    ("WBedAdl", "Administratieve lasten", "Administrative expenses", None),
    ("WBedAlk", "Andere kosten", "Other costs", None),
    ("WFbe", "Financiële baten en lasten", "Financial income and expenses", C),
    ("WFbeRlm", "Rentebaten en soortgelijke opbrengsten", "Interest and similar income", C),
    ("WFbeRls", "Rentelasten en soortgelijke kosten", "Interest and similar expenses", D),
    ("WFbeOrl", "Overige rentelasten", "Other interest expenses", D),
    ("WBel", "Belastingen", "Taxes", D),
    ("WBelBgr", "Belastingen over de winst of het verlies", "Tax on profit or loss", None),
)


def _parent_of(code: str) -> str | None:
    if len(code) == 1:
        return None
    return code[0] if len(code) == 4 else code[:-3]


def _build() -> dict[str, RgsCode]:
    codes: dict[str, RgsCode] = {}
    for code, name_nl, name_en, normal in _TABLE:
        parent = _parent_of(code)
        if parent is not None and parent not in codes:
            raise AssertionError(f"RGS table: {code} comes before its parent {parent}")
        normal_side = normal or codes[parent].normal_side  # type: ignore[index]
        codes[code] = RgsCode(
            code=code, name_nl=name_nl, name_en=name_en,
            level={1: 1, 4: 2, 7: 3}[len(code)], parent=parent,
            side=BALANCE if code[0] == "B" else PROFIT_AND_LOSS, normal_side=normal_side)
    return codes


CODES: dict[str, RgsCode] = _build()
_BY_LOWER = {code.lower(): entry for code, entry in CODES.items()}
_CHILDREN: dict[str, tuple[RgsCode, ...]] = {
    code: tuple(e for e in CODES.values() if e.parent == code) for code in CODES}


def _lineage(code: str) -> tuple[str, ...]:
    """(code, parent, ..., level 1)."""
    parent = CODES[code].parent
    return (code,) if parent is None else (code, *_lineage(parent))


_LINEAGE = {code: _lineage(code) for code in CODES}

# A level-1 letter, then groups of three letters or digits (`BLimKasKas`, `BEivKa2Ond`).
_SHAPE = re.compile(r"[bw](?:[a-z][a-z0-9]{2})+")


def get(code: str) -> RgsCode | None:
    """The table's entry for a code (case-insensitive), or None."""
    return _BY_LOWER.get(code.strip().lower())


def resolve(code: str) -> RgsCode | None:
    """The entry an amount booked on `code` counts towards, or None for an unknown code.

    A listed code is itself; a deeper or unlisted code of the RGS shape (`BLimKasKas`,
    `WBedKse`) rolls up to its nearest listed ancestor, provided that is level 2 or 3.
    """
    lowered = code.strip().lower()
    entry = _BY_LOWER.get(lowered)
    if entry is not None:
        return entry
    if not _SHAPE.fullmatch(lowered):
        return None
    return _BY_LOWER.get(lowered[:7]) or _BY_LOWER.get(lowered[:4])


def _entry(code: str) -> RgsCode:
    entry = get(code)
    if entry is None:
        raise UnknownCode(code)
    return entry


def children(code: str) -> list[RgsCode]:
    """The listed codes one level below, in table order."""
    return list(_CHILDREN[_entry(code).code])


def ancestors(code: str) -> list[RgsCode]:
    """The parent, its parent, ... up to level 1."""
    return [CODES[c] for c in _LINEAGE[_entry(code).code][1:]]


def name(code: str, locale: str = "nl") -> str:
    """The Dutch ("nl") or English ("en") name of a listed code."""
    return _entry(code).name(locale)


def level2_of(code: str) -> str:
    """The rubriek (level 2) a level-2 or deeper code belongs to: `BLimKas` -> `BLim`."""
    entry = resolve(code)
    if entry is None or entry.level < 2:
        raise UnknownCode(code)
    return _LINEAGE[entry.code][-2]


def aggregate(amounts: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Roll amounts up: every code gets its own amount plus everything booked below it.

    Level-3 (or deeper) amounts count in their level-3, level-2 and level-1 totals; amounts
    booked directly on a level-2 code count there and in level 1. Unknown codes raise.
    """
    totals: dict[str, Decimal] = {}
    for code, amount in amounts.items():
        entry = resolve(code)
        if entry is None:
            raise UnknownCode(code)
        for at in _LINEAGE[entry.code]:
            totals[at] = totals.get(at, ZERO) + amount
    return totals


# --- Dashboard figures ---------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """A dashboard number: the signed totals of some codes, plus and minus other figures.

    `credit_positive` shows a credit total as a positive number (revenue, equity, debt).
    """

    key: str
    label: Any  # a lazy string
    codes: tuple[str, ...] = ()
    credit_positive: bool = False
    plus: tuple[Figure, ...] = ()
    minus: tuple[Figure, ...] = ()

    def amount(self, totals: Mapping[str, Decimal]) -> Decimal:
        own = sum((totals.get(code, ZERO) for code in self.codes), ZERO)
        if self.credit_positive:
            own = -own
        own += sum((f.amount(totals) for f in self.plus), ZERO)
        return own - sum((f.amount(totals) for f in self.minus), ZERO)


REVENUE = Figure("revenue", _l("Revenue"), ("WOmz",), credit_positive=True)
COST_OF_SALES = Figure("cost_of_sales", _l("Cost of sales"), ("WKpr",))
GROSS_MARGIN = Figure("gross_margin", _l("Gross margin"), plus=(REVENUE,), minus=(COST_OF_SALES,))
OTHER_OPERATING_INCOME = Figure(
    "other_operating_income", _l("Other operating income"), ("WOvb",), credit_positive=True)
PERSONNEL = Figure("personnel", _l("Personnel expenses"), ("WPer",))
DEPRECIATION = Figure("depreciation", _l("Depreciation"), ("WAfs",))
OTHER_OPERATING_COSTS = Figure("other_operating_costs", _l("Other operating expenses"), ("WBed",))
OPERATING_RESULT = Figure(
    "operating_result", _l("Operating result"), plus=(GROSS_MARGIN, OTHER_OPERATING_INCOME),
    minus=(PERSONNEL, DEPRECIATION, OTHER_OPERATING_COSTS))
FINANCIAL_RESULT = Figure(
    "financial_result", _l("Financial income and expenses"), ("WFbe",), credit_positive=True)
TAXES = Figure("taxes", _l("Taxes"), ("WBel",))
# All of the profit and loss account, so codes outside the figures above still count.
NET_RESULT = Figure("net_result", _l("Net result"), ("W",), credit_positive=True)

FIXED_ASSETS = Figure("fixed_assets", _l("Fixed assets"), ("BIva", "BMva", "BFva"))
STOCK = Figure("stock", _l("Stock and work in progress"), ("BVrd", "BPro"))
RECEIVABLES = Figure("receivables", _l("Receivables"), ("BVor",))
SECURITIES = Figure("securities", _l("Securities"), ("BEff",))
CASH = Figure("cash", _l("Cash"), ("BLim",))
CURRENT_ASSETS = Figure(
    "current_assets", _l("Current assets"), plus=(STOCK, RECEIVABLES, SECURITIES, CASH))
TOTAL_ASSETS = Figure("total_assets", _l("Total assets"), plus=(FIXED_ASSETS, CURRENT_ASSETS))
# Before the books are closed the year's result sits in the profit and loss accounts, after
# closing in equity: counting both (one of them is zero) gives equity either way.
EQUITY = Figure("equity", _l("Equity"), ("BEiv", "W"), credit_positive=True)
PROVISIONS = Figure("provisions", _l("Provisions"), ("BVrz",), credit_positive=True)
LONG_TERM_DEBT = Figure("long_term_debt", _l("Long-term debt"), ("BLas",), credit_positive=True)
CURRENT_LIABILITIES = Figure(
    "current_liabilities", _l("Current liabilities"), ("BSch",), credit_positive=True)
TOTAL_LIABILITIES = Figure(
    "total_liabilities", _l("Equity and liabilities"),
    plus=(EQUITY, PROVISIONS, LONG_TERM_DEBT, CURRENT_LIABILITIES))

PROFIT_AND_LOSS_FIGURES = (
    REVENUE, COST_OF_SALES, GROSS_MARGIN, OTHER_OPERATING_INCOME, PERSONNEL, DEPRECIATION,
    OTHER_OPERATING_COSTS, OPERATING_RESULT, FINANCIAL_RESULT, TAXES, NET_RESULT)
BALANCE_FIGURES = (
    FIXED_ASSETS, STOCK, RECEIVABLES, SECURITIES, CASH, CURRENT_ASSETS, TOTAL_ASSETS, EQUITY,
    PROVISIONS, LONG_TERM_DEBT, CURRENT_LIABILITIES, TOTAL_LIABILITIES)


def key_figures(totals: Mapping[str, Decimal],
                figures: Iterable[Figure] = PROFIT_AND_LOSS_FIGURES + BALANCE_FIGURES,
                ) -> dict[str, Decimal]:
    """Each figure's amount, by key, from totals as `aggregate` returns them."""
    return {f.key: f.amount(totals) for f in figures}


# --- Ratios --------------------------------------------------------------------------------

_HUNDRED = Decimal(100)


def _divide(numerator: Decimal, denominator: Decimal, times: Decimal, places: str
            ) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator * times / denominator).quantize(Decimal(places), ROUND_HALF_UP)


def current_ratio(totals: Mapping[str, Decimal]) -> Decimal | None:
    """Current assets / current liabilities, to two decimals."""
    return _divide(CURRENT_ASSETS.amount(totals), CURRENT_LIABILITIES.amount(totals),
                   Decimal(1), "0.01")


def solvency(totals: Mapping[str, Decimal]) -> Decimal | None:
    """Equity (with the year's result) as a percentage of total assets, one decimal."""
    return _divide(EQUITY.amount(totals), TOTAL_ASSETS.amount(totals), _HUNDRED, "0.1")


def gross_margin_pct(totals: Mapping[str, Decimal]) -> Decimal | None:
    """Gross margin as a percentage of revenue, one decimal."""
    return _divide(GROSS_MARGIN.amount(totals), REVENUE.amount(totals), _HUNDRED, "0.1")


def net_margin_pct(totals: Mapping[str, Decimal]) -> Decimal | None:
    """Net result as a percentage of revenue, one decimal."""
    return _divide(NET_RESULT.amount(totals), REVENUE.amount(totals), _HUNDRED, "0.1")


def days_receivable(totals: Mapping[str, Decimal]) -> Decimal | None:
    """Receivables / revenue * 365, in whole days.

    Uses trade receivables (`BVorDeb`) when the totals hold them, else all receivables.
    """
    receivables = totals["BVorDeb"] if "BVorDeb" in totals else RECEIVABLES.amount(totals)
    return _divide(receivables, REVENUE.amount(totals), Decimal(365), "1")


@dataclass(frozen=True)
class Ratio:
    key: str
    label: Any
    explanation: Any
    unit: str  # "ratio", "percent" or "days"
    compute: Callable[[Mapping[str, Decimal]], Decimal | None]


RATIOS = (
    Ratio("current_ratio", _l("Current ratio"),
          _l("Current assets divided by current liabilities: above 1 means short-term debts "
             "can be paid from short-term assets."), "ratio", current_ratio),
    Ratio("solvency", _l("Solvency"),
          _l("Equity as a percentage of total assets: how much of the business is financed "
             "by its owners."), "percent", solvency),
    Ratio("gross_margin_pct", _l("Gross margin"),
          _l("Revenue minus cost of sales, as a percentage of revenue."), "percent",
          gross_margin_pct),
    Ratio("net_margin_pct", _l("Net margin"),
          _l("Net result as a percentage of revenue: what is left of each euro of revenue."),
          "percent", net_margin_pct),
    Ratio("days_receivable", _l("Days receivable"),
          _l("Receivables divided by revenue, times 365: how many days customers take to pay "
             "on average."), "days", days_receivable),
)
