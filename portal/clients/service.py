"""Rules about client companies: finding them, their details, their tier, their contacts."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.accounts import links
from portal.accounts.models import ClientUser, Membership
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients import tiers
from portal.clients.models import STATUSES, Client
from portal.clock import now
from portal.db import ContainsText, transaction
from portal.paging import PAGE_SIZE, Page, clamp

SORTS = {
    "name": Client.name,
    "number": Client.client_number,
    "tier": Client.tier,
    "created": Client.created_at,
}


class NotAllowed(Exception):
    """The rule says no; the message says why, for the person who asked."""


class SelectionChanged(Exception):
    """The clients a bulk step would touch are not the ones that were confirmed."""


@dataclass(frozen=True)
class ClientFilter:
    """What the clients overview shows: a search, a tier and status, an order."""

    q: str = ""
    tier: str | None = None
    status: str | None = None
    sort: str = "name"
    descending: bool = False

    def conditions(self, practice_id: int, *, with_tier: bool = True
                   ) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [Client.practice_id == practice_id]
        term = self.q.strip()
        if term:
            found.append(or_(*(ContainsText(column, term) for column in (
                Client.name, Client.client_number, Client.kvk_number, Client.contact_email))))
        if with_tier and self.tier in tiers.TIERS:
            found.append(Client.tier == self.tier)
        if self.status:
            found.append(Client.status == self.status)
        return found

    @classmethod
    def from_args(cls, args: Any) -> ClientFilter:
        """The filter in a query string or form (the overview's search, tier, status and
        order; anything else is ignored)."""
        status = args.get("status")
        return cls(q=args.get("q", "")[:100], tier=args.get("tier") or None,
                   status=status if status in STATUSES else None,
                   sort=args.get("sort", "name"), descending=args.get("desc") == "1")

    def order(self) -> list[Any]:
        column = SORTS.get(self.sort, Client.name)
        first = column.desc() if self.descending else column.asc()
        return [first, Client.id]

    def args(self) -> dict[str, str]:
        """As query-string arguments, for links that keep the filter."""
        values = {"q": self.q, "tier": self.tier or "", "status": self.status or "",
                  "sort": self.sort, "desc": "1" if self.descending else ""}
        return {k: v for k, v in values.items() if v and not (k == "sort" and v == "name")}


def overview(session: Session, practice_id: int, flt: ClientFilter, page: int) -> Page:
    """One page of clients, the number that match, and per tier how many match the search.
    The total follows from the counts per tier, which saves the search a second scan."""
    found = dict(session.execute(
        select(Client.tier, func.count()).where(*flt.conditions(practice_id, with_tier=False))
        .group_by(Client.tier)).all())
    counts = {t: found.get(t, 0) for t in tiers.TIERS}
    total = counts[flt.tier] if flt.tier in tiers.TIERS else sum(counts.values())
    page = clamp(page, total)
    rows = list(session.scalars(select(Client).where(*flt.conditions(practice_id))
                                .order_by(*flt.order())
                                .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(rows, total, page, counts=counts)


def tier_counts(session: Session, practice_id: int) -> dict[str, int]:
    """Number of clients per tier, every tier present (zero when none)."""
    counts = dict(session.execute(select(Client.tier, func.count())
                                  .where(Client.practice_id == practice_id)
                                  .group_by(Client.tier)).all())
    return {t: counts.get(t, 0) for t in tiers.TIERS}


def create_client(session: Session, actor: Actor, values: dict[str, Any]) -> Client:
    with transaction(session):
        _check_unique_number(session, actor.practice_id, values["client_number"], None)
        client = Client(practice_id=actor.practice_id, **values)
        session.add(client)
        session.flush()
        audit.record(session, actor, "client.created", client, name=client.name,
                     tier=client.tier)
    return client


def update_details(session: Session, actor: Actor, client: Client,
                   values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Change a client's details; returns what changed (old, new), which is audited."""
    with transaction(session):
        _check_unique_number(session, client.practice_id, values["client_number"], client.id)
        changed = {k: (getattr(client, k), v) for k, v in values.items()
                   if getattr(client, k) != v}
        for key, (_, new) in changed.items():
            setattr(client, key, new)
        if changed:
            audit.record(session, actor, "client.updated", client,
                         changes={k: list(v) for k, v in changed.items()})
    return changed


