"""Audit events: who did what, when, from where; chained by hash per practice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_practice_id_id", "practice_id", "id"),
        Index("ix_audit_events_client", "practice_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    actor_type: Mapped[str] = mapped_column(String(10))  # staff, client, link, system
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    client_id: Mapped[int | None]  # kept without a foreign key: events outlive clients
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheck(Base):
    """The latest check of a practice's chain (one row per practice). The audit page shows
    it instead of reading the whole log on every visit; the worker runs the checks."""

    __tablename__ = "audit_checks"

    practice_id: Mapped[int] = mapped_column(
        ForeignKey("practices.id", ondelete="CASCADE"), primary_key=True)
    requested_at: Mapped[datetime | None]  # an admin asked for a check that has not run yet
    checked_at: Mapped[datetime | None]
    events: Mapped[int] = mapped_column(default=0)  # how many events the check read
    finding: Mapped[str] = mapped_column(String(10), default="intact")  # see service.FINDINGS
    broken_id: Mapped[int | None]  # the event where the chain stops holding
    # The newest event of the last intact check: it must still be there, unchanged, so
    # events removed from the end of the log are found too.
    head_id: Mapped[int | None]
    head_hash: Mapped[str | None] = mapped_column(String(64))


class AuditAnchor(Base):
    """The head of a practice's chain at one moment, timestamped by an RFC 3161 server and
    mailed to the practice's admins: evidence outside the database that the chain up to
    that event was as it is, so neither a rewritten nor a shortened log goes unseen."""

    __tablename__ = "audit_anchors"
    __table_args__ = (Index("ix_audit_anchors_practice_id_id", "practice_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    event_id: Mapped[int]  # the chain's newest event when the anchor was made
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    # stamped: token holds the server's answer; pending: the server failed, tried again
    # later (last_error says why); unstamped: no server is configured, only mailed.
    state: Mapped[str] = mapped_column(String(10))
    token: Mapped[bytes | None] = mapped_column(LargeBinary)  # DER ContentInfo (RFC 3161)
    stamped_at: Mapped[datetime | None]  # the server's time (genTime), never our clock's
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    mailed_at: Mapped[datetime | None]
