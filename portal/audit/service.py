"""Recording and verifying audit events.

Each event stores an HMAC-SHA256 of its own content chained to the practice's previous
event, so changing or removing an event breaks the chain from that event on. The key lives
outside the database (PORTAL_AUDIT_KEY, or derived from PORTAL_SECRET_KEY): whoever can
write to the database but lacks the key cannot write a chain that holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.orm import Session

from portal.audit.models import AuditCheck, AuditEvent
from portal.clock import now
from portal.db import transaction
from portal.paging import PAGE_SIZE, Page, clamp

GENESIS = "0" * 64
_CHAIN_LOCK = 4_711  # first key of the PostgreSQL advisory lock that guards a chain


@dataclass(frozen=True)
class Actor:
    """Who acts and from where. Views build it from the request; services pass it on."""

    practice_id: int
    type: str  # staff, client, link, system
    id: int | None
    label: str
    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def system(cls, practice_id: int) -> Actor:
        return cls(practice_id=practice_id, type="system", id=None, label="system")


@dataclass(frozen=True)
class Subject:
    """What an event is about: a row by type and id, and the client it concerns if any."""

    type: str | None
    id: int | None
    client_id: int | None = None

    @classmethod
    def of(cls, row: Any) -> Subject:
        client_id = row.id if row.__tablename__ == "clients" else getattr(row, "client_id", None)
        return cls(type=row.__tablename__, id=row.id, client_id=client_id)


def _content(event: dict[str, Any]) -> str:
    keys = ("practice_id", "created_at", "actor_type", "actor_id", "actor_label", "action",
            "subject_type", "subject_id", "client_id", "data", "ip", "user_agent")
    content = {k: event[k] for k in keys}
    content["created_at"] = event["created_at"].isoformat()
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


@lru_cache(maxsize=8)
def derived_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"portal: audit chain v1").derive(secret.encode())


def chain_keys() -> list[bytes]:
    """The keys an event's hash may be made with, the one new events use first:
    PORTAL_AUDIT_KEY when set, then those derived from the secret key and its fallbacks
    (events recorded before either was changed still verify while the old one is kept)."""
    config = current_app.config
    secrets = [config["SECRET_KEY"], *config["SECRET_KEY_FALLBACKS"]]
    own = [config["AUDIT_KEY"].encode()] if config.get("AUDIT_KEY") else []
    return own + [derived_key(secret) for secret in secrets]


def digest(prev_hash: str, event: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, (prev_hash + _content(event)).encode(), hashlib.sha256).hexdigest()


def _holds(event: Any, keys: list[bytes]) -> bool:
    """The event's hash is that of its content after its prev_hash, under one of the keys."""
    fields = _fields(event)
    return any(hmac.compare_digest(event.hash, digest(event.prev_hash, fields, key))
               for key in keys)


