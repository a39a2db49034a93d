"""Reading figures for the pages: the annual-accounts dashboard of an engagement and the
client insights page. Each page costs a fixed number of queries whatever the amount of data:
sums are taken by the database, per period and code, and rolled up here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clients import tiers
from portal.clients.models import Client
from portal.engagements.models import Engagement, Share
from portal.insights import rgs
from portal.insights.models import (
    ANNUAL_SOURCES,
    BALANCE_KINDS,
    CLIENT_CSV,
    TRIAL_BALANCE,
    Figure,
    FigureImport,
    Series,
    SharedBlocks,
)

ZERO = Decimal(0)
REVENUE_CODE = rgs.REVENUE.codes[0]  # "WOmz": its rubriek and every code under it

# The blocks of the annual-accounts dashboard, in page order, and of the insights page.
DASHBOARD_BLOCKS = {
    "revenue": _l("Revenue and gross margin"),
    "costs": _l("Costs by category"),
    "result": _l("Result"),
    "balance": _l("Balance sheet"),
    "comparison": _l("This year against last year"),
    "ratios": _l("Ratios"),
}
INSIGHT_BLOCKS = {
    "trends": _l("Trends over the years"),
    "monthly": _l("Month by month"),
    "balance_trend": _l("Equity, debts and cash over the years"),
    "ratios": _l("Ratios over the years"),
}
# A report shared in one of these states lets the client see the engagement's dashboard.
VISIBLE_SHARE_STATES = ("open", "approved", "rejected")
QUARTERS_AFTER = 36  # months; a longer period shows its monthly figures by quarter
COST_CATEGORIES = 5  # the largest other operating expenses shown apart; the rest together


def _locale() -> str:
    return str(get_locale() or "nl")


# --- annual figures ------------------------------------------------------------------------

@dataclass
class Year:
    """One year's annual figures of a client: totals by RGS code (rolled up) and the import
    they came from."""

    year: int
    totals: dict[str, Decimal] = field(default_factory=dict)
    source: FigureImport | None = None

    @property
    def has_figures(self) -> bool:
        return self.source is not None

    def __getitem__(self, figure: rgs.Figure) -> Decimal:
        return figure.amount(self.totals)

    def ratio(self, ratio: rgs.Ratio) -> Decimal | None:
        return ratio.compute(self.totals) if self.has_figures else None

    @property
    def has_balance(self) -> bool:
        return self[rgs.TOTAL_ASSETS] != 0 or self[rgs.TOTAL_LIABILITIES] != 0


def annual_years(session: Session, client_id: int, years: Iterable[int]) -> dict[int, Year]:
    """The annual figures of some years (two queries, whatever the number of lines)."""
    wanted = sorted(set(years))
    found = {year: Year(year) for year in wanted}
    if not wanted:
        return found
    sums = session.execute(
        select(Figure.year, Figure.code, func.sum(Figure.amount))
        .where(Figure.client_id == client_id, Figure.year.between(wanted[0], wanted[-1]),
               Figure.month.is_(None), Figure.code.is_not(None))
        .group_by(Figure.year, Figure.code))
    leaves: dict[int, dict[str, Decimal]] = {}
    for year, code, amount in sums:
        if year in found and rgs.resolve(code) is not None:
            leaves.setdefault(year, {})[code] = Decimal(amount)
    for year, amounts in leaves.items():
        found[year].totals = rgs.aggregate(amounts)
    for record in session.scalars(select(FigureImport).where(
            FigureImport.client_id == client_id, FigureImport.source.in_(ANNUAL_SOURCES),
            FigureImport.month.is_(None), FigureImport.year.in_(wanted))):
        found[record.year].source = record
    return found


def replaced_import(session: Session, client_id: int, slot: str) -> FigureImport | None:
    """The import a new import of this period would replace."""
    return session.scalar(select(FigureImport).where(FigureImport.client_id == client_id,
                                                     FigureImport.slot == slot))


def years_with_figures(session: Session, client_id: int) -> list[int]:
    """Every year the client has any figure in, newest first."""
    return list(session.scalars(select(Figure.year).where(Figure.client_id == client_id)
                                .distinct().order_by(Figure.year.desc())))


# --- the engagement's dashboard ------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    label: Any
    this: Decimal
    last: Decimal | None

    @property
    def change(self) -> Decimal | None:
        return None if self.last is None else self.this - self.last

    @property
    def change_pct(self) -> Decimal | None:
        if self.last is None or self.last == 0:
            return None
        return ((self.this - self.last) * 100 / abs(self.last)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class RatioRow:
    ratio: rgs.Ratio
    this: Decimal | None
    last: Decimal | None


@dataclass
class EngagementDashboard:
    engagement: Engagement
    this: Year
    last: Year
    blocks: list[str]  # the blocks to show, in page order

    @property
    def has_figures(self) -> bool:
        return self.this.has_figures

    @property
    def years(self) -> list[str]:
        return [str(self.last.year), str(self.this.year)]

    def two_years(self, figures: Sequence[rgs.Figure]) -> list[tuple[str, list[Decimal | None]]]:
        """Chart series: last year (when there are figures) and this year."""
        series: list[tuple[str, list[Decimal | None]]] = []
        if self.last.has_figures:
            series.append((str(self.last.year), [self.last[f] for f in figures]))
        series.append((str(self.this.year), [self.this[f] for f in figures]))
        return series

    @property
    def revenue_figures(self) -> tuple[rgs.Figure, ...]:
        return (rgs.REVENUE, rgs.COST_OF_SALES, rgs.GROSS_MARGIN)

    def cost_categories(self) -> list[tuple[str, Decimal]]:
        """Cost of sales, personnel, depreciation, then the largest other operating expenses
        by RGS rubriek and the rest of them together; zero categories left out."""
        year, locale = self.this, _locale()
        rows = [(str(rgs.COST_OF_SALES.label), year[rgs.COST_OF_SALES]),
                (str(rgs.PERSONNEL.label), year[rgs.PERSONNEL]),
                (str(rgs.DEPRECIATION.label), year[rgs.DEPRECIATION])]
        others = sorted(((child.name(locale), year.totals.get(child.code, ZERO))
                         for child in rgs.children("WBed")), key=lambda r: -r[1])
        largest = [row for row in others if row[1] != 0][:COST_CATEGORIES]
        rest = year[rgs.OTHER_OPERATING_COSTS] - sum((r[1] for r in largest), ZERO)
        rows += largest
        if rest:
            rows.append((str(_l("Other operating expenses")), rest))
        return [row for row in rows if row[1] != 0]

    def result_steps(self) -> list[tuple[str, Decimal]]:
        """From gross margin to net result: income positive, costs negative."""
        year = self.this
        steps = [(rgs.GROSS_MARGIN, 1), (rgs.OTHER_OPERATING_INCOME, 1), (rgs.PERSONNEL, -1),
                 (rgs.DEPRECIATION, -1), (rgs.OTHER_OPERATING_COSTS, -1),
                 (rgs.FINANCIAL_RESULT, 1), (rgs.TAXES, -1)]
        rows = [(str(figure.label), year[figure] * sign) for figure, sign in steps
                if year[figure] != 0 or figure is rgs.GROSS_MARGIN]
        # Whatever is booked outside these figures still counts in the net result.
        rest = year[rgs.NET_RESULT] - sum((amount for _label, amount in rows), ZERO)
        if rest:
            rows.append((str(_l("Other")), rest))
        rows.append((str(rgs.NET_RESULT.label), year[rgs.NET_RESULT]))
        return rows

    def balance_stacks(self) -> list[tuple[str, list[tuple[str, Decimal]]]]:
        year = self.this
        assets = [rgs.FIXED_ASSETS, rgs.STOCK, rgs.RECEIVABLES, rgs.SECURITIES, rgs.CASH]
        liabilities = [rgs.EQUITY, rgs.PROVISIONS, rgs.LONG_TERM_DEBT, rgs.CURRENT_LIABILITIES]
        return [(str(_l("Assets")), [(str(f.label), year[f]) for f in assets]),
                (str(_l("Equity and liabilities")), [(str(f.label), year[f])
                                                     for f in liabilities])]

    def comparisons(self) -> list[Comparison]:
        figures = (rgs.REVENUE, rgs.GROSS_MARGIN, rgs.PERSONNEL, rgs.OTHER_OPERATING_COSTS,
                   rgs.OPERATING_RESULT, rgs.NET_RESULT, rgs.TOTAL_ASSETS, rgs.EQUITY,
                   rgs.CASH, rgs.CURRENT_LIABILITIES)
        last = self.last if self.last.has_figures else None
        return [Comparison(f.label, self.this[f], last[f] if last else None) for f in figures]

    def changes(self) -> list[tuple[str, Decimal]]:
        """Chart input: how much each figure went up or down."""
        return [(str(c.label), c.change) for c in self.comparisons()[:6]
                if c.change is not None]

    def ratios(self) -> list[RatioRow]:
        return [RatioRow(r, self.this.ratio(r), self.last.ratio(r)) for r in rgs.RATIOS]


def engagement_dashboard(session: Session, engagement: Engagement, blocks: Iterable[str]
                         ) -> EngagementDashboard:
    years = annual_years(session, engagement.client_id, (engagement.year - 1, engagement.year))
    wanted = set(blocks)
    return EngagementDashboard(engagement, years[engagement.year], years[engagement.year - 1],
                               [b for b in DASHBOARD_BLOCKS if b in wanted])


def _blocks(session: Session, client_id: int, scope: str) -> list[str]:
    return list(session.scalar(select(SharedBlocks.blocks).where(
        SharedBlocks.client_id == client_id, SharedBlocks.scope == scope)) or [])


def client_dashboard_blocks(session: Session, engagement: Engagement, client: Client
                            ) -> list[str]:
    """The blocks of an engagement's dashboard its client may see: those staff shared, once
    the report is shared with the client, where the tier shares dashboards."""
    if not tiers.has(client, "share_dashboard") or engagement.kind != "annual_accounts":
        return []
    blocks = _blocks(session, client.id, f"engagement:{engagement.id}")
    if not blocks:
        return []
    shared = session.scalar(select(Share.id).where(
        Share.engagement_id == engagement.id,
        Share.state.in_(VISIBLE_SHARE_STATES)).limit(1))
    return blocks if shared is not None else []


def dashboards_visible(session: Session, client: Client, engagement_ids: Iterable[int]
                       ) -> set[int]:
    """Of these engagements of the client, those whose dashboard the client may see (two
    queries: for a list such as the history page)."""
    ids = list(engagement_ids)
    if not ids or not tiers.has(client, "share_dashboard"):
        return set()
    scopes = {f"engagement:{i}": i for i in ids}
    with_blocks = {scopes[scope] for scope, blocks in session.execute(
        select(SharedBlocks.scope, SharedBlocks.blocks).where(
            SharedBlocks.client_id == client.id, SharedBlocks.scope.in_(list(scopes))))
        if blocks}
    if not with_blocks:
        return set()
    return set(session.scalars(
        select(Share.engagement_id).join(Engagement, Engagement.id == Share.engagement_id)
        .where(Share.engagement_id.in_(with_blocks), Share.client_id == client.id,
               Engagement.kind == "annual_accounts",
               Share.state.in_(VISIBLE_SHARE_STATES)).distinct()))


# --- client insights -----------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesSource:
    series: Series
    uploads: int
    last_upload: datetime | None


@dataclass
class MonthlySeries:
    name: str
    kind: str
    values: dict[tuple[int, int], Decimal]  # (year, month) -> amount
    source: str = CLIENT_CSV  # or TRIAL_BALANCE: monthly trial balances of the bookkeeping


@dataclass
class InsightsPage:
    client: Client
    first: int
    last: int
    available: list[int]  # every year with figures, newest first
    annual: dict[int, Year]
    series: list[SeriesSource]
    monthly: list[MonthlySeries]  # the client's series, then the bookkeeping's revenue
    blocks: list[str]

    @property
    def years(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def annual_years(self) -> list[Year]:
        return [self.annual[y] for y in self.years if self.annual[y].has_figures]

    @property
    def has_anything(self) -> bool:
        return bool(self.annual_years or any(s.values for s in self.monthly))

    def trend(self, figures: Sequence[rgs.Figure]) -> tuple[list[str], list[tuple[str, list]]]:
        years = self.annual_years
        return ([str(y.year) for y in years],
                [(str(f.label), [y[f] for y in years]) for f in figures])

    def debts_trend(self) -> tuple[list[str], list[tuple[str, list]]]:
        years = self.annual_years
        debts = [y[rgs.PROVISIONS] + y[rgs.LONG_TERM_DEBT] + y[rgs.CURRENT_LIABILITIES]
                 for y in years]
        return ([str(y.year) for y in years],
                [(str(rgs.EQUITY.label), [y[rgs.EQUITY] for y in years]),
                 (str(_l("Provisions and debts")), debts),
                 (str(rgs.CASH.label), [y[rgs.CASH] for y in years])])

    def ratio_trend(self) -> tuple[list[str], list[tuple[str, list]]]:
        years = self.annual_years
        chosen = [r for r in rgs.RATIOS if r.unit == "percent"]
        return ([str(y.year) for y in years],
                [(str(r.label), [y.ratio(r) for y in years]) for r in chosen])

    def ratio_rows(self) -> list[tuple[rgs.Ratio, list[Decimal | None]]]:
        return [(r, [y.ratio(r) for y in self.annual_years]) for r in rgs.RATIOS]

    @cached_property
    def months(self) -> list[tuple[int, int]]:
        """The months of the period that any monthly series has a value in, and those
        between them."""
        seen = sorted({key for s in self.monthly for key in s.values})
        if not seen:
            return []
        (y, m), end = seen[0], seen[-1]
        months = []
        while (y, m) <= end:
            months.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return months

    @cached_property
    def by_quarter(self) -> bool:
        """More than three years of months read better, on a phone too, as quarters."""
        return len(self.months) > QUARTERS_AFTER

    def _step(self, year: int, month: int) -> tuple[int, int]:
        return (year, (month - 1) // 3 + 1) if self.by_quarter else (year, month)

    @cached_property
    def steps(self) -> list[tuple[int, int]]:
        """The months, or the quarters, of the monthly charts."""
        return list(dict.fromkeys(self._step(y, m) for y, m in self.months))

    @cached_property
    def step_labels(self) -> list[str]:
        if self.by_quarter:
            return [str(_l("Q%(quarter)d %(year)d", quarter=q, year=y)) for y, q in self.steps]
        return [format_date(date(y, m, 1), "MMM y") for y, m in self.steps]

    def _per_step(self, series: MonthlySeries) -> dict[tuple[int, int], Decimal]:
        if not self.by_quarter:
            return series.values
        values: dict[tuple[int, int], Decimal] = {}
        for (y, m), amount in sorted(series.values.items()):
            key = self._step(y, m)
            # A balance is where the quarter ends; revenue and costs add up.
            values[key] = amount if series.kind in BALANCE_KINDS else (
                values.get(key, ZERO) + amount)
        return values

    def monthly_chart(self, kinds: Sequence[str]) -> list[tuple[str, list[Decimal | None]]]:
        steps = self.steps
        result = []
        for s in self.monthly:
            if s.kind in kinds and s.values:
                values = self._per_step(s)
                name = str(_l("%(name)s (CSV)", name=s.name)) if s.source == CLIENT_CSV \
                    else s.name
                result.append((name, [values.get(key) for key in steps]))
        return result

    def cash_chart(self) -> list[tuple[str, list[Decimal | None]]]:
        """Bank balance series, with the annual accounts' cash at each year end."""
        series = self.monthly_chart(("bank_balance",))
        if not series:
            return []
        year_end = self._step(0, 12)[1]
        cash = [self.annual[y][rgs.CASH] if step == year_end and y in self.annual
                and self.annual[y].has_figures else None for y, step in self.steps]
        if any(v is not None for v in cash):
            series.append((str(_l("Cash at year end (annual accounts)")), cash))
        return series

    def revenue_by_year(self) -> tuple[list[str], list[tuple[str, list]]]:
        """Revenue in the annual accounts next to the client's own revenue series, for the
        years those series cover in full: how much of the revenue the till or webshop
        figures account for."""
        own = [s for s in self.monthly if s.kind == "revenue" and s.source == CLIENT_CSV]
        years = [y for y in self.years if self.annual[y].has_figures and own
                 and all(len({m for (yy, m) in s.values if yy == y}) == 12 for s in own)]
        if not years:
            return [], []
        return [str(y) for y in years], [
            (str(_l("Revenue (annual accounts)")), [self.annual[y][rgs.REVENUE] for y in years]),
            (str(_l("Revenue in your own figures")), [
                sum((v for s in own for (yy, _m), v in s.values.items() if yy == y), ZERO)
                for y in years])]


