"""What the worker tells everyone else: when it last checked in, and how its sweeps go.

In the database, because the worker may run on another machine than the web processes
that answer /healthz and /metrics. Neither table holds anything of a practice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class WorkerHeartbeat(Base):
    """One row per running `portal worker` (host:pid), written every pass."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime]
    last_pass_at: Mapped[datetime]


class SweepRun(Base):
    """Each sweep's runs so far, over all workers: counted up in place, one row a sweep."""

    __tablename__ = "sweep_runs"

    sweep: Mapped[str] = mapped_column(String(100), primary_key=True)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(BigInteger, default=0)
    total_us: Mapped[int] = mapped_column(BigInteger, default=0)  # microseconds, all runs
    last_us: Mapped[int] = mapped_column(BigInteger, default=0)
    last_failed: Mapped[bool] = mapped_column(default=False)
    last_run_at: Mapped[datetime]

    @property
    def seconds_total(self) -> float:
        return self.total_us / 1e6

    @property
    def last_seconds(self) -> float:
        return self.last_us / 1e6
