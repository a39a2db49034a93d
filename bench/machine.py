"""How much of the machine other work took while the bench ran (Linux; elsewhere unknown).

Every figure of the bench gets worse when something else runs beside it, so each phase
records the CPU time of the whole machine, of the bench's own processes (itself and every
child it waited for: loaders, gunicorn and its workers, wrk, the SMTP sink) and of
PostgreSQL (which mostly serves the bench); what is left was other work.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    machine: float | None  # CPU-seconds all CPUs spent busy since boot
    own: float
    postgres: float

    @classmethod
    def now(cls) -> Snapshot:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
            resource.RUSAGE_CHILDREN)
        own = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        return cls(_machine_busy(), own, _postgres())


def others_share(before: Snapshot, after: Snapshot, seconds: float) -> float | None:
    """The part (0..1) of all CPUs that other work used between two snapshots."""
    if before.machine is None or after.machine is None or seconds <= 0:
        return None
    others = (after.machine - before.machine) - (after.own - before.own) - (
        after.postgres - before.postgres)
    return max(0.0, min(1.0, others / (seconds * (os.cpu_count() or 1))))


def _machine_busy() -> float | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / TICK


def _postgres() -> float:
    """CPU-seconds of the PostgreSQL processes, with the ended backends the postmaster
    reaped (their time moves into its children's time)."""
    total = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1:stat.rfind(")")]
        if name.startswith("postgres"):
            fields = stat[stat.rfind(")") + 2:].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / TICK