def _tail(session: Session, practice_id: int) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions must not both chain onto the same last event.
        session.execute(text("SELECT pg_advisory_xact_lock(:k, :p)"),
                        {"k": _CHAIN_LOCK, "p": practice_id})
    last = session.scalar(
        select(AuditEvent.hash)
        .where(AuditEvent.practice_id == practice_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return last or GENESIS


def record(session: Session, actor: Actor, action: str, subject: Any = None,
           **data: Any) -> None:
    """Append one event to the practice's chain, inside the caller's transaction."""
    record_many(session, actor, action, [(subject, data)])


def record_many(session: Session, actor: Actor, action: str,
                items: Iterable[tuple[Any, dict[str, Any]]]) -> int:
    """Append one event per (subject, data) in one statement: for bulk changes."""
    session.flush()
    key = chain_keys()[0]
    prev = _tail(session, actor.practice_id)
    moment = now()
    rows = []
    for subject, data in items:
        about = subject if isinstance(subject, Subject | None) else Subject.of(subject)
        event = {
            "practice_id": actor.practice_id,
            "created_at": moment,
            "actor_type": actor.type,
            "actor_id": actor.id,
            "actor_label": actor.label,
            "action": action,
            "subject_type": about.type if about else None,
            "subject_id": about.id if about else None,
            "client_id": about.client_id if about else None,
            "data": data,
            "ip": actor.ip,
            "user_agent": (actor.user_agent or "")[:300] or None,
        }
        event["prev_hash"] = prev
        event["hash"] = prev = digest(prev, event, key)
        rows.append(event)
    if rows:
        session.execute(insert(AuditEvent), rows)
    return len(rows)


def _fields(event: Any) -> dict[str, Any]:
    return {c: getattr(event, c) for c in (
        "practice_id", "created_at", "actor_type", "actor_id", "actor_label", "action",
        "subject_type", "subject_id", "client_id", "data", "ip", "user_agent")}


def verify(session: Session, practice_id: int) -> Any | None:
    """The first event of the practice whose chain does not hold (a row with the event's
    columns), or None when intact."""
    return _walk(session, practice_id)[0]


def _walk(session: Session, practice_id: int) -> tuple[Any | None, int, tuple[Any, Any]]:
    """Read the whole chain: the first event where it breaks (or None), how many events
    hold, and the id and hash of the newest of those. Rows, not objects: a check reads
    every event of the practice."""
    prev, count, head = GENESIS, 0, (None, None)
    keys = chain_keys()
    events = session.execute(
        select(*AuditEvent.__table__.c).where(AuditEvent.practice_id == practice_id)
        .order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    for event in events:
        if event.prev_hash != prev or not _holds(event, keys):
            return event, count, head
        prev, count, head = event.hash, count + 1, (event.id, event.hash)
    return None, count, head


def was_changed(event: Any) -> bool:
    """For the event verify() reports: True when its own content no longer matches its
    hash (it was changed); False when it is intact but does not follow on the event before
    it (an event before it was removed, or that one's hash was changed)."""
    return not _holds(event, chain_keys())


# --- checks: the whole chain read in the background, the finding kept -----------------------
# Reading a chain costs time in proportion to the log (a bulk change of 5,000 clients adds
# 5,000 events), so the audit page shows the latest check and the worker runs them: each
# chain once a day, and within a minute when an admin asks.

INTACT, CHANGED, REMOVED, SHORTENED = "intact", "changed", "removed", "shortened"
FINDINGS = (INTACT, CHANGED, REMOVED, SHORTENED)
CHECK_EVERY = timedelta(days=1)
CHECKS_PER_PASS = 20  # chains one worker pass reads at most: mail is not held up long
DISCOVER_EVERY_SECONDS = 3600  # how often the worker looks for practices never checked
# The engine (one per app, so per database) -> when this process last looked.
_discovered_at: WeakKeyDictionary[Any, float] = WeakKeyDictionary()


def latest_check(session: Session, practice_id: int) -> AuditCheck | None:
    return session.get(AuditCheck, practice_id)


def broken_event(session: Session, found: AuditCheck | None) -> AuditEvent | None:
    """The event a check found broken, when it is still there."""
    if found is None or found.broken_id is None:
        return None
    return session.scalar(select(AuditEvent).where(AuditEvent.practice_id == found.practice_id,
                                                   AuditEvent.id == found.broken_id))


def request_check(session: Session, actor: Actor) -> AuditCheck:
    """An admin asks for a check of the practice's chain now; the worker runs it."""
    with transaction(session):
        row = _check_row(session, actor.practice_id)
        row.requested_at = row.requested_at or now()
    return row


def check(session: Session, practice_id: int) -> AuditCheck:
    """Read the practice's whole chain now and keep the finding: an event changed, one
    removed, or events removed from the end, which the chain alone cannot show: the newest
    event the last intact check read must still be there, unchanged. A broken chain keeps
    that event as the reference, so the finding stays on every later check until someone
    restores the log. The chain is read outside the short transaction that keeps the
    finding: on SQLite a write transaction would hold up every other writer meanwhile."""
    before = session.get(AuditCheck, practice_id)
    reference = (before.head_id, before.head_hash) if before else (None, None)
    broken, count, head = _walk(session, practice_id)
    if broken is not None:
        finding, broken_id = (CHANGED if was_changed(broken) else REMOVED), broken.id
    elif reference[0] is not None and session.scalar(
            select(AuditEvent.hash).where(AuditEvent.practice_id == practice_id,
                                          AuditEvent.id == reference[0])) != reference[1]:
        finding, broken_id = SHORTENED, reference[0]
    else:
        finding, broken_id, reference = INTACT, None, head
    with transaction(session):
        row = _check_row(session, practice_id)
        row.requested_at, row.checked_at, row.events = None, now(), count
        row.finding, row.broken_id = finding, broken_id
        row.head_id, row.head_hash = reference
    return row


def check_due(session: Session) -> int:
    """Worker sweep: the chains admins asked for first, then those not checked for a day
    and, hourly, the practices with events that were never checked; each check in its own
    transaction. Returns the number of chains read."""
    moment = now()
    due = list(session.scalars(
        select(AuditCheck.practice_id)
        .where(or_(AuditCheck.requested_at.is_not(None),
                   AuditCheck.checked_at.is_(None),
                   AuditCheck.checked_at < moment - CHECK_EVERY))
        .order_by(AuditCheck.requested_at.is_(None), AuditCheck.checked_at.nulls_first())
        .limit(CHECKS_PER_PASS)))
    due += _never_checked(session, CHECKS_PER_PASS - len(due))
    session.rollback()
    for practice_id in due:
        check(session, practice_id)
        session.rollback()  # the next chain is read in a transaction of its own
    return len(due)


def _never_checked(session: Session, room: int) -> list[int]:
    key = session.get_bind()
    last = _discovered_at.get(key)
    if room <= 0 or (last is not None and time.monotonic() - last < DISCOVER_EVERY_SECONDS):
        return []
    found = list(session.scalars(
        select(AuditEvent.practice_id).distinct()
        .where(AuditEvent.practice_id.not_in(select(AuditCheck.practice_id)))
        .order_by(AuditEvent.practice_id).limit(room)))
    if len(found) < room:  # all found: look again in an hour
        _discovered_at[key] = time.monotonic()
    return found


def _check_row(session: Session, practice_id: int) -> AuditCheck:
    row = session.get(AuditCheck, practice_id)
    if row is None:
        row = AuditCheck(practice_id=practice_id, events=0, finding=INTACT)
        session.add(row)
    return row


@dataclass(frozen=True)
class EventFilter:
    """What the audit log page narrows the events to; None means "any"."""

    action: str | None = None  # an action, or the start of one ("staff." for all staff events)
    actor: str | None = None  # part of the actor's e-mail address (or "system")
    client_id: int | None = None
    since: datetime | None = None  # from this moment on (aware)
    until: datetime | None = None  # before this moment (aware)


def events(session: Session, practice_id: int, where: EventFilter, *, page: int,
           page_size: int = PAGE_SIZE) -> Page:
    """One page of the practice's events, newest first, and how many match in all: two
    queries whatever the size of the log."""
    query = select(AuditEvent).where(AuditEvent.practice_id == practice_id)
    if where.action:
        query = query.where(AuditEvent.action.startswith(where.action, autoescape=True))
    if where.actor:
        query = query.where(func.lower(AuditEvent.actor_label)
                            .contains(where.actor.lower(), autoescape=True))
    if where.client_id is not None:
        query = query.where(AuditEvent.client_id == where.client_id)
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.created_at < where.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = clamp(page, total, page_size)
    rows = session.scalars(query.order_by(AuditEvent.id.desc())
                           .limit(page_size).offset((page - 1) * page_size))
    return Page(rows=list(rows), total=total, page=page, page_size=page_size)
