"""The reminder engine: one sweep over every open task with a deadline, set-based.

Each practice says when to remind, in days relative to the deadline (default 7 and 2 days
before, 1 day after), at 09:00 Amsterdam time on those days. A sweep finds, per task, the
latest moment that has passed since the task was created; when that moment is newer than
the one last handled, the task's feature composes the mails (its own links and recipients)
and they are queued. The moment is
claimed with a conditional UPDATE, so two sweeps never remind twice. Nothing goes out for
tasks that are done or cancelled, or for clients that are blocked or ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from flask import Flask
from sqlalchemy import JSON, column, or_, select, table, update
from sqlalchemy.orm import Session

from portal.clock import AMSTERDAM, now
from portal.db import transaction
from portal.notifications.mail import Branded, Mail
from portal.notifications.models import ClientTask
from portal.notifications.service import enqueue_many

DEFAULT_DAYS = (-7, -2, 1)
REMINDER_TIME = time(9, 0)  # Amsterdam: the start of an office day
INACTIVE_CLIENTS = ("blocked", "ended", "left")

# Read by name: the engine sits below the feature packages and imports none of them.
_practices = table("practices", column("id"), column("reminder_days", JSON))
_clients = table("clients", column("id"), column("status"), column("tier"))


@dataclass(frozen=True)
class DueTask:
    id: int
    practice_id: int
    client_id: int
    kind: str
    subject_id: int
    title: str
    deadline: datetime
    offset: int  # days relative to the deadline of the moment being reminded

    @property
    def moment(self) -> datetime:
        return reminder_moment(self.deadline, self.offset)


@lru_cache(maxsize=4096)  # a season's tasks share a handful of deadlines
def reminder_moment(deadline: datetime, days: int) -> datetime:
    """09:00 in the Netherlands, `days` calendar days from the deadline's day: a reminder
    arrives in the morning (a deadline is the end of its day, which would mail at 23:59),
    and "2 days before" stays on its day when a change to or from summer time falls between."""
    day = deadline.astimezone(AMSTERDAM).date() + timedelta(days=days)
    return datetime.combine(day, REMINDER_TIME, tzinfo=AMSTERDAM).astimezone(UTC)


# A feature's composer turns its due tasks into mails: its recipients, its links.
Composer = Callable[[Session, list[DueTask]], list[tuple[Branded, Mail]]]


def register(app: Flask, kind: str, composer: Composer) -> None:
    app.extensions.setdefault("portal.reminder_composers", {})[kind] = composer


def due(session: Session, *, tiers: Iterable[str], moment: datetime | None = None
        ) -> list[DueTask]:
    """Open tasks whose latest passed reminder moment has not been handled yet."""
    moment = moment or now()
    days = {pid: sorted(set(d or DEFAULT_DAYS)) for pid, d in session.execute(
        select(_practices.c.id, _practices.c.reminder_days))}
    earliest = min((min(d) for d in days.values()), default=min(DEFAULT_DAYS))
    latest = max((max(d) for d in days.values()), default=max(DEFAULT_DAYS))
    rows = session.execute(
        select(ClientTask.id, ClientTask.practice_id, ClientTask.client_id, ClientTask.kind,
               ClientTask.subject_id, ClientTask.title, ClientTask.deadline,
               ClientTask.created_at, ClientTask.reminded_offset)
        .join(_clients, _clients.c.id == ClientTask.client_id)
        .where(ClientTask.state == "open",
               ClientTask.deadline.is_not(None),
               # only tasks for which some moment can have passed, and not long ago
               # (a day to spare: a calendar day across a DST change is 23 or 25 hours)
               ClientTask.deadline <= moment - timedelta(days=earliest - 1),
               ClientTask.deadline >= moment - timedelta(days=latest + 30),
               _clients.c.status.not_in(INACTIVE_CLIENTS),
               _clients.c.tier.in_(list(tiers)))
    )
    found = []
    for row in rows:
        passed = [d for d in days.get(row.practice_id, DEFAULT_DAYS)
                  if row.created_at < reminder_moment(row.deadline, d) <= moment]
        if not passed:
            continue
        offset = max(passed)
        if row.reminded_offset is not None and row.reminded_offset >= offset:
            continue
        found.append(DueTask(row.id, row.practice_id, row.client_id, row.kind,
                             row.subject_id, row.title, row.deadline, offset))
    return found


def sweep(session: Session, composers: dict[str, Composer], *, tiers: Iterable[str],
          moment: datetime | None = None) -> int:
    """Send what is due, once. Returns the number of mails queued."""
    with transaction(session):
        tasks = due(session, tiers=tiers, moment=moment)
        claimed = _claim(session, tasks)
        by_kind: dict[str, list[DueTask]] = defaultdict(list)
        for task in claimed:
            by_kind[task.kind].append(task)
        queued = 0
        for kind, group in by_kind.items():
            composer = composers.get(kind)
            if composer is None:
                continue
            by_practice: dict[int, tuple[Branded, list[Mail]]] = {}
            for practice, mail in composer(session, group):
                by_practice.setdefault(practice.id, (practice, []))[1].append(mail)
            for practice, mails in by_practice.values():
                queued += enqueue_many(session, practice, mails)
    return queued


def _claim(session: Session, tasks: list[DueTask]) -> list[DueTask]:
    """Mark each task's moment as handled; a task another sweep handled already drops out."""
    by_offset: dict[int, dict[int, DueTask]] = defaultdict(dict)
    for task in tasks:
        by_offset[task.offset][task.id] = task
    claimed = []
    for offset, group in by_offset.items():
        ids = list(group)
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            won = session.scalars(
                update(ClientTask)
                .where(ClientTask.id.in_(chunk),
                       or_(ClientTask.reminded_offset.is_(None),
                           ClientTask.reminded_offset < offset))
                .values(reminded_offset=offset)
                .returning(ClientTask.id)
                .execution_options(synchronize_session=False)
            ).all()
            claimed.extend(group[i] for i in won)
    return claimed


def reset(task: ClientTask) -> None:
    """A task's deadline moved: its reminder moments start again."""
    task.reminded_offset = None
