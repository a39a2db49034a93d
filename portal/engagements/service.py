"""Rules about engagements: creating them, their status, and the morning overview."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal import audit
from portal.accounts.models import StaffUser
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients.models import Client
from portal.clients.service import Selection, SelectionChanged, selection_stamp
from portal.clock import now
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


# --- the same work for many clients ("jaarrekening 2026 voor deze selectie") ------------

NAMES_SHOWN = 50  # the preview names this many of the clients that get the work
_CHUNK = 1_000    # rows per INSERT statement
CREATE, EXISTS, INACTIVE = "create", "exists", "inactive"


def months_after_year_end(year: int, months: int) -> date:
    """The last day of the month that is `months` after 31 December of `year`: 5 after
    2026 is 31 May 2027, 2 after 2027 is 29 February 2028."""
    following = year * 12 + 12 + months  # the month after that one, counted in months
    first_of_following = date(following // 12, following % 12 + 1, 1)
    return first_of_following - timedelta(days=1)


@dataclass(frozen=True)
class NewWork:
    """What each selected client gets: one engagement of this kind and year."""

    kind: str
    year: int
    title: str | None = None
    deadline: date | None = None
    responsible_id: int | None = None

    def same_work(self) -> list[ColumnElement[bool]]:
        """A client has this work already with an engagement of the same kind and year;
        for other work, also of the same title (a VAT return Q1 is not Q2)."""
        found = [Engagement.kind == self.kind, Engagement.year == self.year]
        if self.kind == "other":
            found.append(func.lower(Engagement.title) == (self.title or "").lower())
        return found

    @property
    def label(self) -> str:
        """As the engagements will be called (see Engagement.label)."""
        if self.kind == "other" and self.title:
            return f"{self.title} {self.year}"
        return f"{KINDS[self.kind]} {self.year}"

    def key(self) -> tuple[str, ...]:
        return (self.kind, str(self.year), self.title or "", str(self.deadline or ""),
                str(self.responsible_id or ""))


@dataclass
class ManyPreview:
    work: NewWork
    creating: int
    existing: int   # have this work already: skipped
    inactive: int   # blocked or ended: left out
    names: list[str]  # the first NAMES_SHOWN clients that get it, by name
    stamp: str      # what the creation checks: the same clients, with the same outcome

    @property
    def selected(self) -> int:
        return self.creating + self.existing + self.inactive

    @property
    def skipped(self) -> int:
        return self.existing + self.inactive


def _outcomes(session: Session, practice_id: int, selection: Selection, work: NewWork, *,
              lock: bool = False) -> list[tuple[int, str, str]]:
    """Each selected client's id, name and what creating the work does for it. Two
    statements whatever the number of clients; with `lock` the clients are locked first,
    so (on PostgreSQL) the look for existing work sees every transaction before ours."""
    query = selection.query(practice_id).with_only_columns(Client.id, Client.name,
                                                           Client.status)
    clients = session.execute(query.with_for_update(of=Client) if lock else query).all()
    if not clients:
        return []
    has_it = set(session.scalars(select(Engagement.client_id).where(
        Engagement.practice_id == practice_id, *work.same_work(),
        Engagement.client_id.in_(selection.query(practice_id).with_only_columns(Client.id)))))
    return [(cid, name, INACTIVE if status != "active" else EXISTS if cid in has_it
             else CREATE) for cid, name, status in clients]


def _stamp(outcomes: list[tuple[int, str, str]], work: NewWork) -> str:
    return selection_stamp((cid, outcome, *work.key()) for cid, _name, outcome in outcomes)


def preview_many(session: Session, practice_id: int, selection: Selection, work: NewWork
                 ) -> ManyPreview:
    """What creating the work for every selected client would do, before it is done: one
    engagement each, none for a client that has it already (never two of the same kind and
    year) and none for a blocked or ended client (nothing new starts there)."""
    outcomes = _outcomes(session, practice_id, selection, work)
    counts = Counter(outcome for _cid, _name, outcome in outcomes)
    names = heapq.nsmallest(NAMES_SHOWN, (name for _cid, name, outcome in outcomes
                                          if outcome == CREATE), key=str.casefold)
    return ManyPreview(work, counts[CREATE], counts[EXISTS], counts[INACTIVE], names,
                       _stamp(outcomes, work))


def create_many(session: Session, actor: Actor, selection: Selection, work: NewWork,
                stamp: str) -> tuple[int, int]:
    """Create the work for exactly the confirmed clients, in one transaction with one audit
    event each; returns (created, skipped). Raises SelectionChanged, and creates nothing,
    when the clients or which of them get the work are no longer what was confirmed."""
    with transaction(session):
        outcomes = _outcomes(session, actor.practice_id, selection, work, lock=True)
        if _stamp(outcomes, work) != stamp:
            raise SelectionChanged()
        moment = now()
        rows = [{"practice_id": actor.practice_id, "client_id": cid, "kind": work.kind,
                 "year": work.year, "title": work.title, "deadline": work.deadline,
                 "responsible_id": work.responsible_id, "status": "draft",
                 "created_at": moment, "updated_at": moment}
                for cid, _name, outcome in outcomes if outcome == CREATE]
        table = Engagement.__table__
        made: list[Any] = []
        for start in range(0, len(rows), _CHUNK):
            made += session.execute(insert(table).returning(table.c.id, table.c.client_id),
                                    rows[start:start + _CHUNK]).all()
        audit.record_many(session, actor, "engagement.created", [
            (Subject("engagements", eid, cid), {"kind": work.kind, "year": work.year,
                                                "bulk": True})
            for eid, cid in made])
    return len(made), len(outcomes) - len(made)


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
