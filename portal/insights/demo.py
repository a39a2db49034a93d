"""Demo figures: three years of trial balances for every client of a demo practice, a year and
more of an Uitgebreid client's own till, webshop and bank figures, and the blocks shared, so a
new user sees full dashboards and insights at once. Idempotent: a period or series that is
there already is left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.accounts.models import StaffUser
from portal.clients import tiers
from portal.clients.models import Client
from portal.clock import today as today_in_amsterdam
from portal.engagements.models import Engagement
from portal.insights.dashboard import DASHBOARD_BLOCKS, INSIGHT_BLOCKS
from portal.insights.models import (
    TRIAL_BALANCE,
    AccountMapping,
    Figure,
    FigureImport,
    Series,
    SharedBlocks,
)
from portal.insights.service import slot

YEARS = (2023, 2024, 2025)
CENT = Decimal("0.01")

# (account, description, RGS code): a small Dutch chart of accounts.
ACCOUNTS = {
    "fixtures": ("0100", "Inventaris", "BMvaBei"),
    "vehicles": ("0200", "Bedrijfsauto", "BMvaTev"),
    "stock": ("3000", "Voorraad", "BVrdHan"),
    "debtors": ("1300", "Debiteuren", "BVorDeb"),
    "cash": ("1000", "Kas", "BLimKas"),
    "bank": ("1100", "ING zakelijk", "BLimBan"),
    "equity": ("0500", "Eigen vermogen", "BEivOvr"),
    "loan": ("0700", "Lening Rabobank", "BLasSak"),
    "creditors": ("1600", "Crediteuren", "BSchCre"),
    "vat": ("1700", "Af te dragen btw", "BSchBep"),
    "revenue": ("8000", "Omzet", "WOmzNoh"),
    "purchases": ("7000", "Inkoopwaarde", "WKprInh"),
    "wages": ("4000", "Lonen en salarissen", "WPerLes"),
    "social": ("4010", "Sociale lasten", "WPerSol"),
    "rent": ("4100", "Huur bedrijfspand", "WBedHui"),
    "car": ("4200", "Autokosten", "WBedAut"),
    "selling": ("4300", "Reclame en verkoopkosten", "WBedVkk"),
    "office": ("4400", "Kantoorkosten", "WBedKan"),
    "advice": ("4500", "Accountantskosten", "WBedAea"),
    "depreciation": ("4600", "Afschrijvingen", "WAfsAmv"),
    "interest": ("4900", "Rente lening", "WFbeRls"),
    "tax": ("9000", "Vennootschapsbelasting", "WBelBgr"),
}


@dataclass(frozen=True)
class Profile:
    """The shape of a demo business: revenue in the first year and how it grows."""

    revenue: int
    growth: Decimal
    purchases: Decimal  # share of revenue
    staff: Decimal  # wages as a share of revenue


PROFILES = (
    Profile(640_000, Decimal("0.07"), Decimal("0.36"), Decimal("0.30")),  # bakery
    Profile(1_150_000, Decimal("0.04"), Decimal("0.48"), Decimal("0.24")),  # installer
    Profile(310_000, Decimal("-0.03"), Decimal("0.55"), Decimal("0.18")),  # bicycles
    Profile(420_000, Decimal("0.09"), Decimal("0.22"), Decimal("0.38")),  # gardener
    Profile(180_000, Decimal("0.02"), Decimal("0.12"), Decimal("0.42")),  # hairdresser
    Profile(260_000, Decimal("0.12"), Decimal("0.05"), Decimal("0.20")),  # consultancy
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), ROUND_HALF_UP).quantize(CENT)


def trial_balance(profile: Profile, index: int) -> dict[str, Decimal]:
    """The year's closing trial balance, signed (debit positive), by ACCOUNTS key. The bank
    balance is what makes it balance; equity is the opening equity (the result is in the
    profit and loss accounts)."""
    revenue = _money(profile.revenue * (1 + profile.growth) ** index)
    costs = {
        "purchases": revenue * profile.purchases,
        "wages": revenue * profile.staff,
        "social": revenue * profile.staff * Decimal("0.22"),
        "rent": Decimal(profile.revenue) * Decimal("0.06"),
        "car": Decimal(9_500 + 400 * index),
        "selling": revenue * Decimal("0.02"),
        "office": revenue * Decimal("0.012"),
        "advice": Decimal(6_200 + 250 * index),
        "depreciation": Decimal(profile.revenue) * Decimal("0.025"),
        "interest": Decimal(3_600 - 600 * index),
    }
    costs = {k: _money(v) for k, v in costs.items()}
    before_tax = revenue - sum(costs.values())
    costs["tax"] = _money(max(before_tax, Decimal(0)) * Decimal("0.19"))
    result = before_tax - costs["tax"]
    opening_equity = _money(Decimal(profile.revenue) * Decimal("0.18")
                            + revenue * Decimal("0.05") * index)
    lines = {
        "fixtures": _money(Decimal(profile.revenue) * Decimal("0.10")
                           * (1 - Decimal("0.15") * index)),
        "vehicles": _money(Decimal(24_000 - 5_000 * index)),
        "stock": _money(revenue * profile.purchases * Decimal("0.08")),
        "debtors": _money(revenue * Decimal("0.07")),
        "cash": _money(Decimal(1_200 + 150 * index)),
        "equity": -opening_equity,
        "loan": -_money(Decimal(60_000 - 15_000 * index)),
        "creditors": -_money(revenue * profile.purchases * Decimal("0.09")),
        "vat": -_money(revenue * Decimal("0.035")),
        "revenue": -revenue,
        **costs,
    }
    # The bank is what is left: assets = opening equity + result + debts.
    lines["bank"] = -sum(lines.values(), Decimal(0))
    assert result == -sum((v for k, v in lines.items() if ACCOUNTS[k][2][0] == "W"),
                          Decimal(0))
    return lines


def load(session: Session, practice_id: int, clients: Sequence[Client]) -> None:
    """Figures, series and shared blocks for the clients of a demo practice."""
    staff_label = session.scalar(select(StaffUser.email).where(
        StaffUser.practice_id == practice_id).order_by(StaffUser.id)) or "demo"
    for index, client in enumerate(clients):
        profile = PROFILES[index % len(PROFILES)]
        for number, year in enumerate(YEARS):
            _year(session, practice_id, client, year, trial_balance(profile, number),
                  staff_label)
        _remember_accounts(session, client)
        _share_everything(session, practice_id, client, staff_label)
    own = [c for c in clients if tiers.has(c, "client_insights")]
    if own:
        _own_figures(session, practice_id, own[0], PROFILES[clients.index(own[0])])


def _year(session: Session, practice_id: int, client: Client, year: int,
          lines: dict[str, Decimal], staff_label: str) -> None:
    key = slot(year)
    if session.scalar(select(FigureImport.id).where(FigureImport.client_id == client.id,
                                                    FigureImport.slot == key)):
        return
    engagement_id = session.scalar(select(Engagement.id).where(
        Engagement.client_id == client.id, Engagement.kind == "annual_accounts",
        Engagement.year == year))
    filename = f"proefbalans-{year}.csv"
    record = FigureImport(practice_id=practice_id, client_id=client.id,
                          engagement_id=engagement_id, source=TRIAL_BALANCE, slot=key,
                          year=year, filename=filename,
                          sha256=hashlib.sha256(f"{client.id}:{filename}".encode())
                          .hexdigest(),
                          lines=len(lines), created_by=staff_label)
    session.add(record)
    session.flush()
    session.execute(insert(Figure), [
        {"import_id": record.id, "client_id": client.id, "year": year, "month": None,
         "code": ACCOUNTS[name][2], "series_id": None, "account": ACCOUNTS[name][0],
         "amount": amount} for name, amount in lines.items() if amount])


def _remember_accounts(session: Session, client: Client) -> None:
    known = set(session.scalars(select(AccountMapping.account).where(
        AccountMapping.client_id == client.id)))
    for account, description, code in ACCOUNTS.values():
        if account not in known:
            session.add(AccountMapping(client_id=client.id, account=account, code=code,
                                       description=description))


def _share_everything(session: Session, practice_id: int, client: Client,
                      staff_label: str) -> None:
    scopes: list[tuple[str, int | None, list[str]]] = []
    if tiers.has(client, "share_dashboard"):
        for engagement_id in session.scalars(select(Engagement.id).where(
                Engagement.client_id == client.id, Engagement.kind == "annual_accounts")):
            scopes.append((f"engagement:{engagement_id}", engagement_id,
                           list(DASHBOARD_BLOCKS)))
    if tiers.has(client, "client_insights"):
        scopes.append(("insights", None, list(INSIGHT_BLOCKS)))
    for scope, engagement_id, blocks in scopes:
        if not session.scalar(select(SharedBlocks.id).where(
                SharedBlocks.client_id == client.id, SharedBlocks.scope == scope)):
            session.add(SharedBlocks(practice_id=practice_id, client_id=client.id,
                                     engagement_id=engagement_id, scope=scope, blocks=blocks,
                                     updated_by=staff_label))


# Month by month: the till and the webshop make the year's revenue together (with seasons),
# the bank balance moves with them.
_SEASON = [Decimal(x) for x in ("0.070", "0.068", "0.078", "0.082", "0.086", "0.084",
                                "0.080", "0.076", "0.084", "0.088", "0.094", "0.110")]


def _own_figures(session: Session, practice_id: int, client: Client, profile: Profile
                 ) -> None:
    """Till, webshop and bank figures from January of the last demo year up to last month,
    as the client's own CSVs would bring them: next to the annual accounts of that year."""
    today = today_in_amsterdam()
    months, year, month = [], YEARS[-1], 1
    while (year, month) < (today.year, today.month) or len(months) < 12:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    index = len(YEARS) - 1
    lines = trial_balance(profile, index)
    revenue = -lines["revenue"]
    bank_at_year_end = lines["bank"]

    def grown(year: int) -> Decimal:
        return revenue * (1 + profile.growth) ** (year - YEARS[-1])

    series = {
        ("Kassa", "revenue"): {(y, m): _money(grown(y) * _SEASON[m - 1] * Decimal("0.80"))
                               for y, m in months},
        ("Webshop", "revenue"): {(y, m): _money(grown(y) * _SEASON[m - 1] * Decimal("0.17"))
                                 for y, m in months},
        ("ING zakelijk", "bank_balance"): {
            (y, m): _money(bank_at_year_end * (Decimal("0.78") + Decimal("0.02") * m
                                               + Decimal("0.24") * (y - YEARS[-1]))
                           - (6_000 if m in (1, 7) else 0)) if (y, m) != (YEARS[-1], 12)
            else bank_at_year_end for y, m in months},
    }
    for (name, kind), values in series.items():
        if session.scalar(select(Series.id).where(Series.client_id == client.id,
                                                  Series.name == name)):
            continue
        row = Series(practice_id=practice_id, client_id=client.id, name=name, kind=kind)
        session.add(row)
        session.flush()
        record = FigureImport(practice_id=practice_id, client_id=client.id, series_id=row.id,
                              source="client_csv", year=months[0][0],
                              filename=f"{name.lower().replace(' ', '-')}.csv",
                              lines=len(values), created_by=client.contact_email or "client")
        session.add(record)
        session.flush()
        session.execute(insert(Figure), [
            {"import_id": record.id, "client_id": client.id, "year": y, "month": m,
             "code": None, "series_id": row.id, "account": None, "amount": amount}
            for (y, m), amount in values.items()])
