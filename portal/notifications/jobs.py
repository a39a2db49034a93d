"""Long work the worker does for a page (an import, engagements for thousands of clients):
a row per job with a state (queued, running, then done or failed), claimed by one worker.

A worker that dies leaves its job "running". Each chunk of work renews the claim, so a
claim older than STALE belongs to a worker that is gone, and the sweep takes the job over;
the jobs are written to go on from their last committed chunk. Any model with `id`,
`state` and `claimed_at` columns can be such a job.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal.clock import now
from portal.db import transaction

STALE = timedelta(minutes=10)  # a running job whose claim is this old lost its worker


class LostClaim(Exception):
    """Another worker took the job over (this one was thought dead): stop touching it."""


def _takeable(model: Any) -> Any:
    return or_(model.state == "queued",
               and_(model.state == "running",
                    or_(model.claimed_at.is_(None), model.claimed_at < now() - STALE)))


def due(session: Session, model: Any) -> list[int]:
    """The jobs a worker may take now: queued ones, and running ones whose worker died."""
    return list(session.scalars(select(model.id).where(_takeable(model)).order_by(model.id)))


class Claim:
    """One worker's hold on one job, taken by a conditional UPDATE (two workers never both
    hold it) and renewed in each chunk's transaction."""

    def __init__(self, model: Any, job_id: int, claimed_at: datetime) -> None:
        self.model, self.job_id, self.claimed_at = model, job_id, claimed_at

    @classmethod
    def take(cls, session: Session, model: Any, job_id: int) -> Claim | None:
        moment = now()
        with transaction(session):
            taken = session.execute(
                update(model).where(model.id == job_id, _takeable(model))
                .values(state="running", claimed_at=moment)
                .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        return cls(model, job_id, moment) if taken == 1 else None

    def renew(self, session: Session) -> None:
        """Inside a chunk's transaction: still ours? Then ours for another STALE."""
        moment = now()
        renewed = session.execute(
            update(self.model).where(self.model.id == self.job_id,
                                     self.model.state == "running",
                                     self.model.claimed_at == self.claimed_at)
            .values(claimed_at=moment)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if renewed != 1:
            raise LostClaim()
        self.claimed_at = moment


def claimed(session: Session, model: Any) -> Iterator[tuple[Any, Claim]]:
    """Each due job of `model` this worker could claim, loaded fresh, with its claim."""
    for job_id in due(session, model):
        claim = Claim.take(session, model, job_id)
        if claim is None:
            continue
        job = session.get(model, job_id, populate_existing=True)
        if job is not None:
            yield job, claim
