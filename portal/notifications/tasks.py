"""Keeping a feature's task that waits on a client in step with the feature's own row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.clock import now
from portal.notifications.models import ClientTask


def open_task(session: Session, *, practice_id: int, client_id: int, kind: str,
              subject_id: int, title: str, deadline: datetime | None) -> ClientTask:
    """Open (or reopen) the task of one feature row: it is shown and reminded of."""
    task = session.scalar(select(ClientTask).where(ClientTask.kind == kind,
                                                   ClientTask.subject_id == subject_id))
    if task is None:
        task = ClientTask(practice_id=practice_id, client_id=client_id, kind=kind,
                          subject_id=subject_id)
        session.add(task)
    task.title, task.deadline, task.state = title, deadline, "open"
    task.reminded_offset, task.closed_at = None, None
    task.created_at = now()
    return task


def close_task(session: Session, *, kind: str, subject_id: int, state: str = "done") -> None:
    """Done or cancelled: no more reminders, no longer an open action."""
    session.execute(
        update(ClientTask)
        .where(ClientTask.kind == kind, ClientTask.subject_id == subject_id,
               ClientTask.state == "open")
        .values(state=state, closed_at=now())
        .execution_options(synchronize_session=False)
    )