def number_taken(session: Session, practice_id: int, number: str, own_id: int | None) -> bool:
    """Client numbers are unique within a practice."""
    taken = session.scalar(select(Client.id).where(
        Client.practice_id == practice_id, Client.client_number == number))
    return taken is not None and taken != own_id


def _check_unique_number(session: Session, practice_id: int, number: str,
                         own_id: int | None) -> None:
    if number_taken(session, practice_id, number, own_id):
        raise NotAllowed(number)


def change_tier(session: Session, actor: Actor, client: Client, tier: str) -> list[str]:
    """A tier covers every service of the client. A downgrade hides features and stops the
    portal login for this company; it never deletes data. Returns the features lost."""
    if tier not in tiers.TIERS:
        raise NotAllowed(tier)
    lost = tiers.lost_on_change(client.tier, tier)
    if tier == client.tier:
        return []
    with transaction(session):
        old, client.tier = client.tier, tier
        audit.record(session, actor, "client.tier_changed", client, old=old, new=tier)
    return lost


# --- bulk change ("selectiemodus voor mutatie") ---------------------------------------

@dataclass(frozen=True)
class Selection:
    """Clients chosen on the overview: ticked ones, or every one matching a filter."""

    ids: tuple[int, ...] = ()
    matching: ClientFilter | None = None

    @classmethod
    def from_form(cls, form: Any) -> Selection | None:
        """The overview's selection as its form posts it: "all that match" with the filter,
        or the ticked clients; None when nothing is chosen."""
        if form.get("all_matching") == "1":
            return cls(matching=ClientFilter.from_args(form))
        # Row ids only: ASCII digits that fit an INTEGER column (not "²", not 10,000 digits).
        ids = tuple(int(v) for v in form.getlist("client_id")
                    if v.isascii() and v.isdigit() and int(v[:12]) < 2**31)
        return cls(ids=ids) if ids else None

    def query(self, practice_id: int) -> Select[Any]:
        if self.matching is not None:
            return select(Client.id, Client.tier).where(*self.matching.conditions(practice_id))
        return select(Client.id, Client.tier).where(Client.practice_id == practice_id,
                                                    Client.id.in_(self.ids))


def selection_stamp(rows: Iterable[tuple[Any, ...]]) -> str:
    """A short fingerprint of the rows a bulk step was confirmed for.

    The confirmation page carries it, and the step runs only if the rows are still the same:
    a client added, changed or removed in another tab meanwhile makes it differ.
    """
    digest = hashlib.sha256()
    for row in sorted(rows):
        digest.update(("\x1f".join(str(v) for v in row) + "\n").encode())
    return digest.hexdigest()[:32]


@dataclass
class BulkPreview:
    tier: str
    by_old_tier: dict[str, int]   # clients that change, per tier they have now
    unchanged: int                # already on the chosen tier
    monthly_before: Decimal
    monthly_after: Decimal
    stamp: str                    # what apply checks: the same clients, on the same tiers

    @property
    def changing(self) -> int:
        return sum(self.by_old_tier.values())

    @property
    def monthly_effect(self) -> Decimal:
        return self.monthly_after - self.monthly_before


def bulk_preview(session: Session, practice_id: int, selection: Selection, tier: str,
                 prices: dict[str, Decimal]) -> BulkPreview:
    """What a bulk tier change would do, before it is done."""
    selected = [tuple(row) for row in session.execute(selection.query(practice_id))]
    counts = Counter(t for _, t in selected)
    unchanged = counts.pop(tier, 0)
    before = sum((prices[t] * n for t, n in counts.items()), Decimal("0"))
    after = prices[tier] * sum(counts.values())
    return BulkPreview(tier, {t: counts[t] for t in tiers.TIERS if counts.get(t)}, unchanged,
                       before, after, selection_stamp(selected))


def bulk_change_tier(session: Session, actor: Actor, selection: Selection, tier: str,
                     stamp: str) -> int:
    """Change the tier of exactly the confirmed clients in one transaction, one audit event
    each; raises SelectionChanged (and changes nothing) if they are no longer those."""
    if tier not in tiers.TIERS:
        raise NotAllowed(tier)
    with transaction(session):
        selected = [tuple(row) for row in session.execute(
            selection.query(actor.practice_id).with_for_update())]
        if selection_stamp(selected) != stamp:
            raise SelectionChanged()
        rows = [(cid, old) for cid, old in selected if old != tier]
        ids = [cid for cid, _ in rows]
        moment = now()
        for start in range(0, len(ids), 1000):
            session.execute(update(Client).where(Client.id.in_(ids[start:start + 1000]))
                            .values(tier=tier, updated_at=moment)
                            .execution_options(synchronize_session=False))
        audit.record_many(session, actor, "client.tier_changed", [
            (Subject("clients", cid, cid), {"old": old, "new": tier, "bulk": True})
            for cid, old in rows])
    return len(rows)


