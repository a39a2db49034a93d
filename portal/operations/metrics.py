"""Prometheus metrics: requests and their latency per endpoint, and what the database knows
(the outbox, failed mail, the worker's heartbeat, sweep durations) read at scrape time.

gunicorn runs several processes, and a scrape reaches one of them: the request metrics
use prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn's
settings set it), where each process writes its counts to a file of its own there and a
scrape adds up every file. Without it (one process: `portal run`) they live in the app.
The database's numbers are the same whichever process answers, so they are read from
the database on each scrape instead of being kept by anyone.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from portal.clock import now
from portal.config import ConfigError
from portal.notifications.models import OutboxMessage
from portal.operations.models import SweepRun, WorkerHeartbeat

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds; most pages take a few milliseconds, an upload or an export seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Methods as labels: anything else a client invents is "other", so it adds no series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OUTBOX_STATES = ("queued", "sending", "failed")  # sent mail only grows: not counted
MIN_TOKEN_LENGTH = 16


class RequestMetrics:
    """The request counters of one app (a registry of its own, so that apps in one
    process, as in the tests, do not count each other's requests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "portal_http_requests", "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "portal_http_request_duration_seconds",
            "Time from the start of a request to its response, by endpoint.",
            ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)


def init_app(app: Flask) -> None:
    token = app.config.get("METRICS_TOKEN")
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"PORTAL_METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} "
                          'characters; make one with: python -c "import secrets; '
                          'print(secrets.token_urlsafe(32))"')
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        os.makedirs(directory, exist_ok=True)
    app.extensions["portal.metrics"] = RequestMetrics()
    app.before_request_funcs.setdefault(None, []).insert(0, _start_clock)
    app.after_request(_count_request)


def _start_clock() -> None:
    g.request_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    metrics: RequestMetrics = current_app.extensions["portal.metrics"]
    # Unknown URLs are one series ("unmatched"), not one per path anyone tries.
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in METHODS else "other"
    started = g.pop("request_started", None)
    try:
        metrics.requests.labels(endpoint, method, str(response.status_code)).inc()
        if started is not None:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
    except OSError as error:  # PROMETHEUS_MULTIPROC_DIR gone: the user still gets the page
        log.warning("request not counted for /metrics: %s", error)
    return response


def multiprocess() -> bool:
    """Whether this process counts in files: decided when prometheus-client was imported
    (by the environment then), so that is what is asked, not the environment now."""
    return values.ValueClass is not values.MutexValue


class _Together:
    """Several collectors as one source for generate_latest."""

    def __init__(self, *collectors: Any) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(app: Flask, session: Session) -> bytes:
    """The text a scrape gets: every process's request metrics and the database's."""
    requests = MultiProcessCollector(None) if multiprocess() else \
        app.extensions["portal.metrics"].registry
    stale = timedelta(seconds=app.config["WORKER_STALE_SECONDS"])
    return generate_latest(_Together(requests, DatabaseCollector(session, stale)))  # type: ignore[arg-type]


class DatabaseCollector:
    """What every process sees alike, read when Prometheus asks (a handful of small
    queries on indexed columns and two tiny tables)."""

    def __init__(self, session: Session, stale: timedelta) -> None:
        self.session = session
        self.stale = stale

    def collect(self) -> Iterable[Metric]:
        yield from self._outbox()
        yield from self._worker()
        yield from self._sweeps()

    def _outbox(self) -> Iterator[Metric]:
        counts = dict(self.session.execute(
            select(OutboxMessage.state, func.count())
            .where(OutboxMessage.state.in_(OUTBOX_STATES))
            .group_by(OutboxMessage.state)).tuples().all())
        messages = GaugeMetricFamily(
            "portal_outbox_messages",
            "Mail in the outbox by state: queued (waiting or to retry), sending, failed "
            "(given up, shown to the practice's admins).", labels=["state"])
        for state in OUTBOX_STATES:
            messages.add_metric([state], counts.get(state, 0))
        yield messages
        oldest = self.session.scalar(select(func.min(OutboxMessage.created_at))
                                     .where(OutboxMessage.state == "queued"))
        age = max(0.0, (now() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "portal_outbox_oldest_queued_age_seconds",
            "Age of the oldest mail still queued (0 when none is).", value=age)

    def _worker(self) -> Iterator[Metric]:
        last, alive = self.session.execute(select(
            func.max(WorkerHeartbeat.last_pass_at),
            func.count().filter(WorkerHeartbeat.last_pass_at >= now() - self.stale))).one()
        if last is not None:
            yield GaugeMetricFamily(
                "portal_worker_last_pass_timestamp_seconds",
                "When a worker last checked in (Unix time), the newest of all workers.",
                value=last.timestamp())
        yield GaugeMetricFamily(
            "portal_workers_alive", "Workers that checked in within PORTAL_WORKER_STALE_SECONDS.",
            value=alive or 0)

    def _sweeps(self) -> Iterator[Metric]:
        runs = list(self.session.scalars(select(SweepRun).order_by(SweepRun.sweep)))
        durations = SummaryMetricFamily(
            "portal_sweep_duration_seconds", "Time the worker's sweeps took, by sweep.",
            labels=["sweep"])
        failures = CounterMetricFamily(
            "portal_sweep_failures", "Sweep runs that ended in an error, by sweep.",
            labels=["sweep"])
        last = GaugeMetricFamily(
            "portal_sweep_last_duration_seconds", "Time the latest run of a sweep took.",
            labels=["sweep"])
        when = GaugeMetricFamily(
            "portal_sweep_last_run_timestamp_seconds", "When a sweep last ran (Unix time).",
            labels=["sweep"])
        for run in runs:
            durations.add_metric([run.sweep], count_value=run.runs, sum_value=run.seconds_total)
            failures.add_metric([run.sweep], run.failures)
            last.add_metric([run.sweep], run.last_seconds)
            when.add_metric([run.sweep], run.last_run_at.timestamp())
        yield from (durations, failures, last, when)
