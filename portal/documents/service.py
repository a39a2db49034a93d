"""Document exchange: uploads both ways, document requests, folders, deleting and purging.

Files are stored first (streamed, hashed, sniffed, renamed into place by storage.put), then
checked, then recorded with their mails and audit events in ONE transaction. A file that
is refused, or a batch whose transaction fails, has its stored bytes deleted at once, so a
refusal leaves nothing behind; a process killed in between leaves an unreferenced file that
the storage sweep removes after the grace period.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from portal import audit, clock, notifications
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.accounts.service import reply_address
from portal.audit import Actor, Subject
from portal.clients import tiers
from portal.clients.models import Client
from portal.clock import now
from portal.db import Base, transaction
from portal.documents import filetypes
from portal.documents.filetypes import Refusal, Refused
from portal.documents.models import (
    FROM_CLIENT,
    FROM_PRACTICE,
    Document,
    DocumentRequest,
    DocumentShare,
    DocumentShareRecipient,
)
from portal.documents.storage import EmptyFile, Storage, StoredFile, TooLarge
from portal.engagements.models import Engagement
from portal.notifications import tasks
from portal.notifications.reminders import DueTask
from portal.paging import Page, clamp

TASK_KIND = "document_request"
RETENTION = timedelta(days=30)  # a deleted document can be restored this long, then purged
PAGE_SIZE = 50
PURGE_BATCH = 500


class DocumentError(Exception):
    """A refusal the page explains: tier, inactive, no_recipients, deadline."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    """One file of an upload as the request carries it: bytes and the name it came with."""

    stream: BinaryIO
    filename: str | None


@dataclass
class Batch:
    """What became of an upload: the documents stored, and every file refused with why."""

    documents: list[Document] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    request_fulfilled: DocumentRequest | None = None


def may_exchange(client: Client) -> bool:
    """New documents and requests need the tier that exchanges documents and a client whose
    collaboration is on (a blocked or ended one keeps what it has, read-only)."""
    return tiers.has(client, "documents") and client.status == "active"


def _check_exchange(client: Client) -> None:
    if not tiers.has(client, "documents"):
        raise DocumentError("tier")
    if client.status != "active":
        raise DocumentError("inactive")


# --- storing files -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Accepted:
    stored: StoredFile
    name: str
    mime: str


def _store(store: Storage, files: list[Incoming], max_bytes: int
           ) -> tuple[list[_Accepted], list[Refusal]]:
    """Store every file that passes; each refused one is named with its reason and leaves
    nothing stored. When the upload breaks off (a disconnect), nothing of it stays."""
    accepted: list[_Accepted] = []
    refused: list[Refusal] = []
    try:
        for incoming in files:
            name = filetypes.display_name(incoming.filename)
            try:
                filetypes.check_name(name)  # before a byte is stored
                stored = store.put(incoming.stream, max_bytes=max_bytes)
            except Refused as refusal:
                refused.append(refusal.refusal)
                continue
            except TooLarge:
                refused.append(Refusal(name, "too_large",
                                       {"megabytes": max_bytes // (1024 * 1024)}))
                continue
            except EmptyFile:
                refused.append(Refusal(name, "empty", {}))
                continue
            try:
                mime = filetypes.check_content(store, stored, name)
            except Refused as refusal:
                store.delete(stored.key)
                refused.append(refusal.refusal)
                continue
            except BaseException:
                store.delete(stored.key)
                raise
            accepted.append(_Accepted(stored, name, mime))
    except BaseException:
        _forget(store, accepted)
        raise
    return accepted, refused


def _forget(store: Storage, accepted: list[_Accepted]) -> None:
    for item in accepted:
        store.delete(item.stored.key)


def _rows(accepted: list[_Accepted], actor: Actor, client: Client, *, direction: str,
          year: int, engagement: Engagement | None, request: DocumentRequest | None,
          share: DocumentShare | None, note: str | None) -> list[Document]:
    batch = secrets.token_hex(16)
    return [Document(
        practice_id=client.practice_id, client_id=client.id,
        engagement_id=engagement.id if engagement else None,
        request_id=request.id if request else None, share_id=share.id if share else None,
        year=year, direction=direction, name=item.name, storage_key=item.stored.key,
        size=item.stored.size, sha256=item.stored.sha256, mime=item.mime, note=note,
        batch=batch,
        uploaded_by_staff_id=actor.id if actor.type == "staff" else None,
        uploaded_by_client_user_id=actor.id if actor.type == "client" else None,
        uploaded_by_label=actor.label) for item in accepted]


def _audit_uploads(session: Session, actor: Actor, documents: list[Document], action: str,
                   **data: Any) -> None:
    audit.record_many(session, actor, action, [
        (d, {"name": d.name, "size": d.size, "sha256": d.sha256, "batch": d.batch, **data})
        for d in documents])


# --- the client sends documents -----------------------------------------------------------

def upload_from_client(session: Session, actor: Actor, store: Storage, practice: Any,
                       client: Client, files: list[Incoming], *, max_bytes: int,
                       engagement: Engagement | None = None,
                       request: DocumentRequest | None = None,
                       note: str | None = None) -> Batch:
    """A client sends one or more files, for an engagement or a request or just so.
    Uploading against an open request fulfils it. Staff get ONE summary mail per batch:
    the engagement's responsible person, else the practice's admins."""
    _check_exchange(client)
    if request is not None and engagement is None and request.engagement_id:
        engagement = session.get(Engagement, request.engagement_id)
    accepted, refused = _store(store, files, max_bytes)
    result = Batch(refused=refused)
    if not accepted:
        return result
    try:
        with transaction(session):
            documents = _rows(accepted, actor, client, direction=FROM_CLIENT,
                              year=engagement.year if engagement else clock.today().year,
                              engagement=engagement, request=request, share=None,
                              note=note)
            session.add_all(documents)
            session.flush()
            if request is not None and _fulfil(session, actor, request):
                result.request_fulfilled = request
            _audit_uploads(session, actor, documents, "document.uploaded",
                           request=request.id if request else None)
            _mail_staff_summary(session, practice, client, engagement, documents, actor,
                                note, request)
    except BaseException:
        _forget(store, accepted)
        raise
    result.documents = documents
    return result


def _fulfil(session: Session, actor: Actor, request: DocumentRequest) -> bool:
    """Open -> fulfilled, once: a second upload for it changes nothing."""
    if not _close(session, request, "fulfilled", task_state="done"):
        return False
    session.expire(request)
    audit.record(session, actor, "document_request.fulfilled",
                 Subject("document_requests", request.id, request.client_id),
                 title=request.title)
    return True


def _close(session: Session, request: DocumentRequest, state: str, *, task_state: str) -> bool:
    """An open request closes once (a conditional UPDATE decides a race), and its task with it."""
    won = session.execute(
        update(DocumentRequest)
        .where(DocumentRequest.id == request.id, DocumentRequest.state == "open")
        .values(state=state, closed_at=now())
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        return False
    tasks.close_task(session, kind=TASK_KIND, subject_id=request.id, state=task_state)
    return True


def _mail_staff_summary(session: Session, practice: Any, client: Client,
                        engagement: Engagement | None, documents: list[Document],
                        actor: Actor, note: str | None,
                        request: DocumentRequest | None) -> None:
    people = []
    if engagement is not None and engagement.responsible_id:
        people = list(session.scalars(select(StaffUser).where(
            StaffUser.id == engagement.responsible_id, StaffUser.active.is_(True))))
    if not people:
        people = list(session.scalars(select(StaffUser).where(
            StaffUser.practice_id == client.practice_id, StaffUser.role == "admin",
            StaffUser.active.is_(True)).order_by(StaffUser.id)))
    link = notifications.practice_url(practice, "documents.office_index", client_id=client.id,
                                      year=documents[0].year)
    files = [(d.name, d.size) for d in documents]
    notifications.enqueue_many(session, practice, [notifications.Mail(
        to=person.email, to_name=person.name, kind="documents_received", locale=person.locale,
        dedupe_key=f"documents:received:{documents[0].batch}:{person.id}",
        context={"client_name": client.name, "uploader": actor.label, "files": files,
                 "note": note, "request_title": request.title if request else None,
                 "engagement": _label(engagement, person.locale or practice.locale),
                 "link": link}) for person in people])


def _label(engagement: Engagement | None, locale: str) -> str | None:
    if engagement is None:
        return None
    with force_locale(locale):
        return engagement.label


# --- the practice shares documents ---------------------------------------------------------

def share_with_client(session: Session, actor: Actor, store: Storage, practice: Any,
                      client: Client, files: list[Incoming], *, max_bytes: int,
                      audience: str, chosen: list[int], year: int,
                      engagement: Engagement | None = None,
                      message: str | None = None) -> Batch:
    """Staff share files with all contact persons (also later ones) or chosen ones: each
    recipient is mailed once, and only they see the files in the portal."""
    _check_exchange(client)
    contacts = _contacts(session, client)
    recipients = contacts if audience == "all" else [
        user for user in contacts if user.id in set(chosen)]
    if audience != "all" and not recipients:
        raise DocumentError("no_recipients")
    accepted, refused = _store(store, files, max_bytes)
    result = Batch(refused=refused)
    if not accepted:
        return result
    try:
        with transaction(session):
            share = DocumentShare(practice_id=client.practice_id, client_id=client.id,
                                  audience=audience, message=message,
                                  created_by_id=actor.id)
            session.add(share)
            session.flush()
            documents = _rows(accepted, actor, client, direction=FROM_PRACTICE,
                              year=engagement.year if engagement else year,
                              engagement=engagement, request=None, share=share, note=message)
            session.add_all(documents)
            rows = [DocumentShareRecipient(share_id=share.id, client_user_id=user.id,
                                           email=user.email.lower(), name=user.name,
                                           mailed_at=now()) for user in recipients]
            session.add_all(rows)
            session.flush()
            _audit_uploads(session, actor, documents, "document.shared", share=share.id,
                           audience=audience, recipients=[r.email for r in rows])
            _mail_recipients(session, practice, client, share, documents, recipients)
    except BaseException:
        _forget(store, accepted)
        raise
    result.documents = documents
    return result


def _contacts(session: Session, client: Client) -> list[ClientUser]:
    return list(session.scalars(
        select(ClientUser).join(Membership, Membership.client_user_id == ClientUser.id)
        .where(Membership.client_id == client.id, ClientUser.active.is_(True))
        .order_by(ClientUser.name)))


def _mail_recipients(session: Session, practice: Any, client: Client, share: DocumentShare,
                     documents: list[Document], recipients: list[ClientUser]) -> None:
    link = notifications.practice_url(practice, "documents.portal_index", client_id=client.id,
                                      year=documents[0].year)
    files = [(d.name, d.size) for d in documents]
    notifications.enqueue_many(session, practice, [notifications.Mail(
        to=user.email, to_name=user.name, kind="documents_shared", locale=user.locale,
        dedupe_key=f"documents:share:{share.id}:{user.id}",
        context={"client_name": client.name, "files": files, "message": share.message,
                 "link": link}) for user in recipients])


# --- requests ------------------------------------------------------------------------------

def request_documents(session: Session, actor: Actor, practice: Any, client: Client, *,
                      title: str, deadline: date, message: str | None = None,
                      engagement: Engagement | None = None) -> DocumentRequest:
    """Ask the client for named documents before a deadline: an open action for the
    company, a mail to each contact person now and reminders as the deadline nears."""
    _check_exchange(client)
    if deadline <= clock.today():
        raise DocumentError("deadline")
    with transaction(session):
        request = DocumentRequest(practice_id=client.practice_id, client_id=client.id,
                                  engagement_id=engagement.id if engagement else None,
                                  title=title, message=message,
                                  deadline=clock.end_of_day(deadline), requested_by_id=actor.id)
        session.add(request)
        session.flush()
        tasks.open_task(session, practice_id=client.practice_id, client_id=client.id,
                        kind=TASK_KIND, subject_id=request.id,
                        title=_task_title(practice.locale, title),
                        deadline=request.deadline)
        link = notifications.practice_url(practice, "documents.portal_index",
                                          client_id=client.id, request=request.id)
        notifications.enqueue_many(session, practice, [notifications.Mail(
            to=user.email, to_name=user.name, kind="document_request", locale=user.locale,
            dedupe_key=f"documents:request:{request.id}:{user.id}",
            reply_to=reply_address(session, engagement.responsible_id if engagement else None),
            context={"client_name": client.name, "title": title, "message": message,
                     "deadline": request.deadline, "link": link})
            for user in _contacts(session, client)])
        audit.record(session, actor, "document_request.created", request, title=title,
                     deadline=request.deadline.isoformat())
    return request


def _task_title(locale: str, title: str) -> str:
    with force_locale(locale):
        return _("Send documents: %(title)s", title=title)


def cancel_request(session: Session, actor: Actor, request: DocumentRequest) -> bool:
    """Staff no longer need it: it leaves the open actions. False when it was closed first."""
    with transaction(session):
        if not _close(session, request, "cancelled", task_state="cancelled"):
            return False
        audit.record(session, actor, "document_request.cancelled", request,
                     title=request.title)
    session.expire(request)
    return True


def open_requests(session: Session, client: Client) -> list[DocumentRequest]:
    return list(session.scalars(
        select(DocumentRequest).where(DocumentRequest.client_id == client.id,
                                      DocumentRequest.state == "open")
        .options(joinedload(DocumentRequest.engagement))
        .order_by(DocumentRequest.deadline, DocumentRequest.id)))


def recent_requests(session: Session, client: Client, limit: int = 10
                    ) -> list[DocumentRequest]:
    """Open requests first, then the latest closed ones."""
    return list(session.scalars(
        select(DocumentRequest).where(DocumentRequest.client_id == client.id)
        .options(joinedload(DocumentRequest.engagement))
        .order_by((DocumentRequest.state == "open").desc(), DocumentRequest.deadline.desc(),
                  DocumentRequest.id.desc()).limit(limit)))


def compose_reminders(session: Session, due: list[DueTask]) -> list[tuple[Any, Any]]:
    """Each contact person of the company gets a reminder of an open request, with a link
    to the page where the files go."""
    from portal.tenancy.models import Practice

    requests = {r.id: r for r in session.scalars(select(DocumentRequest).where(
        DocumentRequest.id.in_([t.subject_id for t in due]),
        DocumentRequest.state == "open"))}
    client_ids = {r.client_id for r in requests.values()}
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(client_ids)))}
    practices = {p.id: p for p in session.scalars(select(Practice).where(
        Practice.id.in_({r.practice_id for r in requests.values()})))}
    people: dict[int, list[ClientUser]] = defaultdict(list)
    for client_id, user in session.execute(
            select(Membership.client_id, ClientUser)
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .where(Membership.client_id.in_(client_ids), ClientUser.active.is_(True))
            .order_by(ClientUser.id)).tuples():
        people[client_id].append(user)
    mails = []
    for task in due:
        request = requests.get(task.subject_id)
        if request is None:
            continue
        practice, client = practices[request.practice_id], clients[request.client_id]
        link = notifications.practice_url(practice, "documents.portal_index",
                                          client_id=client.id, request=request.id)
        for user in people[client.id]:
            with force_locale(user.locale or practice.locale):
                action = _("Send the documents")
            mails.append((practice, notifications.Mail(
                to=user.email, to_name=user.name, kind="reminder", locale=user.locale,
                dedupe_key=f"reminder:{TASK_KIND}:{request.id}:{user.id}:{task.offset}",
                context={"task": request.title, "client_name": client.name,
                         "deadline": request.deadline, "link": link, "action": action,
                         "overdue": task.offset > 0,
                         "custom_text": practice.reminder_text})))
    return mails


# --- folders -------------------------------------------------------------------------------

def visible_to(user_id: int) -> ColumnElement[bool]:
    """What a contact person sees of a company's documents: everything the company sent,
    and what the practice shared with everyone or with them."""
    chosen = exists().where(DocumentShareRecipient.share_id == Document.share_id,
                            DocumentShareRecipient.client_user_id == user_id)
    # The share's audience looked up by its key for each document: as EXISTS under an OR,
    # PostgreSQL would hash every share of every practice that went to everyone instead.
    audience = select(DocumentShare.audience).where(DocumentShare.id == Document.share_id)
    return or_(Document.direction == FROM_CLIENT,
               audience.scalar_subquery() == "all", chosen)


@dataclass
class Folders:
    """One year of a client's documents, one folder per engagement (None: no engagement),
    and the years there are with how many documents each."""

    years: list[tuple[int, int]]
    year: int | None
    page: Page
    folders: list[tuple[Engagement | None, list[Document]]]


def folders(session: Session, client: Client, *, viewer_id: int | None = None,
            year: int | None = None, page: int = 1) -> Folders:
    """A fixed number of queries whatever the number of documents: the years, one page of
    the year's documents with their engagements, and its count."""
    where = [Document.client_id == client.id, Document.deleted_at.is_(None)]
    if viewer_id is not None:
        where.append(visible_to(viewer_id))
    years = [(y, n) for y, n in session.execute(
        select(Document.year, func.count()).where(*where).group_by(Document.year)
        .order_by(Document.year.desc()))]
    if not years:
        return Folders([], None, Page([], 0, 1, PAGE_SIZE), [])
    known = [y for y, _n in years]
    year = year if year in known else known[0]
    total = dict(years)[year]
    page = clamp(page, total, PAGE_SIZE)
    rows = list(session.scalars(
        select(Document).where(*where, Document.year == year)
        .options(joinedload(Document.engagement))
        .order_by(Document.engagement_id.is_(None), Document.engagement_id.desc(),
                  Document.created_at.desc(), Document.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    grouped: dict[int | None, list[Document]] = {}
    for document in rows:
        grouped.setdefault(document.engagement_id, []).append(document)
    found = [(docs[0].engagement, docs) for docs in grouped.values()]
    return Folders(years, year, Page(rows, total, page, PAGE_SIZE), found)


def deleted(session: Session, client: Client) -> list[Document]:
    """Deleted documents that can still be restored, newest first."""
    return list(session.scalars(
        select(Document).where(Document.client_id == client.id,
                               Document.deleted_at.is_not(None),
                               Document.deleted_at >= now() - RETENTION)
        .order_by(Document.deleted_at.desc()).limit(PAGE_SIZE)))


def shared_documents(session: Session, client: Client, viewer_id: int, *,
                     year: int | None = None, kind: str | None = None,
                     limit: int = 10) -> list[Document]:
    """What the practice shared with this contact person, newest first (for the history):
    one query."""
    if not tiers.has(client, "documents"):
        return []
    where = [Document.client_id == client.id, Document.deleted_at.is_(None),
             Document.direction == FROM_PRACTICE, visible_to(viewer_id)]
    if year:
        where.append(Document.year == year)
    if kind:
        where.append(Document.engagement.has(Engagement.kind == kind))
    return list(session.scalars(
        select(Document).where(*where).options(joinedload(Document.engagement))
        .order_by(Document.created_at.desc(), Document.id.desc()).limit(limit)))


def summary(session: Session, client: Client) -> dict[str, Any]:
    """For the client card: how many documents, the latest ones and open requests, in two
    queries."""
    latest = list(session.scalars(
        select(Document).where(Document.client_id == client.id, Document.deleted_at.is_(None))
        .order_by(Document.created_at.desc(), Document.id.desc()).limit(5)))
    counts = session.execute(select(
        select(func.count()).select_from(Document)
        .where(Document.client_id == client.id, Document.deleted_at.is_(None))
        .scalar_subquery(),
        select(func.count()).select_from(DocumentRequest)
        .where(DocumentRequest.client_id == client.id, DocumentRequest.state == "open")
        .scalar_subquery())).one()
    return {"latest": latest, "total": counts[0], "open_requests": counts[1]}


# --- changing documents (staff) -------------------------------------------------------------

def update_document(session: Session, actor: Actor, document: Document, *, name: str,
                    engagement: Engagement | None, year: int) -> list[str]:
    """Rename (the extension stays) and move to another engagement or year. With an
    engagement, the document sits in that engagement's year. Returns what changed."""
    new_name = filetypes.renamed(document.name, name)
    new_year = engagement.year if engagement else year
    new_engagement = engagement.id if engagement else None
    changed = []
    with transaction(session):
        if new_name != document.name:
            audit.record(session, actor, "document.renamed", document, old=document.name,
                         new=new_name)
            document.name = new_name
            changed.append("name")
        if (new_engagement, new_year) != (document.engagement_id, document.year):
            audit.record(session, actor, "document.moved", document,
                         old={"engagement": document.engagement_id, "year": document.year},
                         new={"engagement": new_engagement, "year": new_year})
            document.engagement_id, document.year = new_engagement, new_year
            changed.append("folder")
    return changed


def delete_document(session: Session, actor: Actor, document: Document) -> bool:
    """Soft delete: gone for everyone at once, restorable for RETENTION, then purged."""
    with transaction(session):
        won = session.execute(
            update(Document).where(Document.id == document.id, Document.deleted_at.is_(None))
            .values(deleted_at=now(), deleted_by_id=actor.id)
            .execution_options(synchronize_session=False)).rowcount
        if won == 1:
            audit.record(session, actor, "document.deleted", document, name=document.name)
    session.expire(document)
    return won == 1


def restore_document(session: Session, actor: Actor, document: Document) -> bool:
    with transaction(session):
        won = session.execute(
            update(Document).where(Document.id == document.id,
                                   Document.deleted_at.is_not(None),
                                   Document.deleted_at >= now() - RETENTION)
            .values(deleted_at=None, deleted_by_id=None)
            .execution_options(synchronize_session=False)).rowcount
        if won == 1:
            audit.record(session, actor, "document.restored", document, name=document.name)
    session.expire(document)
    return won == 1


# --- sweeps ---------------------------------------------------------------------------------

def purge_deleted(session: Session, store: Storage, moment: datetime | None = None) -> int:
    """Remove documents deleted more than RETENTION ago: the row (audited), then the file.
    A file whose row went but which could not be deleted is left to the storage sweep."""
    cutoff = (moment or now()) - RETENTION
    purged = 0
    while True:
        with transaction(session):
            rows = session.execute(
                select(Document.id, Document.practice_id, Document.client_id,
                       Document.storage_key, Document.name, Document.sha256)
                .where(Document.deleted_at.is_not(None), Document.deleted_at < cutoff)
                .order_by(Document.id).limit(PURGE_BATCH)).all()
            if not rows:
                break
            session.execute(delete(Document).where(Document.id.in_([r.id for r in rows]))
                            .execution_options(synchronize_session=False))
            by_practice: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                by_practice[row.practice_id].append(row)
            for practice_id, group in by_practice.items():
                audit.record_many(session, Actor.system(practice_id), "document.purged", [
                    (Subject("documents", r.id, r.client_id),
                     {"name": r.name, "sha256": r.sha256}) for r in group])
        for row in rows:
            store.delete(row.storage_key)
        purged += len(rows)
    return purged


def storage_key_columns() -> list[Any]:
    """Every column named storage_key in the schema: a file is referenced when any row of
    any feature points to it (reports, documents, and whatever stores files next)."""
    return [table.c.storage_key for table in Base.metadata.sorted_tables
            if "storage_key" in table.c]


def collect_garbage(session: Session, store: Storage, grace: timedelta) -> int:
    """Delete stored files no row points to, once they are older than the grace period
    (which protects uploads whose row is not committed yet)."""
    columns = storage_key_columns()

    def is_referenced(keys: set[str]) -> set[str]:
        found: set[str] = set()
        for column in columns:
            found.update(session.scalars(select(column).where(column.in_(keys))))
        session.rollback()  # end the read; a sweep may take long
        return found

    return store.sweep(is_referenced, now() - grace)