# --- contact persons (client users) ----------------------------------------------------

def contacts(session: Session, client: Client) -> list[tuple[Membership, ClientUser]]:
    return list(session.execute(
        select(Membership, ClientUser).join(ClientUser, ClientUser.id == Membership.client_user_id)
        .where(Membership.client_id == client.id).order_by(Membership.role.desc(),
                                                            ClientUser.name)).tuples())


def may_add_contact(client: Client, current: int) -> bool:
    """One contact person is included in every tier; more only where extra users exist."""
    return current < tiers.INCLUDED_USERS or tiers.has(client, "extra_users")


def add_contact(session: Session, actor: Actor, practice: Any, client: Client, *, email: str,
                name: str, locale: str | None = None, position: str | None = None
                ) -> ClientUser:
    """Add a contact person to a company. Where the tier has the portal, they get an
    invitation to set a password (or, with a password already, word of the new company)."""
    email = email.strip().lower()
    with transaction(session):
        current = session.scalar(select(func.count()).select_from(Membership)
                                 .where(Membership.client_id == client.id)) or 0
        if not may_add_contact(client, current):
            raise NotAllowed("extra_users")
        user = session.scalar(select(ClientUser).where(ClientUser.practice_id == client.practice_id,
                                                       ClientUser.email == email))
        if user is None:
            user = ClientUser(practice_id=client.practice_id, email=email, name=name,
                              locale=locale)
            session.add(user)
            session.flush()
        elif session.scalar(select(Membership.id).where(Membership.client_user_id == user.id,
                                                        Membership.client_id == client.id)):
            raise NotAllowed("already")
        membership = Membership(client_user_id=user.id, client_id=client.id,
                                role="owner" if current == 0 else "member",
                                position=position or None)
        session.add(membership)
        if current == 0 and not client.contact_email:
            client.contact_name, client.contact_email = name, email
        audit.record(session, actor, "client.contact_added", client, email=email,
                     role=membership.role)
        if tiers.has(client, "portal"):
            invite(session, practice, client, user)
    return user


def set_position(session: Session, actor: Actor, client: Client, membership: Membership,
                 position: str | None) -> bool:
    """Record a contact person's office at the company; False when it was that already."""
    position = position or None
    if membership.position == position:
        return False
    with transaction(session):
        membership.position = position
        audit.record(session, actor, "client.contact_position", client,
                     membership=membership.id, position=position)
    return True


def invite(session: Session, practice: Any, client: Client, user: ClientUser) -> None:
    """Mail a contact person the way into the portal (or word of another company)."""
    if user.password_hash:
        mail = notifications.Mail(
            to=user.email, to_name=user.name, kind="contact_added", locale=user.locale,
            context={"client_name": client.name,
                     "link": notifications.practice_url(practice, "home.index")})
    else:
        token = links.issue(session, practice_id=practice.id, purpose="client_invite",
                            email=user.email, subject=("client_users", user.id))
        mail = notifications.Mail(
            to=user.email, to_name=user.name, kind="client_invite", locale=user.locale,
            context={"client_name": client.name, "welcome_text": practice.welcome_text,
                     "link": notifications.practice_url(practice, "home.accept_invitation",
                                                        token=token)})
    notifications.enqueue(session, practice, mail)


def remove_contact(session: Session, actor: Actor, client: Client,
                   membership: Membership) -> None:
    """The person no longer reaches this company; their sessions end at once."""
    with transaction(session):
        user = session.get(ClientUser, membership.client_user_id)
        session.execute(delete(Membership).where(Membership.id == membership.id))
        session.execute(update(ClientUser).where(ClientUser.id == membership.client_user_id)
                        .values(session_version=ClientUser.session_version + 1))
        remaining = session.scalar(select(func.count()).select_from(Membership).where(
            Membership.client_user_id == membership.client_user_id)) or 0
        if not remaining:  # an open invitation leads nowhere now
            links.revoke(session, subject=("client_users", membership.client_user_id),
                         purpose="client_invite")
        audit.record(session, actor, "client.contact_removed", client,
                     email=user.email if user else None)
