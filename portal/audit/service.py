"""Recording and verifying audit events.

Each event stores the SHA-256 of its own content chained to the practice's previous
event, so changing or removing an event breaks the chain from that event on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from portal.audit.models import AuditEvent
from portal.clock import now
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


def digest(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _content(event)).encode()).hexdigest()


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
        event["hash"] = prev = digest(prev, event)
        rows.append(event)
    if rows:
        session.execute(insert(AuditEvent), rows)
    return len(rows)


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {c: getattr(event, c) for c in (
        "practice_id", "created_at", "actor_type", "actor_id", "actor_label", "action",
        "subject_type", "subject_id", "client_id", "data", "ip", "user_agent")}


def verify(session: Session, practice_id: int) -> AuditEvent | None:
    """The first event of the practice whose chain does not hold, or None when intact."""
    prev = GENESIS
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.practice_id == practice_id)
        .order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    for event in events:
        if event.prev_hash != prev or event.hash != digest(prev, _fields(event)):
            return event
        prev = event.hash
    return None


def was_changed(event: AuditEvent) -> bool:
    """For the event verify() reports: True when its own content no longer matches its
    hash (it was changed); False when it is intact but does not follow on the event before
    it (an event before it was removed, or that one's hash was changed)."""
    return event.hash != digest(event.prev_hash, _fields(event))


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


@dataclass(frozen=True)
class ChainState:
    """What verify() found: nothing (intact), or the first event where the chain breaks and
    whether that event itself was changed (else one before it was removed)."""

    broken_at: AuditEvent | None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    @property
    def changed(self) -> bool:
        return self.broken_at is not None and was_changed(self.broken_at)


def chain_state(session: Session, practice_id: int) -> ChainState:
    return ChainState(verify(session, practice_id))
