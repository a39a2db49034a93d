"""The worker checks in (every pass, every batch of mail) and records each sweep's run;
/healthz and /metrics read it from any process."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.clock import now
from portal.db import transaction
from portal.operations.models import SweepRun, WorkerHeartbeat

log = logging.getLogger(__name__)
FORGET_AFTER = timedelta(days=7)  # a worker silent this long is gone: its row goes


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _insert(session: Session, model: type) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def beat(session: Session, worker: str) -> None:
    """This worker is alive now. A failure to say so is logged; mail goes on."""
    moment = now()
    statement = _insert(session, WorkerHeartbeat).values(
        worker=worker, started_at=moment, last_pass_at=moment)
    _write(session, statement.on_conflict_do_update(
        index_elements=["worker"], set_={"last_pass_at": moment}), "heartbeat")


def record_sweep(session: Session, sweep: str, seconds: float, *, failed: bool) -> None:
    """Count one run of a sweep in place: several workers may count at once."""
    moment, took = now(), int(seconds * 1e6)
    statement = _insert(session, SweepRun).values(
        sweep=sweep, runs=1, failures=int(failed), total_us=took, last_us=took,
        last_failed=failed, last_run_at=moment)
    _write(session, statement.on_conflict_do_update(index_elements=["sweep"], set_={
        "runs": SweepRun.runs + 1, "failures": SweepRun.failures + int(failed),
        "total_us": SweepRun.total_us + took, "last_us": took, "last_failed": failed,
        "last_run_at": moment}), f"sweep {sweep}")


def forget_silent(session: Session) -> None:
    """Rows of workers that stopped long ago (each start is a new host:pid) go."""
    _write(session, delete(WorkerHeartbeat).where(
        WorkerHeartbeat.last_pass_at < now() - FORGET_AFTER), "old heartbeats")


def _write(session: Session, statement: Any, what: str) -> None:
    try:
        with transaction(session):
            session.execute(statement)
    except SQLAlchemyError:  # the database's trouble shows in the sends and sweeps too
        log.exception("could not record the worker's %s", what)


def worker_health(session: Session, stale_after: timedelta) -> dict[str, Any]:
    """For /healthz: when a worker last checked in, and whether that is too long ago.
    Nothing else (no host names, nothing of a practice)."""
    last = session.scalar(select(func.max(WorkerHeartbeat.last_pass_at)))
    if last is None:
        return {"state": "never", "last_pass": None}
    age = max(0, int((now() - last).total_seconds()))
    return {"state": "stale" if age > stale_after.total_seconds() else "ok",
            "last_pass": last.isoformat(timespec="seconds"), "age_seconds": age}
