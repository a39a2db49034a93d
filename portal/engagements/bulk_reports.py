"""Reports in bulk: tens to hundreds of PDFs dropped at once for one kind and year of
engagement. Each is matched to its engagement by the client number (or KvK number) in its
file name; a preview lists what matched and what did not; confirming stores each as its
engagement's next report version and, if asked, shares all of them with each client's
contact persons — exactly the previewed set, in one transaction."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from portal.accounts.models import ClientUser, Membership
from portal.audit import Actor
from portal.clients import tiers
from portal.clients.models import Client
from portal.clients.service import selection_stamp
from portal.clock import now
from portal.db import transaction
from portal.documents.storage import Storage
from portal.engagements import approvals
from portal.engagements.models import BulkReportBatch, BulkReportFile, Engagement, ReportVersion
from portal.notifications import jobs

DEFAULT_PATTERN = r"(\d+)"  # the first number in the file name
MAX_FILES = 900  # a request holds at most 1,000 form parts (Werkzeug)
SHOWN = 100


class BulkRefused(Exception):
    """The files as a whole cannot be taken; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadPattern(BulkRefused):
    """The practice's file-name pattern cannot be used."""


def compile_pattern(text: str) -> re.Pattern[str]:
    """The practice's pattern: a regular expression whose first group (or whole match) is
    the number; refused with a message when it is not one."""
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise BadPattern(_("This pattern is not a regular expression (%(problem)s).",
                           problem=str(error))) from None
    if pattern.groups > 1:
        raise BadPattern(_("Use at most one group in brackets: the part that is the "
                            "number."))
    return pattern


def stage(session: Session, actor: Actor, store: Storage, *, kind: str, year: int,
          pattern: str, files: list[tuple[str, BinaryIO]], max_bytes: int) -> BulkReportBatch:
    """Store the dropped files until they are confirmed; a file that is not a PDF is kept
    as a name with its reason only."""
    compile_pattern(pattern)
    if not files:
        raise BulkRefused(_("Choose one or more PDF files."))
    if len(files) > MAX_FILES:
        raise BulkRefused(_("At most %(max)d files at once.", max=MAX_FILES))
    rows: list[BulkReportFile] = []
    try:
        for filename, stream in files:
            try:
                stored = approvals.store_pdf(store, stream, max_bytes)
            except approvals.ApprovalError as refusal:
                rows.append(BulkReportFile(filename=filename[:255], refused=refusal.reason))
            else:
                rows.append(BulkReportFile(filename=filename[:255], storage_key=stored.key,
                                           sha256=stored.sha256, size=stored.size))
        with transaction(session):
            batch = BulkReportBatch(practice_id=actor.practice_id, created_by_id=actor.id,
                                    kind=kind, year=year, pattern=pattern)
            session.add(batch)
            session.flush()
            for row in rows:
                row.batch_id = batch.id
            session.add_all(rows)
    except Exception:
        for row in rows:  # nothing half-stored
            if row.storage_key:
                store.delete(row.storage_key)
        raise
    return batch


@dataclass
class Match:
    file_id: int
    filename: str
    outcome: str  # matched, duplicate, unmatched, ambiguous, refused
    reason: str = ""
    client_name: str = ""
    engagement_id: int | None = None
    signers: list[approvals.SignerChoice] = field(default_factory=list)
    shares: bool = False  # the client's tier shares reports digitally


@dataclass
class BulkPreview:
    matches: list[Match]

    @property
    def counts(self) -> Counter[str]:
        return Counter(m.outcome for m in self.matches)

    def of(self, *outcomes: str) -> list[Match]:
        return [m for m in self.matches if m.outcome in outcomes][:SHOWN]

    @property
    def stamp(self) -> str:
        return selection_stamp((m.file_id, m.outcome, m.engagement_id or 0)
                               for m in self.matches)


_REFUSALS = {"not_pdf": _l("This file is not a PDF."), "empty": _l("The file is empty."),
             "too_large": _l("The file is too large.")}


