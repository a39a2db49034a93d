"""Anchors: the head of a practice's chain, timestamped by an RFC 3161 server.

The key makes a rewritten chain detectable; an anchor makes a removed tail and a chain
rebuilt by someone who has the key detectable too: the server signs, at its own time, the
SHA-256 of (practice, event, hash), and the practice's admins get that in a mail. Each day
a practice with new events gets one. A failing server is tried again later and the anchor
says so: its time is never our clock's.
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.models import AuditAnchor, AuditEvent
from portal.clock import now
from portal.db import transaction

ANCHOR_EVERY = timedelta(days=1)
RETRY_AFTER = (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
STAMPED, PENDING, UNSTAMPED = "stamped", "pending", "unstamped"
PER_PASS = 50  # anchors one worker pass makes at most
LOOK_EVERY = timedelta(minutes=10)  # how often a worker looks for practices due
# The engine (one per app, so per database) -> when this process last looked.
_looked_at: WeakKeyDictionary[Any, datetime] = WeakKeyDictionary()


def message(practice_id: int, event_id: int, head_hash: str) -> bytes:
    """What the timestamp server signs (as its SHA-256): the chain up to this event."""
    return f"portal audit anchor v1\n{practice_id}\n{event_id}\n{head_hash}\n".encode()


def timestamper(config: Any) -> Any | None:
    """The RFC 3161 client for PORTAL_TSA_URL, or None when no server is configured."""
    url = config.get("TSA_URL")
    if not url:
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=config.get("TSA_TIMEOUT", 10))


def run(coroutine: Any) -> Any:
    """Run one of pyHanko's coroutines to its end, also where an event loop runs already
    in this thread (then in a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _stamp(stamper: Any, data: bytes) -> tuple[bytes, datetime]:
    token = run(stamper.async_timestamp(hashlib.sha256(data).digest(), "sha256"))
    return token.dump(), _tst_info(token)["gen_time"].native


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    return token["content"]["encap_content_info"]["content"].parsed


def due_practices(session: Session, practice_ids: list[int], limit: int = PER_PASS
                  ) -> list[int]:
    """Of these practices, those whose newest event is newer than their last anchor, made
    over a day ago (or never). Looked at every LOOK_EVERY per process, not on every pass
    of the worker: one indexed lookup per practice not anchored within the day."""
    key, moment = session.get_bind(), now()
    last_look = _looked_at.get(key)
    if last_look is not None and abs(moment - last_look) < LOOK_EVERY:
        return []
    _looked_at[key] = moment
    anchored = {practice_id: (event_id, created_at) for practice_id, event_id, created_at
                in session.execute(select(AuditAnchor.practice_id, func.max(
                    AuditAnchor.event_id), func.max(AuditAnchor.created_at))
                    .group_by(AuditAnchor.practice_id))}
    due = []
    for practice_id in practice_ids:
        event_id, created_at = anchored.get(practice_id, (0, None))
        if created_at is not None and created_at > moment - ANCHOR_EVERY:
            continue
        newest = session.scalar(select(AuditEvent.id).where(
            AuditEvent.practice_id == practice_id).order_by(AuditEvent.id.desc()).limit(1))
        if newest is not None and newest > event_id:
            due.append(practice_id)
            if len(due) == limit:
                break
    return due


def anchor(session: Session, practice_id: int, stamper: Any | None) -> AuditAnchor:
    """Anchor the practice's chain at its newest event now; stamped when the server answers
    (asked outside the write transaction: a slow server holds up no other writer)."""
    head = session.execute(select(AuditEvent.id, AuditEvent.hash)
                           .where(AuditEvent.practice_id == practice_id)
                           .order_by(AuditEvent.id.desc()).limit(1)).one()
    session.rollback()
    row = AuditAnchor(practice_id=practice_id, event_id=head.id, head_hash=head.hash,
                      created_at=now(), state=UNSTAMPED, attempts=0)
    if stamper is not None:
        for name, value in _attempt(row, stamper).items():
            setattr(row, name, value)
    with transaction(session):
        session.add(row)
    return row


def retry_pending(session: Session, stamper: Any | None) -> list[AuditAnchor]:
    """Ask the server again for the anchors it failed, once their wait is over; returns
    those it stamped now."""
    if stamper is None:
        return []
    ids = list(session.scalars(select(AuditAnchor.id).where(
        AuditAnchor.state == PENDING, AuditAnchor.next_attempt_at <= now())
        .order_by(AuditAnchor.id).limit(PER_PASS)))
    stamped = []
    for anchor_id in ids:
        row = session.get(AuditAnchor, anchor_id)
        if row is None:
            continue
        outcome = _attempt(row, stamper)
        session.rollback()
        with transaction(session):
            row = session.get(AuditAnchor, anchor_id, with_for_update=True)
            if row is None or row.state != PENDING:
                continue  # another worker did it meanwhile
            for name, value in outcome.items():
                setattr(row, name, value)
        if row.state == STAMPED:
            stamped.append(row)
    return stamped


def _attempt(row: AuditAnchor, stamper: Any) -> dict[str, Any]:
    """One request to the server: the anchor's new state, token or error, and next try."""
    attempts = row.attempts + 1
    try:
        token, stamped_at = _stamp(stamper, message(row.practice_id, row.event_id,
                                                    row.head_hash))
    except Exception as error:  # any failure of the server or the network: try again
        wait = RETRY_AFTER[min(attempts, len(RETRY_AFTER)) - 1]
        return {"state": PENDING, "attempts": attempts, "next_attempt_at": now() + wait,
                "last_error": described(error)[:300]}
    return {"state": STAMPED, "attempts": attempts, "token": token, "stamped_at": stamped_at,
            "next_attempt_at": None, "last_error": None}


def described(error: BaseException) -> str:
    """The error and what caused it (pyHanko wraps the server's answer in its own)."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__ or error.__context__
    return f"{text} ({described(cause)})" if cause is not None else text


# --- verifying ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnchorFinding:
    anchor: AuditAnchor
    problem: str | None  # None: the chain still holds this head and the token is sound
    trusted: bool  # the token's signer chains to PORTAL_TSA_CERT


def verify(session: Session, practice_id: int, trust_root: str | None) -> list[AnchorFinding]:
    """Each anchor of the practice: its event still there with the hash it had, and its
    token signed over exactly that (trusted when it chains to `trust_root`, a PEM file)."""
    roots = certificates(trust_root) if trust_root else []
    anchors = list(session.scalars(select(AuditAnchor).where(
        AuditAnchor.practice_id == practice_id).order_by(AuditAnchor.id)))
    hashes = dict(session.execute(select(AuditEvent.id, AuditEvent.hash).where(
        AuditEvent.practice_id == practice_id,
        AuditEvent.id.in_([a.event_id for a in anchors]))).tuples().all()) if anchors else {}
    found = []
    for row in anchors:
        stored = hashes.get(row.event_id)
        if stored is None:
            found.append(AnchorFinding(row, "the anchored event is gone", False))
        elif stored != row.head_hash:
            found.append(AnchorFinding(row, "the anchored event's hash is no longer the "
                                            "anchored one", False))
        elif row.state != STAMPED or row.token is None:
            found.append(AnchorFinding(row, None, False))
        else:
            found.append(_check_token(row, roots))
    return found


def _check_token(row: AuditAnchor, roots: list[asn1_x509.Certificate]) -> AnchorFinding:
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext

    expected = hashlib.sha256(message(row.practice_id, row.event_id, row.head_hash)).digest()
    try:
        token = cms.ContentInfo.load(row.token)
        if _tst_info(token)["message_imprint"]["hashed_message"].native != expected:
            return AnchorFinding(row, "the timestamp is of something else", False)
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = TimestampSignatureStatus(**run(validate_tst_signed_data(
            token["content"], context, lambda _algorithm: expected)))
    except Exception as error:  # a token that does not even parse
        return AnchorFinding(row, f"the timestamp cannot be read ({type(error).__name__})",
                             False)
    if not (status.intact and status.valid):
        return AnchorFinding(row, "the timestamp's signature does not hold", False)
    return AnchorFinding(row, None, status.trusted)


def certificates(path: str) -> list[asn1_x509.Certificate]:
    from asn1crypto import pem

    data = Path(path).read_bytes()
    if not pem.detect(data):
        return [asn1_x509.Certificate.load(data)]
    return [asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, True)]
