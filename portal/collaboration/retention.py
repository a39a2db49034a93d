"""Retention: an ended collaboration's data is deleted after the retention period.

When the practice still had rights (it ended the collaboration itself), an export is made
for it first. Then the client's rows go in one statement per table (the database cascades
from the client), its contact persons who reach no other company go too, and its stored
files are deleted. An audit event per client says what was deleted: counts, no content.
Running the sweep twice does nothing the second time: the clients are gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import ClientUser, Membership
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients.models import Client
from portal.clock import now
from portal.collaboration import exports
from portal.collaboration.models import ClientExport
from portal.db import transaction
from portal.documents.models import Document, DocumentRequest
from portal.documents.storage import Storage
from portal.engagements.models import Engagement, ReportVersion, Share
from portal.questionnaires.models import Assignment, Question

# What each feature keeps of clients, counted for the audit event.
COUNTED: dict[str, Any] = {
    "engagements": Engagement,
    "shares": Share,
    "documents": Document,
    "document_requests": DocumentRequest,
    "questionnaires": Assignment,
    "questions": Question,
    "contact_persons": Membership,
}


def _document_keys(session: Session, ids: list[int]) -> Iterator[str]:
    return iter(session.scalars(select(Document.storage_key).where(
        Document.client_id.in_(ids))))


# Stored files of clients, by feature: function(session, client ids) -> keys.
KEY_SOURCES: list[Callable[[Session, list[int]], Iterator[str]]] = [_document_keys]


@dataclass
class Due:
    client_id: int
    practice_id: int
    status: str
    purge_after: datetime
    export_ready: bool


def due(session: Session, moment: datetime | None = None) -> list[Due]:
    """Clients whose data is to be deleted now."""
    moment = moment or now()
    rows = session.execute(
        select(Client.id, Client.practice_id, Client.status, Client.purge_after)
        .where(Client.status.in_(("ended", "left")), Client.purge_after <= moment)
        .order_by(Client.purge_after)).all()
    ready = set(session.scalars(select(ClientExport.client_id).where(
        ClientExport.client_id.in_([r.id for r in rows]), ClientExport.automatic.is_(True),
        ClientExport.state == "ready"))) if rows else set()
    return [Due(r.id, r.practice_id, r.status, r.purge_after, r.id in ready) for r in rows]


def sweep(session: Session, store: Storage) -> int:
    """Delete what is due; returns the number of clients deleted."""
    found = due(session)
    if not found:
        return 0
    # The practice ended it and still had rights: it gets an export first.
    waiting = {c.client_id for c in found if c.status == "ended" and not c.export_ready}
    if waiting:
        queued = set(session.scalars(select(ClientExport.client_id).where(
            ClientExport.client_id.in_(waiting), ClientExport.automatic.is_(True),
            ClientExport.state.in_(("queued", "running")))))
        for client in session.scalars(select(Client).where(
                Client.id.in_(waiting - queued))):
            exports.request_export(session, Actor.system(client.practice_id), client,
                                   automatic=True)
        exports.build_queued(session, store)
        found = due(session)
    purge = [c for c in found if c.status == "left" or c.export_ready]
    return _purge(session, store, purge) if purge else 0


def _counts(session: Session, ids: list[int]) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for name, model in COUNTED.items():
        for client_id, number in session.execute(
                select(model.client_id, func.count()).where(model.client_id.in_(ids))
                .group_by(model.client_id)):
            counts[client_id][name] = number
    for client_id, number in session.execute(
            select(Engagement.client_id, func.count()).join(
                ReportVersion, ReportVersion.engagement_id == Engagement.id)
            .where(Engagement.client_id.in_(ids)).group_by(Engagement.client_id)):
        counts[client_id]["report_versions"] = number
    return counts


def _keys(session: Session, ids: list[int]) -> list[str]:
    keys = list(session.scalars(
        select(ReportVersion.storage_key).join(Engagement,
                                               Engagement.id == ReportVersion.engagement_id)
        .where(Engagement.client_id.in_(ids))))
    for source in KEY_SOURCES:
        keys.extend(source(session, ids))
    return keys


def _purge(session: Session, store: Storage, clients: list[Due]) -> int:
    ids = [c.client_id for c in clients]
    with transaction(session):
        counts = _counts(session, ids)
        keys = _keys(session, ids)
        users = set(session.scalars(select(Membership.client_user_id).where(
            Membership.client_id.in_(ids))))
        session.execute(delete(Client).where(Client.id.in_(ids),
                                             Client.status.in_(("ended", "left")))
                        .execution_options(synchronize_session=False))
        # Contact persons who reach no other company have nothing left here.
        still = set(session.scalars(select(Membership.client_user_id).where(
            Membership.client_user_id.in_(users)))) if users else set()
        gone_users = users - still
        if gone_users:
            session.execute(delete(ClientUser).where(ClientUser.id.in_(gone_users))
                            .execution_options(synchronize_session=False))
        by_practice: dict[int, list[tuple[Subject, dict[str, Any]]]] = {}
        for client in clients:
            by_practice.setdefault(client.practice_id, []).append(
                (Subject("clients", client.client_id, client.client_id),
                 {"deleted": dict(counts[client.client_id]),
                  "reason": client.status}))
        for practice_id, items in by_practice.items():
            audit.record_many(session, Actor.system(practice_id), "client.purged", items)
    for key in keys:  # after the commit: a file without a row is swept anyway
        store.delete(key)
    return len(ids)


def plan(session: Session) -> list[tuple[Client, bool]]:
    """For `portal retention --dry-run`: every ended client with its date, and whether an
    export is made for the practice first."""
    return [(c, c.status == "ended") for c in session.scalars(
        select(Client).where(Client.status.in_(("ended", "left")),
                             Client.purge_after.is_not(None))
        .order_by(Client.purge_after))]