def preview(session: Session, batch: BulkReportBatch) -> BulkPreview:
    """Each file with its engagement, or why it has none."""
    pattern = compile_pattern(batch.pattern)
    files = list(session.scalars(select(BulkReportFile).where(
        BulkReportFile.batch_id == batch.id).order_by(BulkReportFile.filename,
                                                      BulkReportFile.id)))
    numbers: dict[int, str | None] = {}
    for f in files:
        stem = f.filename.rsplit(".", 1)[0]
        found = pattern.search(stem)
        numbers[f.id] = (found.group(1) if pattern.groups else found.group(0)) if found \
            else None
    wanted = {n for n in numbers.values() if n}
    clients: dict[str, list[Client]] = {}
    if wanted:
        for client in session.scalars(select(Client).where(
                Client.practice_id == batch.practice_id,
                or_(Client.client_number.in_(wanted), Client.kvk_number.in_(wanted)))):
            for key in {client.client_number, client.kvk_number} & wanted:
                clients.setdefault(key, []).append(client)
    ids = {c.id for group in clients.values() for c in group}
    engagements: dict[int, list[Engagement]] = {}
    for engagement in session.scalars(select(Engagement).where(
            Engagement.client_id.in_(ids), Engagement.kind == batch.kind,
            Engagement.year == batch.year)) if ids else []:
        engagements.setdefault(engagement.client_id, []).append(engagement)
    engagement_ids = [e.id for group in engagements.values() for e in group]
    newest = _newest_hashes(session, engagement_ids)
    signers = _signers(session, ids)

    matches: list[Match] = []
    for f in files:
        number = numbers[f.id]
        match = Match(f.id, f.filename, "unmatched")
        matches.append(match)
        if f.refused:
            match.outcome, match.reason = "refused", str(_REFUSALS.get(f.refused, f.refused))
            continue
        if number is None:
            match.reason = _("No number in the file name.")
            continue
        found = {c.id: c for c in clients.get(number, [])}
        if not found:
            match.reason = _("No client has number %(number)s.", number=number)
            continue
        if len(found) > 1:
            match.outcome = "ambiguous"
            match.reason = _("%(number)s is the number of more than one client.",
                             number=number)
            continue
        client = next(iter(found.values()))
        match.client_name = client.name
        own = engagements.get(client.id, [])
        if not own:
            match.reason = _("%(client)s has no engagement of this kind for %(year)d.",
                             client=client.name, year=batch.year)
            continue
        if len(own) > 1:
            match.outcome = "ambiguous"
            match.reason = _("%(client)s has more than one engagement of this kind for "
                             "%(year)d.", client=client.name, year=batch.year)
            continue
        match.engagement_id = own[0].id
        match.signers = signers.get(client.id, [])
        match.shares = tiers.has(client, "share_reports") and client.status == "active"
        if newest.get(own[0].id) == f.sha256:
            match.outcome = "duplicate"
            match.reason = _("The engagement has this exact file already.")
        else:
            match.outcome = "matched"
    twice = Counter(m.engagement_id for m in matches if m.outcome == "matched")
    for m in matches:
        if m.outcome == "matched" and twice[m.engagement_id] > 1:
            m.outcome = "ambiguous"
            m.reason = _("Another file is for the same engagement.")
    return BulkPreview(matches)


def _newest_hashes(session: Session, engagement_ids: list[int]) -> dict[int, str]:
    if not engagement_ids:
        return {}
    newest = (select(ReportVersion.engagement_id, func.max(ReportVersion.number).label("n"))
              .where(ReportVersion.engagement_id.in_(engagement_ids))
              .group_by(ReportVersion.engagement_id).subquery())
    rows = session.execute(
        select(ReportVersion.engagement_id, ReportVersion.sha256)
        .join(newest, (newest.c.engagement_id == ReportVersion.engagement_id)
              & (newest.c.n == ReportVersion.number)))
    return {engagement_id: sha256 for engagement_id, sha256 in rows}


def _signers(session: Session, client_ids: set[int]) -> dict[int, list[approvals.SignerChoice]]:
    """Each client's contact persons, the main one first: who a shared report goes to."""
    found: dict[int, list[approvals.SignerChoice]] = {}
    if not client_ids:
        return found
    for client_id, user_id, email, name in session.execute(
            select(Membership.client_id, ClientUser.id, ClientUser.email, ClientUser.name)
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .where(Membership.client_id.in_(client_ids), ClientUser.active.is_(True))
            .order_by(Membership.client_id, Membership.role.desc(), ClientUser.id)):
        found.setdefault(client_id, []).append(
            approvals.SignerChoice(email=email, name=name, client_user_id=user_id))
    return found


INLINE_LIMIT = 20  # more matched files than this are stored by the worker, with progress
CHUNK = 25         # files per transaction in the worker: progress shows between them


@dataclass
class BulkOutcome:
    stored: int
    shared: int
    not_shared: int  # stored, but the client has nobody to share with or no digital sharing


