"""Rules about engagements: creating them, their status, and the morning overview."""

from __future__ import annotations

import copy
import csv
import heapq
import io
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal import audit
from portal.accounts.models import StaffUser
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients.billing import cell
from portal.clients.models import Client
from portal.clients.service import Selection, SelectionChanged, selection_stamp
from portal.clock import now, today
from portal.db import transaction
from portal.engagements.models import (
    KINDS,
    MANUAL_STATUSES,
    OPEN,
    STATUSES,
    URGENCY,
    BulkEngagementBatch,
    Engagement,
)
from portal.notifications import jobs
from portal.paging import PAGE_SIZE, Page, clamp

log = logging.getLogger(__name__)


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


def record_adoption(session: Session, actor: Actor, engagement: Engagement,
                    adopted_on: date, approved_on: date | None) -> None:
    """The general meeting adopted the approved annual accounts on this day: not before
    the approval, not after today."""
    if engagement.kind != "annual_accounts" or engagement.status != "approved":
        raise NotAllowed("not_approved")
    if adopted_on > today() or (approved_on and adopted_on < approved_on):
        raise NotAllowed("date")
    with transaction(session):
        engagement.adopted_on, engagement.adopted_recorded_by = adopted_on, actor.label
        audit.record(session, actor, "engagement.adopted", engagement,
                     adopted_on=adopted_on.isoformat())


def responsible_choices(session: Session, practice_id: int, keep: int | None = None
                        ) -> list[tuple[int, str]]:
    """Who can be responsible: the practice's active staff (0: nobody yet), and `keep`, the
    one who is now, even when their account has been switched off since."""
    staff = session.execute(select(StaffUser.id, StaffUser.name).where(
        StaffUser.practice_id == practice_id,
        or_(StaffUser.active.is_(True), StaffUser.id == (keep or 0)))
        .order_by(StaffUser.name)).all()
    return [(0, str(_l("Nobody yet")))] + [(sid, name) for sid, name in staff]


# --- the same work for many clients ("jaarrekening 2026 voor deze selectie") ------------

NAMES_SHOWN = 50  # the preview names this many of the clients that get the work
_CHUNK = 1_000    # rows per INSERT statement
INLINE_LIMIT = 200  # more engagements than this are created by the worker, with progress
CREATE, EXISTS, INACTIVE = "create", "exists", "inactive"
LEFT_OUT = {EXISTS: _l("Has this engagement already"), INACTIVE: _l("Blocked or ended")}