def insights_page(session: Session, client: Client, first: int | None, last: int | None,
                  blocks: Iterable[str]) -> InsightsPage:
    """The client insights of a period of years (by default the last three with figures)."""
    available = years_with_figures(session, client.id)
    newest = available[0] if available else None
    last = last if last is not None else newest
    if last is None:
        from portal.clock import now

        last = now().year
    first = first if first is not None else last - 2
    first, last = min(first, last), max(first, last)
    first = max(first, last - 19)  # twenty years at most on one page
    annual = annual_years(session, client.id, range(first, last + 1))
    sources = _series_sources(session, client.id)
    wanted = set(blocks)
    return InsightsPage(client, first, last, available, annual, sources,
                        _monthly(session, client.id, [s.series for s in sources], first, last),
                        [b for b in INSIGHT_BLOCKS if b in wanted])


def _series_sources(session: Session, client_id: int) -> list[SeriesSource]:
    uploads = {series_id: (count, latest) for series_id, count, latest in session.execute(
        select(FigureImport.series_id, func.count(), func.max(FigureImport.created_at))
        .where(FigureImport.client_id == client_id, FigureImport.series_id.is_not(None))
        .group_by(FigureImport.series_id))}
    return [SeriesSource(s, *uploads.get(s.id, (0, None))) for s in session.scalars(
        select(Series).where(Series.client_id == client_id).order_by(Series.name))]


