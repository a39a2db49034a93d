"""Recording and verifying audit events.

Each event stores the SHA-256 of its own content chained to the practice's previous
event, so changing or removing an event breaks the chain from that event on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from portal.audit.models import AuditEvent
from portal.clock import now

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


def verify(session: Session, practice_id: int) -> AuditEvent | None:
    """The first event of the practice whose chain does not hold, or None when intact."""
    prev = GENESIS
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.practice_id == practice_id)
        .order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    for event in events:
        fields = {c: getattr(event, c) for c in (
            "practice_id", "created_at", "actor_type", "actor_id", "actor_label", "action",
            "subject_type", "subject_id", "client_id", "data", "ip", "user_agent")}
        if event.prev_hash != prev or event.hash != digest(prev, fields):
            return event
        prev = event.hash
    return None
