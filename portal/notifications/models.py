"""The mail outbox, and the tasks that wait on a client (what reminders and open actions use)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.db import Base

MESSAGE_STATES = ("queued", "sending", "sent", "failed")
TASK_STATES = ("open", "done", "cancelled")


class OutboxMessage(Base):
    """One mail to one recipient, written in the transaction of the change that causes it
    and sent later by `portal worker`."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_practice_state", "practice_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))  # which mail template, for staff's lists
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]


class ClientTask(Base):
    """Something with a deadline that waits on a client: a report to approve, a
    questionnaire or question list to answer, documents requested, an offer to confirm.

    Each feature keeps its own table and keeps this row in step in the same transaction;
    reminders and the portal's open actions read only this table.
    """

    __tablename__ = "client_tasks"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id"),
        Index("ix_client_tasks_client_state", "client_id", "state", "deadline"),
        Index("ix_client_tasks_due", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    deadline: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(10), default="open")
    # The last reminder moment handled, in days relative to the deadline (-7, -2, 1, ...).
    reminded_offset: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]