def confirm(session: Session, actor: Actor, practice: Any, store: Storage,
            batch: BulkReportBatch, found: BulkPreview, stamp: str, *, share: str | None,
            deadline: datetime | None, message: str | None) -> BulkOutcome | None:
    """Store every matched file as its engagement's next report version and, with `share`
    ("approval" or "view"), share it with the client's contact persons, audited per
    engagement as single uploads and shares are. A few files are done at once (the
    outcome); more are queued for the worker (None), which shows its progress."""
    if batch.state != "staged":
        raise BulkRefused(_("These reports have been stored already."))
    if found.stamp != stamp:
        raise approvals.ApprovalError("changed")
    if share == "approval" and (deadline is None or deadline <= now()):
        raise approvals.ApprovalError("deadline")
    matched = [m for m in found.matches if m.outcome == "matched"]
    if not matched:
        raise BulkRefused(_("No file matched an engagement: nothing to store."))
    inline = len(matched) <= INLINE_LIMIT
    with transaction(session):
        # Running here and now, claimed (a worker takes it over only if this request dies).
        batch.state, batch.claimed_at = ("running", now()) if inline else ("queued", None)
        batch.result = {
            "share": share, "deadline": deadline.isoformat() if deadline else None,
            "message": message, "actor": [actor.type, actor.id, actor.label],
            "total": len(matched), "stored": 0, "shared": 0, "not_shared": 0,
            "left_out": [[m.filename, m.reason] for m in found.matches
                         if m.outcome != "matched"]}
    if not inline:
        return None
    run(session, store, practice, batch)
    result = batch.result or {}
    return BulkOutcome(result["stored"], result["shared"], result["not_shared"])


def run(session: Session, store: Storage, practice: Any, batch: BulkReportBatch,
        claim: jobs.Claim | None = None) -> int:
    """Carry out a confirmed batch a chunk of files per transaction, its progress in the
    batch's result; then remove the files that matched nothing. Returns the files stored.
    In the worker (`claim`), each chunk renews the claim; a run taken over from a worker
    that died goes on with the files not stored yet (a stored one's row is gone)."""
    job = dict(batch.result or {})
    actor = Actor(batch.practice_id, *job["actor"])
    deadline = datetime.fromisoformat(job["deadline"]) if job["deadline"] else None
    matched = [m for m in preview(session, batch).matches if m.outcome == "matched"]
    for start in range(0, len(matched), CHUNK):
        chunk = matched[start:start + CHUNK]
        with transaction(session):
            if claim is not None:
                claim.renew(session)
            files = {f.id: f for f in session.scalars(select(BulkReportFile).where(
                BulkReportFile.id.in_([m.file_id for m in chunk])))}
            engagements = {e.id: e for e in session.scalars(select(Engagement).where(
                Engagement.id.in_([m.engagement_id for m in chunk])))}
            clients = {c.id: c for c in session.scalars(select(Client).where(
                Client.id.in_({e.client_id for e in engagements.values()})))}
            for m in chunk:
                f, engagement = files[m.file_id], engagements[m.engagement_id or 0]
                approvals.add_version(session, actor, engagement, f.storage_key or "",
                                      sha256=f.sha256 or "", size=f.size, filename=f.filename)
                job["stored"] += 1
                if job["share"] is None:
                    continue
                if not (m.shares and m.signers):
                    job["not_shared"] += 1
                    continue
                approvals.share_report(session, actor, practice, engagement,
                                       clients[engagement.client_id], mode=job["share"],
                                       signers=m.signers, deadline=deadline,
                                       message=job["message"])
                job["shared"] += 1
            # the versions hold these files now
            session.execute(delete(BulkReportFile).where(
                BulkReportFile.id.in_(list(files))))
            batch.result = dict(job)
    with transaction(session):
        unused = [key for key in session.scalars(select(BulkReportFile.storage_key).where(
            BulkReportFile.batch_id == batch.id)) if key]
        session.execute(delete(BulkReportFile).where(BulkReportFile.batch_id == batch.id))
        batch.state, batch.applied_at = "applied", now()
    for key in unused:  # after the commit: a file is never gone while a row points to it
        store.delete(key)
    return job["stored"]


def run_queued(session: Session, store: Storage) -> int:
    """Worker sweep: carry out confirmed batches, each claimed by one worker."""
    from portal.tenancy.models import Practice

    done = 0
    for batch, claim in jobs.claimed(session, BulkReportBatch):  # queued, or worker died
        try:
            done += run(session, store, session.get(Practice, batch.practice_id), batch,
                        claim)
        except jobs.LostClaim:
            session.rollback()
    return done
