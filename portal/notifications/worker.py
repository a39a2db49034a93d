"""`portal worker`: sends due mail from the outbox and runs the periodic sweeps.

Messages are claimed in a short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers never take the same message; SQLite runs one worker), sent over one SMTP
connection per batch, then marked one by one. A failed attempt is retried after about
1 min, 5 min, 30 min, 2 h and 12 h; after that the message is marked failed for staff to
see. SIGTERM lets the message in hand finish, puts the rest back and stops.
"""

from __future__ import annotations

import logging
import signal
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import db
from portal.clock import now
from portal.db import transaction
from portal.notifications import transport
from portal.notifications.models import OutboxMessage
from portal.operations import heartbeat, observability

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 1800, 7200, 43200)  # seconds after the 1st .. 5th failed attempt
STALE = timedelta(minutes=15)  # a claim this old belonged to a worker that died
Sweep = Callable[[Session], int]


def register_sweep(app: Flask, name: str, sweep: Sweep) -> None:
    """A periodic job the worker runs (reminders, offer expiry, retention, ...)."""
    app.extensions.setdefault("portal.sweeps", {})[name] = sweep


@dataclass
class PassResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    swept: dict[str, int] = field(default_factory=dict)


def _is_permanent(error: Exception) -> bool:
    """5xx answers will not change on a retry; 4xx and lost connections might."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, smtplib.SMTPNotSupportedError)


class Worker:
    def __init__(self, app: Flask, *, batch: int = 100, poll_seconds: float = 5.0,
                 sweep_seconds: float = 60.0) -> None:
        self.app = app
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.stopping = threading.Event()
        self._last_sweep = None
        self.name = heartbeat.worker_name()  # its heartbeat row: /healthz, /metrics

    # --- running -------------------------------------------------------------------

    def stop(self, *_args: object) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Until stopped (SIGTERM or SIGINT): passes, then a nap when there was nothing."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.info("worker started")
        with self.app.app_context():
            heartbeat.forget_silent(db.session)
        while not self.stopping.is_set():
            result = self.run_pass(sweeps=self._sweep_due())
            if not (result.sent or result.retried or result.failed):
                self.stopping.wait(self.poll_seconds)
        log.info("worker stopped")

    def _sweep_due(self) -> bool:
        moment = now()
        if self._last_sweep is None or (moment - self._last_sweep).total_seconds() >= \
                self.sweep_seconds:
            self._last_sweep = moment
            return True
        return False

    def run_pass(self, *, sweeps: bool = True) -> PassResult:
        """One pass: the sweeps (when asked), then every message that is due."""
        result = PassResult()
        with observability.log_context(), self.app.app_context():  # an id per pass in the log
            session = db.session
            if sweeps:
                result.swept = self.run_sweeps(session)
            self._release_stale(session)
            while not self.stopping.is_set():
                heartbeat.beat(session, self.name)  # after the sweeps and every batch
                claimed = self._claim(session)
                if not claimed:
                    break
                self._send(session, claimed, result)
            if result.sent or result.retried or result.failed:
                log.info("mail pass: %d sent, %d to retry, %d failed",
                         result.sent, result.retried, result.failed)
        return result

    def run_sweeps(self, session: Session) -> dict[str, int]:
        done = {}
        pass_id = observability.current_id() or observability.new_id()
        sweeps = self.app.extensions.get("portal.sweeps", {}).items()
        for number, (name, sweep) in enumerate(sweeps, 1):
            started, failed = time.perf_counter(), False
            with observability.log_context(f"{pass_id}.{number}"):  # logged as <pass>.<n>
                try:
                    done[name] = sweep(session)
                except Exception:  # one broken sweep must not stop mail delivery
                    failed = True
                    log.exception("sweep %s failed", name)
                    session.rollback()
                heartbeat.record_sweep(session, name, time.perf_counter() - started,
                                       failed=failed)
        return done

    # --- the outbox ----------------------------------------------------------------

    def _release_stale(self, session: Session) -> None:
        with transaction(session):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < now() - STALE)
                .values(state="queued", claimed_at=None)
            )

    def _claim(self, session: Session) -> list[OutboxMessage]:
        with transaction(session):
            query = (select(OutboxMessage)
                     .where(OutboxMessage.state == "queued",
                            OutboxMessage.next_attempt_at <= now())
                     .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                     .limit(self.batch))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            claimed = list(session.scalars(query))
            moment = now()
            for message in claimed:
                message.state, message.claimed_at = "sending", moment
        return claimed

    def _send(self, session: Session, claimed: list[OutboxMessage], result: PassResult) -> None:
        pending = list(claimed)
        try:
            with transport.connect(self.app) as sender:
                while pending:
                    if self.stopping.is_set():
                        break
                    message = pending[0]
                    try:
                        sender.send(message)
                    except (smtplib.SMTPException, OSError) as error:
                        pending.pop(0)
                        if _is_permanent(error):
                            self._give_up(session, message, error, result)
                            continue
                        self._retry(session, [message], error, result)
                        if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
                            break  # the connection is gone: the rest waits for a new one
                        continue
                    pending.pop(0)
                    self._mark_sent(session, message, result)
        except (smtplib.SMTPException, OSError) as error:  # could not connect at all
            self._retry(session, pending, error, result)
            pending = []
        self._put_back(session, pending)

    def _mark_sent(self, session: Session, message: OutboxMessage, result: PassResult) -> None:
        with transaction(session):
            done = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.state == "sending")
                # The bodies go: they may hold one-time links, and a copy of the database
                # must not yield a working one. Subject and recipient stay for the record.
                .values(state="sent", sent_at=now(), attempts=OutboxMessage.attempts + 1,
                        last_error=None, text_body="", html_body="")
            ).rowcount
        result.sent += done

    def _retry(self, session: Session, messages: list[OutboxMessage], error: Exception,
               result: PassResult) -> None:
        text = f"{type(error).__name__}: {error}"[:500]
        with transaction(session):
            for message in messages:
                attempts = message.attempts + 1
                if attempts > len(BACKOFF):
                    values = {"state": "failed"}
                    result.failed += 1
                else:
                    values = {"state": "queued",
                              "next_attempt_at": now() + timedelta(seconds=BACKOFF[attempts - 1])}
                    result.retried += 1
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message.id, OutboxMessage.state == "sending")
                    .values(attempts=attempts, last_error=text, claimed_at=None, **values)
                )

    def _give_up(self, session: Session, message: OutboxMessage, error: Exception,
                 result: PassResult) -> None:
        with transaction(session):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.state == "sending")
                .values(state="failed", attempts=OutboxMessage.attempts + 1, claimed_at=None,
                        last_error=f"{type(error).__name__}: {error}"[:500])
            )
        result.failed += 1

    def _put_back(self, session: Session, messages: list[OutboxMessage]) -> None:
        """Claimed but not tried (stopping, or the connection broke): next pass takes them."""
        if not messages:
            return
        with transaction(session):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([m.id for m in messages]),
                       OutboxMessage.state == "sending")
                .values(state="queued", claimed_at=None)
            )



