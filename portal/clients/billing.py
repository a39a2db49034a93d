"""The monthly statement: billable clients per tier times the price, plus extra contacts.

A client is billable for a month when it was a client at some point in that month: added
before the month ended and not ended (ended clients drop out). Prices are configuration
(PORTAL_PRICE_*), defaulting to the product's list prices.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import ClientUser, Membership
from portal.clients import tiers
from portal.clients.models import Client

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class ClientLine:
    client_id: int
    number: str
    name: str
    tier: str
    price: Decimal
    extra_users: int
    extra_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.price + self.extra_amount


@dataclass(frozen=True)
class TierLine:
    tier: str
    clients: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.price * self.clients


@dataclass(frozen=True)
class Statement:
    month: date
    tiers: list[TierLine]
    extra_users: int
    extra_user_price: Decimal
    clients: list[ClientLine]

    @property
    def extra_amount(self) -> Decimal:
        return self.extra_user_price * self.extra_users

    @property
    def total(self) -> Decimal:
        return sum((t.amount for t in self.tiers), Decimal("0")) + self.extra_amount


def prices_from(config: dict) -> tuple[dict[str, Decimal], Decimal]:  # type: ignore[type-arg]
    per_tier = {t: Decimal(str(config.get(f"PRICE_{t.upper()}", tiers.DEFAULT_PRICES[t])))
                for t in tiers.TIERS}
    return per_tier, Decimal(str(config.get("PRICE_EXTRA_USER", tiers.EXTRA_USER_PRICE)))


def month_end(month: date) -> datetime:
    """The first moment after the month, in Amsterdam time, as an aware datetime."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(following, time(), AMSTERDAM)


def statement(session: Session, practice_id: int, month: date,
              prices: dict[str, Decimal], extra_user_price: Decimal) -> Statement:
    month = month.replace(day=1)
    contacts = (select(Membership.client_id, func.count().label("users"))
                .join(ClientUser, and_(ClientUser.id == Membership.client_user_id,
                                       ClientUser.active.is_(True)))
                .group_by(Membership.client_id).subquery())
    rows = session.execute(
        select(Client.id, Client.client_number, Client.name, Client.tier,
               func.coalesce(contacts.c.users, 0))
        .outerjoin(contacts, contacts.c.client_id == Client.id)
        .where(Client.practice_id == practice_id, Client.status != "ended",
               Client.created_at < month_end(month))
        .order_by(Client.client_number)
    ).all()
    lines = []
    for client_id, number, name, tier, users in rows:
        extra = max(users - tiers.INCLUDED_USERS, 0) if tiers.has(tier, "extra_users") else 0
        lines.append(ClientLine(client_id, number, name, tier, prices[tier], extra,
                                extra_user_price * extra))
    per_tier = [TierLine(t, sum(1 for line in lines if line.tier == t), prices[t])
                for t in tiers.TIERS]
    return Statement(month, per_tier, sum(line.extra_users for line in lines),
                     extra_user_price, lines)


def cell(text: str) -> str:
    """A spreadsheet must not run a client's name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(statement: Statement) -> str:
    """One line per billable client and a total, for invoicing (semicolons, decimal comma:
    what Dutch spreadsheet programs open without asking)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["month", "client_number", "client", "tier", "price", "extra_users",
                     "extra_users_amount", "total"])
    month = statement.month.strftime("%Y-%m")

    def amount(value: Decimal) -> str:
        return f"{value:.2f}".replace(".", ",")

    for line in statement.clients:
        writer.writerow([month, cell(line.number), cell(line.name), line.tier, amount(line.price),
                         line.extra_users, amount(line.extra_amount), amount(line.total)])
    writer.writerow([month, "", "total", "", "", statement.extra_users,
                     amount(statement.extra_amount), amount(statement.total)])
    return out.getvalue()
