"""The monthly statement: billable clients per tier times the price, plus extra contacts.

A client is billable for a month when it was a client at some point in that month: added
before the month ended and not ended before it began. Clients pay themselves or the practice
pays for them; a newly confirmed client's first days are free. Prices are configuration
(PORTAL_PRICE_*), defaulting to the product's list prices.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from portal import clock
from portal.accounts.models import ClientUser, Membership
from portal.clients import tiers
from portal.clients.models import PAYERS, Client


@dataclass(frozen=True)
class ClientLine:
    client_id: int
    number: str
    name: str
    tier: str
    payer: str  # practice, client
    free: bool  # still in its first free days after confirming online collaboration
    list_price: Decimal
    extra_users: int
    extra_amount: Decimal

    @property
    def price(self) -> Decimal:
        return Decimal("0") if self.free else self.list_price

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
    clients: list[ClientLine]
    prices: dict[str, Decimal]
    extra_user_price: Decimal

    def lines(self, payer: str) -> list[ClientLine]:
        return [line for line in self.clients if line.payer == payer]

    def tiers(self, payer: str) -> list[TierLine]:
        """Per tier, the clients this payer pays for (free ones not counted)."""
        lines = [line for line in self.lines(payer) if not line.free]
        return [TierLine(t, sum(1 for line in lines if line.tier == t), self.prices[t])
                for t in tiers.TIERS]

    def free(self, payer: str) -> int:
        return sum(1 for line in self.lines(payer) if line.free)

    def extra_users(self, payer: str) -> int:
        return sum(line.extra_users for line in self.lines(payer))

    def extra_amount(self, payer: str) -> Decimal:
        return self.extra_user_price * self.extra_users(payer)

    def total(self, payer: str) -> Decimal:
        return sum((line.total for line in self.lines(payer)), Decimal("0"))


def prices_from(config: dict) -> tuple[dict[str, Decimal], Decimal]:  # type: ignore[type-arg]
    per_tier = {t: Decimal(str(config.get(f"PRICE_{t.upper()}", tiers.DEFAULT_PRICES[t])))
                for t in tiers.TIERS}
    return per_tier, Decimal(str(config.get("PRICE_EXTRA_USER", tiers.EXTRA_USER_PRICE)))


def month_start(month: date) -> datetime:
    return datetime.combine(month.replace(day=1), time(), clock.AMSTERDAM)


def month_end(month: date) -> datetime:
    """The first moment after the month, in Amsterdam time, as an aware datetime."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(following, time(), clock.AMSTERDAM)


def statement(session: Session, practice_id: int, month: date,
              prices: dict[str, Decimal], extra_user_price: Decimal,
              free_days: int = 0) -> Statement:
    """Every client that was a client in the month: added before it ended and not ended
    before it began."""
    month = month.replace(day=1)
    contacts = (select(Membership.client_id, func.count().label("users"))
                .join(ClientUser, and_(ClientUser.id == Membership.client_user_id,
                                       ClientUser.active.is_(True)))
                .group_by(Membership.client_id).subquery())
    end = month_end(month)
    rows = session.execute(
        select(Client.id, Client.client_number, Client.name, Client.tier, Client.payer,
               Client.portal_since, func.coalesce(contacts.c.users, 0))
        .outerjoin(contacts, contacts.c.client_id == Client.id)
        .where(Client.practice_id == practice_id, Client.created_at < end,
               or_(Client.ended_at.is_(None), Client.ended_at >= month_start(month)))
        .order_by(Client.client_number)
    ).all()
    lines = []
    for client_id, number, name, tier, payer, since, users in rows:
        extra = max(users - tiers.INCLUDED_USERS, 0) if tiers.has(tier, "extra_users") else 0
        free = since is not None and since + timedelta(days=free_days) >= end
        lines.append(ClientLine(client_id, number, name, tier, payer or "practice", free,
                                prices[tier], extra, extra_user_price * extra))
    return Statement(month, lines, prices, extra_user_price)


def cell(text: str) -> str:
    """A spreadsheet must not run a client's name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(statement: Statement, payer: str | None = None) -> str:
    """One line per billable client and a total, for invoicing (semicolons, decimal comma:
    what Dutch spreadsheet programs open without asking). With a payer: only its clients,
    e.g. "client" for the clients to invoice."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Month"), _("Client number"), _("Client"), _("Tier"), _("Paid by"),
                     _("Free"), _("Price"), _("Extra contact persons"),
                     _("Amount for extra contact persons"), _("Total")])
    month = statement.month.strftime("%Y-%m")
    yes = _("yes")

    def amount(value: Decimal) -> str:
        return f"{value:.2f}".replace(".", ",")

    lines = statement.lines(payer) if payer else statement.clients
    for line in lines:
        writer.writerow([month, cell(line.number), cell(line.name), tiers.LABELS[line.tier],
                         PAYERS[line.payer], yes if line.free else "", amount(line.price),
                         line.extra_users, amount(line.extra_amount), amount(line.total)])
    total = sum((line.total for line in lines), Decimal("0"))
    writer.writerow([month, "", _("Total"), "", PAYERS[payer] if payer else "", "", "",
                     sum(line.extra_users for line in lines),
                     amount(sum((line.extra_amount for line in lines), Decimal("0"))),
                     amount(total)])
    return out.getvalue()
