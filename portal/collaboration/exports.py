"""A complete export ("back-up") of one client, as a ZIP made by the worker.

The ZIP holds every report version, document, questionnaire answer, question and answer,
the approval evidence and the client's audit events, an index.html that shows all of it
readably offline in the client's language (export_index.py) and a manifest.json with the
SHA-256 of every file. It is written to a temporary file while
stored files stream into it, so memory stays flat however large the client is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.audit.models import AuditEvent
from portal.audit.service import Subject
from portal.clients.models import Client
from portal.clock import now
from portal.collaboration import export_index
from portal.collaboration.models import ClientExport
from portal.db import transaction
from portal.documents.models import Document
from portal.documents.storage import Storage
from portal.engagements.models import Engagement, ReportVersion, SealedReport, Share, Signer
from portal.questionnaires import export as questionnaire_export
from portal.questionnaires.models import Assignment, Question

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


def document_path(document: Document) -> str:
    """Where a document goes in the ZIP."""
    return f"documents/{document.year}/{document.id}-{_safe(document.name)}"


def _documents(session: Session, client: Client) -> Iterator[tuple[str, str]]:
    """Every document exchanged with the client (not those deleted), by year."""
    seen: set[str] = set()
    for document in session.scalars(select(Document).where(
            Document.client_id == client.id, Document.deleted_at.is_(None))
            .order_by(Document.year, Document.id)):
        path = document_path(document)
        if path not in seen:
            seen.add(path)
            yield path, document.storage_key


def _sealed_reports(session: Session, client: Client) -> Iterator[tuple[str, str]]:
    """Each sealed approval beside its report: the approved file and the sealed one are both
    in the ZIP, so the manifest lists both hashes."""
    for row, engagement, version in session.execute(
            select(SealedReport, Engagement, ReportVersion)
            .join(Engagement, Engagement.id == SealedReport.engagement_id)
            .join(ReportVersion, ReportVersion.id == SealedReport.report_version_id)
            .where(Engagement.client_id == client.id, SealedReport.state == "sealed")
            .order_by(SealedReport.id)):
        yield (f"reports/{_safe(engagement.label)}/v{version.number}-sealed-"
               f"{_safe(version.filename)}"), row.storage_key


# What each feature keeps of a client as stored files: (path in the ZIP, storage key).
FILE_SOURCES: list[Callable[[Session, Client], Iterator[tuple[str, str]]]] = [
    _documents, _sealed_reports]


def request_export(session: Session, actor: audit.Actor, client: Client, *,
                   for_client: bool = False, automatic: bool = False) -> ClientExport:
    with transaction(session):
        export = ClientExport(practice_id=client.practice_id, client_id=client.id,
                              client_name=client.name, requested_by=actor.label,
                              for_client=for_client, automatic=automatic)
        session.add(export)
        session.flush()
        audit.record(session, actor, "client.export_requested", client, export=export.id,
                     for_client=for_client)
    return export


def exports_of(session: Session, practice_id: int, *, client_id: int | None = None,
               for_client: bool | None = None, limit: int = 100) -> list[ClientExport]:
    query = select(ClientExport).where(ClientExport.practice_id == practice_id)
    if client_id is not None:
        query = query.where(ClientExport.client_id == client_id)
    if for_client is not None:
        query = query.where(ClientExport.for_client.is_(for_client))
    return list(session.scalars(query.order_by(ClientExport.id.desc()).limit(limit)))


def build_queued(session: Session, store: Storage) -> int:
    """Worker sweep: make the exports that wait, and remove those past their time."""
    from portal.tenancy.models import Practice

    made = 0
    for export_id in list(session.scalars(select(ClientExport.id).where(
            ClientExport.state == "queued").order_by(ClientExport.id))):
        with transaction(session):
            export = session.scalar(select(ClientExport).where(
                ClientExport.id == export_id, ClientExport.state == "queued")
                .with_for_update())
            if export is None:
                continue
            export.state = "running"
        try:
            key, size, digest = build(session, store, export)
        except Exception as error:  # a broken export must not stop the worker
            log.exception("export %s failed", export_id)
            with transaction(session):
                export.state, export.error = "failed", str(error)[:500]
            continue
        with transaction(session):
            export.state, export.storage_key, export.size, export.sha256 = (
                "ready", key, size, digest)
            export.ready_at = now()
            export.expires_at = now() + timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
            practice = session.get(Practice, export.practice_id)
            _mail_ready(session, practice, export)
        made += 1
    _remove_old(session, store)
    return made


def _mail_ready(session: Session, practice: Any, export: ClientExport) -> None:
    if export.automatic or "@" not in export.requested_by:
        return
    if export.for_client:
        link = notifications.practice_url(practice, "collaboration.client_exports",
                                          client_id=export.client_id)
    else:
        link = notifications.practice_url(practice, "collaboration.exports_list")
    notifications.enqueue(session, practice, notifications.Mail(
        to=export.requested_by, kind="export_ready",
        context={"client_name": export.client_name, "link": link,
                 "expires": export.expires_at}))


def _remove_old(session: Session, store: Storage) -> None:
    for export in list(session.scalars(select(ClientExport).where(
            ClientExport.state == "ready", ClientExport.expires_at <= now()))):
        with transaction(session):
            export.state = "expired"
            key, export.storage_key = export.storage_key, None
        if key:
            store.delete(key)


@dataclass
class _Entry:
    path: str
    size: int
    sha256: str


def _safe(name: str) -> str:
    name = re.sub(r"[^\w.\- ]+", "_", name, flags=re.UNICODE).strip(" ._") or "file"
    return name[:120]


def build(session: Session, store: Storage, export: ClientExport) -> tuple[str, int, str]:
    """Write the ZIP to a temporary file, then store it; returns (key, size, sha256)."""
    client = session.get(Client, export.client_id)
    if client is None:
        raise RuntimeError("the client no longer exists")
    handle, path = tempfile.mkstemp(suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            entries, report_paths = _fill(session, store, client, archive)
            manifest = {"client": {"name": client.name, "number": client.client_number,
                                   "kvk": client.kvk_number},
                        "made_at": now().isoformat(), "files": [e.__dict__ for e in entries]}
            archive.writestr("manifest.json", json.dumps(manifest, indent=2,
                                                         ensure_ascii=False))
            archive.writestr("index.html", export_index.index_html(
                session, client, entries, report_paths, document_path))
        with open(path, "rb") as finished:
            stored = store.put(finished)
        return stored.key, stored.size, stored.sha256
    finally:
        os.unlink(path)


def _copy(archive: zipfile.ZipFile, path: str, source: BinaryIO) -> _Entry:
    digest, size = hashlib.sha256(), 0
    with archive.open(path, "w", force_zip64=True) as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return _Entry(path, size, digest.hexdigest())


def _text(archive: zipfile.ZipFile, path: str, text: str) -> _Entry:
    data = text.encode()
    archive.writestr(path, data)
    return _Entry(path, len(data), hashlib.sha256(data).hexdigest())


def _fill(session: Session, store: Storage, client: Client,
          archive: zipfile.ZipFile) -> tuple[list[_Entry], dict[int, str]]:
    """Write the client's files and records; returns them, and where each report went."""
    entries: list[_Entry] = []
    report_paths: dict[int, str] = {}
    engagements = {e.id: e for e in session.scalars(select(Engagement).where(
        Engagement.client_id == client.id))}
    for version in session.scalars(select(ReportVersion).where(
            ReportVersion.engagement_id.in_(list(engagements))).order_by(ReportVersion.id)):
        engagement = engagements[version.engagement_id]
        name = f"reports/{_safe(engagement.label)}/v{version.number}-{_safe(version.filename)}"
        with store.open(version.storage_key) as source:
            entries.append(_copy(archive, name, source))
        report_paths[version.id] = name
    for source_of in FILE_SOURCES:
        for name, key in source_of(session, client):
            with store.open(key) as source:
                entries.append(_copy(archive, name, source))
    evidence = [{
        "engagement": engagements[share.engagement_id].label, "share": share.id,
        "mode": share.mode, "state": share.state, "shared_at": share.created_at.isoformat(),
        "signers": [{
            "email": s.email, "position": s.position, "decision": s.decision,
            "decided_at": s.decided_at.isoformat() if s.decided_at else None,
            "by": s.decided_by, "through": s.decided_through, "ip": s.ip,
            "user_agent": s.user_agent, "sha256": s.decided_sha256, "comment": s.comment,
            "statement": s.statement} for s in signers]}
        for share, signers in _shares(session, client)]
    entries.append(_text(archive, "approvals.json",
                         json.dumps(evidence, indent=2, ensure_ascii=False)))
    assignments = list(session.scalars(select(Assignment).where(
        Assignment.client_id == client.id).order_by(Assignment.id)))
    if assignments:
        entries.append(_text(archive, "questionnaires.csv", questionnaire_export.as_csv(
            questionnaire_export.rows(session, assignments))))
    questions = [{"question": q.text, "state": q.state, "answer": q.answer,
                  "answered_by": q.answered_by,
                  "answered_at": q.answered_at.isoformat() if q.answered_at else None}
                 for q in session.scalars(select(Question).where(
                     Question.client_id == client.id).order_by(Question.id))]
    entries.append(_text(archive, "questions.json",
                         json.dumps(questions, indent=2, ensure_ascii=False)))
    events = [{"at": e.created_at.isoformat(), "action": e.action, "who": e.actor_label,
               "ip": e.ip, "data": e.data, "hash": e.hash}
              for e in session.scalars(select(AuditEvent).where(
                  AuditEvent.practice_id == client.practice_id,
                  AuditEvent.client_id == client.id).order_by(AuditEvent.id))]
    entries.append(_text(archive, "audit.json",
                         json.dumps(events, indent=2, ensure_ascii=False, default=str)))
    return entries, report_paths


def _shares(session: Session, client: Client) -> list[tuple[Share, list[Signer]]]:
    shares = list(session.scalars(select(Share).where(Share.client_id == client.id)
                                  .order_by(Share.id)))
    signers: dict[int, list[Signer]] = {s.id: [] for s in shares}
    if shares:
        for signer in session.scalars(select(Signer).where(Signer.share_id.in_(list(signers)))
                                      .order_by(Signer.id)):
            signers[signer.share_id].append(signer)
    return [(share, signers[share.id]) for share in shares]


def mark_downloaded(session: Session, actor: audit.Actor, export: ClientExport) -> None:
    with transaction(session):
        audit.record(session, actor, "client.export_downloaded",
                     Subject("client_exports", export.id, export.client_id))
