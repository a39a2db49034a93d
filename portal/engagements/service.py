"""Rules about engagements: creating them, their status, and the morning overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal import audit
from portal.accounts.models import StaffUser
from portal.audit import Actor
from portal.clients.models import Client
from portal.db import transaction
from portal.engagements.models import (
    KINDS,
    MANUAL_STATUSES,
    OPEN,
    STATUSES,
    URGENCY,
    Engagement,
)
from portal.paging import PAGE_SIZE, Page, clamp


class NotAllowed(Exception):
    """The rule says no; the message says why."""


@dataclass(frozen=True)
class EngagementFilter:
    status: str | None = None
    kind: str | None = None
    year: int | None = None
    tier: str | None = None
    responsible: int | None = None  # a staff user's id; 0 means "nobody"
    overdue: bool = False
    client_id: int | None = None

    def conditions(self, practice_id: int, today: date, *, with_status: bool = True
                   ) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [Engagement.practice_id == practice_id]
        if with_status and self.status in STATUSES:
            found.append(Engagement.status == self.status)
        if self.kind in KINDS:
            found.append(Engagement.kind == self.kind)
        if self.year:
            found.append(Engagement.year == self.year)
        if self.tier:
            found.append(Client.tier == self.tier)
        if self.responsible == 0:
            found.append(Engagement.responsible_id.is_(None))
        elif self.responsible:
            found.append(Engagement.responsible_id == self.responsible)
        if self.overdue:
            found.append(Engagement.deadline < today)
            found.append(Engagement.status.in_(OPEN))
        if self.client_id:
            found.append(Engagement.client_id == self.client_id)
        return found

    def args(self) -> dict[str, Any]:
        values = {"status": self.status, "kind": self.kind, "year": self.year,
                  "tier": self.tier, "responsible": self.responsible,
                  "overdue": "1" if self.overdue else None}
        return {k: v for k, v in values.items() if v not in (None, "")}


def overview(session: Session, practice_id: int, flt: EngagementFilter, page: int,
             today: date) -> Page:
    """A page of engagements, most urgent deadline first, and the count per status. The
    client is joined only when the filter needs it; the page's rows come in the order of
    an index, so a practice of any size answers quickly. The total follows from the counts
    per status, which saves a second scan."""
    def scoped(query, *, with_status: bool = True):  # type: ignore[no-untyped-def]
        if flt.tier:
            query = query.join(Client, Client.id == Engagement.client_id)
        return query.where(*flt.conditions(practice_id, today, with_status=with_status))

    found = dict(session.execute(
        scoped(select(Engagement.status, func.count()), with_status=False)
        .group_by(Engagement.status)).all())
    counts = {s: found.get(s, 0) for s in STATUSES}
    total = counts[flt.status] if flt.status in STATUSES else sum(counts.values())
    page = clamp(page, total)
    rows = list(session.scalars(
        scoped(select(Engagement))
        .options(selectinload(Engagement.client), joinedload(Engagement.responsible))
        .order_by(*URGENCY).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(rows, total, page, PAGE_SIZE, counts)


def of_client(session: Session, client: Client) -> list[Engagement]:
    return list(session.scalars(
        select(Engagement).where(Engagement.client_id == client.id)
        .options(joinedload(Engagement.responsible))
        .order_by(Engagement.year.desc(), Engagement.kind, Engagement.id)))


def create(session: Session, actor: Actor, client: Client, values: dict[str, Any]
           ) -> Engagement:
    with transaction(session):
        engagement = Engagement(practice_id=client.practice_id, client_id=client.id,
                                status="draft", **values)
        session.add(engagement)
        session.flush()
        audit.record(session, actor, "engagement.created", engagement, kind=engagement.kind,
                     year=engagement.year)
    return engagement


def update(session: Session, actor: Actor, engagement: Engagement, values: dict[str, Any]
           ) -> dict[str, tuple[Any, Any]]:
    """Change deadline, responsible, title or (by hand: draft, in preparation, closed)
    status. Shared, awaiting approval, approved and rejected follow from sharing."""
    new_status = values.get("status", engagement.status)
    if new_status != engagement.status and (
            new_status not in MANUAL_STATUSES or engagement.status in ("shared",
                                                                         "awaiting_approval")):
        raise NotAllowed(new_status)
    with transaction(session):
        changed = {k: (getattr(engagement, k), v) for k, v in values.items()
                   if getattr(engagement, k) != v}
        for key, (_, new) in changed.items():
            setattr(engagement, key, new)
        if changed:
            audit.record(session, actor, "engagement.updated", engagement,
                         changes={k: [str(a) if a is not None else None,
                                      str(b) if b is not None else None]
                                  for k, (a, b) in changed.items()})
    return changed


def responsible_choices(session: Session, practice_id: int) -> list[tuple[int, str]]:
    """Who can be responsible: the practice's active staff (0: nobody yet)."""
    staff = session.execute(select(StaffUser.id, StaffUser.name).where(
        StaffUser.practice_id == practice_id, StaffUser.active.is_(True))
        .order_by(StaffUser.name)).all()
    return [(0, str(_l("Nobody yet")))] + [(sid, name) for sid, name in staff]


@dataclass
class MorningSummary:
    by_status: dict[str, int]
    overdue: int
    due_soon: list[Engagement]


def morning_summary(session: Session, practice_id: int, today: date) -> MorningSummary:
    """What an accountant wants to know first: where work stands and what is late."""
    by_status = dict(session.execute(
        select(Engagement.status, func.count()).where(Engagement.practice_id == practice_id)
        .group_by(Engagement.status)).all())
    overdue = session.scalar(select(func.count()).select_from(Engagement).where(
        Engagement.practice_id == practice_id, Engagement.deadline < today,
        Engagement.status.in_(OPEN))) or 0
    due_soon = list(session.scalars(
        select(Engagement).join(Client, Client.id == Engagement.client_id)
        .where(Engagement.practice_id == practice_id, Engagement.deadline.is_not(None),
               Engagement.status.in_(OPEN))
        .options(contains_eager(Engagement.client), joinedload(Engagement.responsible))
        .order_by(Engagement.deadline, Engagement.id).limit(10)))
    return MorningSummary({s: by_status.get(s, 0) for s in STATUSES}, overdue, due_soon)