def months_after_year_end(year: int, months: int) -> date:
    """The last day of the month that is `months` after 31 December of `year`: 5 after
    2026 is 31 May 2027, 2 after 2027 is 29 February 2028."""
    following = year * 12 + 12 + months  # the month after that one, counted in months
    first_of_following = date(following // 12, following % 12 + 1, 1)
    return first_of_following - timedelta(days=1)


@dataclass(frozen=True)
class NewWork:
    """What each selected client gets: one engagement of this kind and year. Its
    responsible is `responsible_id`, or with `own_responsible` each client's own (from the
    client card or the import), `responsible_id` only for the clients without one."""

    kind: str
    year: int
    title: str | None = None
    deadline: date | None = None
    responsible_id: int | None = None
    own_responsible: bool = False

    def same_work(self) -> list[ColumnElement[bool]]:
        """A client has this work already with an engagement of the same kind and year;
        for other work, also of the same title (a VAT return Q1 is not Q2)."""
        found = [Engagement.kind == self.kind, Engagement.year == self.year]
        if self.kind == "other":
            found.append(func.lower(Engagement.title) == (self.title or "").lower())
        return found

    def responsible_for(self, own: int | None) -> int | None:
        """Who is responsible for a client's new engagement, given the client's own."""
        return (own or self.responsible_id) if self.own_responsible else self.responsible_id

    @property
    def label(self) -> str:
        """As the engagements will be called (see Engagement.label)."""
        if self.kind == "other" and self.title:
            return f"{self.title} {self.year}"
        return f"{KINDS[self.kind]} {self.year}"

    def key(self) -> tuple[str, ...]:
        return (self.kind, str(self.year), self.title or "", str(self.deadline or ""),
                str(self.responsible_id or ""), "own" if self.own_responsible else "")


@dataclass
class ManyPreview:
    work: NewWork
    creating: int
    existing: int   # have this work already: skipped
    inactive: int   # blocked or ended: left out
    names: list[str]  # the first NAMES_SHOWN clients that get it, by name
    stamp: str      # what the creation checks: the same clients, with the same outcome
    own_responsible: int = 0  # of those created, how many take the client's own responsible

    @property
    def selected(self) -> int:
        return self.creating + self.existing + self.inactive

    @property
    def skipped(self) -> int:
        return self.existing + self.inactive

    @property
    def fallback(self) -> int:
        """Created for clients without a responsible of their own (with own_responsible)."""
        return self.creating - self.own_responsible if self.work.own_responsible else 0

    @property
    def in_worker(self) -> bool:
        return self.creating > INLINE_LIMIT


@dataclass(frozen=True)
class Outcome:
    """One selected client and what creating the work does for it."""

    client_id: int
    number: str
    name: str
    outcome: str  # CREATE, EXISTS, INACTIVE
    own_responsible: int | None


def _outcomes(session: Session, practice_id: int, selection: Selection, work: NewWork, *,
              lock: bool = False) -> list[Outcome]:
    """Each selected client and what creating the work does for it. Two statements whatever
    the number of clients; with `lock` the clients are locked first, so (on PostgreSQL) the
    look for existing work sees every transaction before ours."""
    query = selection.query(practice_id).with_only_columns(
        Client.id, Client.client_number, Client.name, Client.status, Client.responsible_id)
    clients = session.execute(query.with_for_update(of=Client) if lock else query).all()
    if not clients:
        return []
    has_it = set(session.scalars(select(Engagement.client_id).where(
        Engagement.practice_id == practice_id, *work.same_work(),
        Engagement.client_id.in_(selection.query(practice_id).with_only_columns(Client.id)))))
    return [Outcome(cid, number, name, INACTIVE if status != "active" else EXISTS
                    if cid in has_it else CREATE, own)
            for cid, number, name, status, own in clients]


def _stamp(outcomes: list[Outcome], work: NewWork) -> str:
    # With each client's own responsible, who that is belongs to what was confirmed.
    return selection_stamp((o.client_id, o.outcome, *work.key(),
                            (o.own_responsible or 0) if work.own_responsible else 0)
                           for o in outcomes)


def preview_many(session: Session, practice_id: int, selection: Selection, work: NewWork
                 ) -> ManyPreview:
    """What creating the work for every selected client would do, before it is done: one
    engagement each, none for a client that has it already (never two of the same kind and
    year) and none for a blocked or ended client (nothing new starts there)."""
    outcomes = _outcomes(session, practice_id, selection, work)
    counts = Counter(o.outcome for o in outcomes)
    names = heapq.nsmallest(NAMES_SHOWN, (o.name for o in outcomes if o.outcome == CREATE),
                            key=str.casefold)
    own = sum(1 for o in outcomes if o.outcome == CREATE and o.own_responsible)
    return ManyPreview(work, counts[CREATE], counts[EXISTS], counts[INACTIVE], names,
                       _stamp(outcomes, work), own if work.own_responsible else 0)


def _confirmed(session: Session, actor: Actor, selection: Selection, work: NewWork,
               stamp: str) -> list[Outcome]:
    """The selection's outcomes, the clients locked, if they are still those confirmed."""
    outcomes = _outcomes(session, actor.practice_id, selection, work, lock=True)
    if _stamp(outcomes, work) != stamp:
        raise SelectionChanged()
    return outcomes


def _create(session: Session, actor: Actor, work: NewWork,
            plan: list[tuple[int, int | None]]) -> int:
    """An engagement per (client, responsible) in `plan`, audited one event each."""
    moment = now()
    rows = [{"practice_id": actor.practice_id, "client_id": cid, "kind": work.kind,
             "year": work.year, "title": work.title, "deadline": work.deadline,
             "responsible_id": responsible, "status": "draft",
             "created_at": moment, "updated_at": moment} for cid, responsible in plan]
    table = Engagement.__table__
    made: list[Any] = []
    for start in range(0, len(rows), _CHUNK):
        made += session.execute(insert(table).returning(table.c.id, table.c.client_id),
                                rows[start:start + _CHUNK]).all()
    audit.record_many(session, actor, "engagement.created", [
        (Subject("engagements", eid, cid), {"kind": work.kind, "year": work.year,
                                            "bulk": True})
        for eid, cid in made])
    return len(made)


def _plan(outcomes: list[Outcome], work: NewWork) -> list[tuple[int, int | None]]:
    return [(o.client_id, work.responsible_for(o.own_responsible)) for o in outcomes
            if o.outcome == CREATE]


def create_many(session: Session, actor: Actor, selection: Selection, work: NewWork,
                stamp: str) -> tuple[int, int]:
    """Create the work for exactly the confirmed clients, in one transaction with one audit
    event each; returns (created, skipped). Raises SelectionChanged, and creates nothing,
    when the clients or which of them get the work are no longer what was confirmed."""
    with transaction(session):
        outcomes = _confirmed(session, actor, selection, work, stamp)
        made = _create(session, actor, work, _plan(outcomes, work))
    return made, len(outcomes) - made


def confirm_many(session: Session, actor: Actor, selection: Selection, work: NewWork,
                 stamp: str) -> tuple[int, int] | BulkEngagementBatch:
    """As create_many for up to INLINE_LIMIT engagements. More are checked against the
    stamp the same way, then queued as a batch for the worker with exactly the confirmed
    clients (and who is responsible for each); the batch's page shows its progress."""
    with transaction(session):
        outcomes = _confirmed(session, actor, selection, work, stamp)
        plan = _plan(outcomes, work)
        if len(plan) <= INLINE_LIMIT:
            made = _create(session, actor, work, plan)
            return made, len(outcomes) - made
        batch = BulkEngagementBatch(
            practice_id=actor.practice_id, created_by_id=actor.id, kind=work.kind,
            year=work.year, title=work.title, deadline=work.deadline, state="queued",
            plan=[list(p) for p in plan], result={
                "actor": [actor.type, actor.id, actor.label], "total": len(plan),
                "done": 0, "created": 0, "skipped": len(outcomes) - len(plan),
                "left_out": [[o.number, o.name, o.outcome] for o in outcomes
                             if o.outcome != CREATE]})
        session.add(batch)
    return batch


BATCH_CHUNK = 500  # engagements per transaction in the worker: progress shows between them


def run_batch(session: Session, batch: BulkEngagementBatch, claim: jobs.Claim) -> None:
    """The worker's part: the confirmed clients a chunk per transaction, each chunk's clients
    locked and looked at again, so a client that was given this engagement meanwhile (or
    blocked, or ended) is skipped and counted, never given a second one. A run taken over
    from a worker that died goes on after the last chunk it committed."""
    job = copy.deepcopy(batch.result)  # not the loaded value: the flush compares with it
    actor = Actor(batch.practice_id, *job["actor"])
    work = NewWork(batch.kind, batch.year, batch.title, batch.deadline)
    for start in range(job["done"], len(batch.plan), BATCH_CHUNK):
        chunk = [(cid, rid) for cid, rid in batch.plan[start:start + BATCH_CHUNK]]
        with transaction(session):
            claim.renew(session)
            ids = [cid for cid, _rid in chunk]
            query = select(Client.id, Client.client_number, Client.name, Client.status).where(
                Client.practice_id == batch.practice_id, Client.id.in_(ids))
            clients = {cid: (number, name, status) for cid, number, name, status in
                       session.execute(query.with_for_update(of=Client))}
            has_it = set(session.scalars(select(Engagement.client_id).where(
                Engagement.practice_id == batch.practice_id, *work.same_work(),
                Engagement.client_id.in_(ids))))
            staff = set(session.scalars(select(StaffUser.id).where(
                StaffUser.practice_id == batch.practice_id,
                StaffUser.id.in_({rid for _cid, rid in chunk if rid}))))
            plan = [(cid, rid if rid in staff else None) for cid, rid in chunk
                    if cid in clients and clients[cid][2] == "active" and cid not in has_it]
            job["created"] += _create(session, actor, work, plan)
            kept = {cid for cid, _rid in plan}
            for cid in ids:
                if cid not in kept:  # gone, or changed since the confirmation
                    number, name, _status = clients.get(cid, ("", "", "ended"))
                    job["skipped"] += 1
                    job["left_out"].append([number, name, EXISTS if cid in has_it
                                            else INACTIVE])
            job["done"] = start + len(chunk)
            batch.result = copy.deepcopy(job)
    with transaction(session):
        claim.renew(session)
        batch.state, batch.finished_at = "done", now()


def run_queued_batches(session: Session) -> int:
    """Worker sweep: create the queued batches (and those whose worker died), each claimed
    by one worker. One that breaks is marked failed; what it created stays."""
    done = 0
    for batch, claim in jobs.claimed(session, BulkEngagementBatch):
        try:
            run_batch(session, batch, claim)
        except jobs.LostClaim:
            session.rollback()
            continue
        except Exception:  # a broken batch must not stop the other jobs; its page says so
            log.exception("bulk engagements %s failed", batch.id)
            session.rollback()
            try:
                with transaction(session):
                    claim.renew(session)
                    session.refresh(batch)
                    batch.state, batch.finished_at = "failed", now()
            except jobs.LostClaim:
                session.rollback()
            continue
        done += 1
    return done


def left_out_csv(rows: list[list[str]]) -> str:
    """The clients a batch left out, with the reason, for the office to look at."""
    out = io.StringIO()
    out.write("\ufeff")  # Dutch Excel reads UTF-8 only with a byte order mark
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Client number"), _("Company name"), _("Reason")])
    for number, name, reason in rows:
        writer.writerow([cell(str(number)), cell(str(name)), str(LEFT_OUT.get(reason, reason))])
    return out.getvalue()


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