def _monthly(session: Session, client_id: int, series: list[Series], first: int, last: int
             ) -> list[MonthlySeries]:
    """The client's series by month, and the revenue of monthly trial balances."""
    by_id = {s.id: s for s in series}
    own: dict[int, MonthlySeries] = {}
    booked: dict[tuple[int, int], Decimal] = {}
    rows = session.execute(
        select(Figure.series_id, Figure.year, Figure.month, func.sum(Figure.amount))
        .where(Figure.client_id == client_id, Figure.year.between(first, last),
               Figure.month.is_not(None),
               Figure.series_id.is_not(None) | Figure.code.startswith(REVENUE_CODE))
        .group_by(Figure.series_id, Figure.year, Figure.month))
    for series_id, year, month, amount in rows:
        if series_id is None:  # revenue in a monthly trial balance: a credit
            booked[(year, month)] = -Decimal(amount)
        elif series_id in by_id:
            entry = own.setdefault(series_id, MonthlySeries(by_id[series_id].name,
                                                            by_id[series_id].kind, {}))
            entry.values[(year, month)] = Decimal(amount)
    result = [own[s.id] for s in series if s.id in own]
    if booked:
        result.append(MonthlySeries(str(_l("Revenue (bookkeeping)")), "revenue", booked,
                                    TRIAL_BALANCE))
    return result
