"""Mail leaves through the outbox: atomic with its cause, delivered by the worker over real
SMTP, retried with backoff, failed where staff can see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.db import transaction
from portal.notifications import Mail, enqueue
from portal.notifications.models import OutboxMessage
from portal.notifications.service import NotInTransaction
from portal.notifications.worker import BACKOFF, Worker
from portal.tenancy.models import Practice
from tests.conftest import PG_URL
from tests.factories import Factory


def _reminder(to: str = "sanne@korst.example", **values) -> Mail:  # type: ignore[no-untyped-def]
    context = {"task": "Jaarrekening 2025", "client_name": "Bakkerij De Korst",
               "deadline": datetime(2026, 12, 15, 11, tzinfo=UTC),
               "link": "http://demo.localhost:5000/", "action": "Open the portal",
               "overdue": False, "custom_text": None}
    return Mail(to=to, kind="reminder", context=context, **values)


def _queue(app, practice_id: int, *mails: Mail) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        with transaction(db.session):
            for mail in mails:
                enqueue(db.session, practice, mail)


def _states(app) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return [(m.state, m.attempts) for m in db.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]


@pytest.fixture
def practice(mail_app):  # type: ignore[no-untyped-def]
    return Factory(mail_app).practice("demo", name="Bakker & Visser, Accountants",
                                      locale="nl", brand_color="#1d4f7a",
                                      reply_to="info@bakkervisser.example")


def test_mail_is_delivered_with_text_and_html_from_the_practice(mail_app, smtp, practice):
    _queue(mail_app, practice.id, _reminder(to_name="Sanne de Boer"))
    result = Worker(mail_app).run_pass()
    assert result.sent == 1 and len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["From"] == '"Bakker & Visser, Accountants" <portal@portal.example>'
    assert message["To"] == "Sanne de Boer <sanne@korst.example>"
    assert message["Reply-To"] == "info@bakkervisser.example"
    assert message["Subject"] == "Herinnering: Jaarrekening 2025"  # the practice speaks Dutch
    assert ".outbox-" in message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Beste Sanne de Boer," in text and "15 december 2026" in text
    assert "http://demo.localhost:5000/" in text and 'href="http://demo.localhost:5000/"' in html
    assert "#1d4f7a" in html
    assert "<img" not in html  # no logo set, and never a tracking pixel
    assert _states(mail_app) == [("sent", 1)]


def test_mail_is_written_in_the_recipients_language(mail_app, smtp, practice):
    _queue(mail_app, practice.id, _reminder(locale="en"))
    Worker(mail_app).run_pass()
    assert smtp.messages[0]["Subject"] == "Reminder: Jaarrekening 2025"


def test_logo_is_linked_from_the_practice_host(mail_app, smtp):
    practice = Factory(mail_app).practice("demo", logo=b"png", logo_type="image/png",
                                          logo_hash="ab" * 32)
    _queue(mail_app, practice.id, _reminder())
    Worker(mail_app).run_pass()
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert 'src="http://demo.localhost:5000/brand/logo?v=abababababababab"' in html


def test_rolled_back_change_sends_nothing(mail_app, smtp, practice):
    with mail_app.app_context(), pytest.raises(RuntimeError), transaction(db.session):
        enqueue(db.session, db.session.get(Practice, practice.id), _reminder())
        raise RuntimeError("the change failed")
    assert Worker(mail_app).run_pass().sent == 0
    assert smtp.messages == [] and _states(mail_app) == []


def test_mail_outside_a_transaction_is_refused(mail_app, practice):
    with mail_app.app_context(), pytest.raises(NotInTransaction):
        enqueue(db.session, db.session.get(Practice, practice.id), _reminder())


def test_same_dedupe_key_is_queued_once(mail_app, smtp, practice):
    _queue(mail_app, practice.id, _reminder(dedupe_key="once"), _reminder(dedupe_key="once"))
    _queue(mail_app, practice.id, _reminder(dedupe_key="once"))
    Worker(mail_app).run_pass()
    assert len(smtp.messages) == 1


def test_one_smtp_connection_serves_a_batch(mail_app, smtp, practice):
    _queue(mail_app, practice.id, *[_reminder(to=f"c{n}@client.example") for n in range(25)])
    Worker(mail_app, batch=100).run_pass()
    assert len(smtp.messages) == 25 and smtp.connections == 1


def test_refused_address_fails_at_once_and_the_rest_goes_out(mail_app, smtp, practice):
    smtp.refuse.add("gone@client.example")
    _queue(mail_app, practice.id, _reminder(to="gone@client.example"), _reminder())
    result = Worker(mail_app).run_pass()
    assert (result.sent, result.failed) == (1, 1)
    with mail_app.app_context():
        failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.state == "failed"))
    assert failed.recipient == "gone@client.example" and "550" in failed.last_error


def test_smtp_down_loses_nothing_retries_with_backoff_then_fails(app_with, smtp, frozen_clock):
    app = app_with(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_BACKEND="smtp", MAIL_TIMEOUT=2)
    practice = Factory(app).practice("demo")
    _queue(app, practice.id, _reminder())
    for attempt, wait in enumerate(BACKOFF, start=1):
        Worker(app).run_pass()
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage))
        assert (message.state, message.attempts) == ("queued", attempt)
        assert message.next_attempt_at == frozen_clock.now + timedelta(seconds=wait)
        assert "Connection refused" in message.last_error or "Errno" in message.last_error
        frozen_clock.advance(seconds=wait - 1)
        assert Worker(app).run_pass().retried == 0  # not due yet
        frozen_clock.advance(seconds=1)
    Worker(app).run_pass()
    assert _states(app) == [("failed", len(BACKOFF) + 1)]


def test_message_comes_through_once_smtp_is_back(app_with, smtp, frozen_clock):
    app = app_with(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_BACKEND="smtp", MAIL_TIMEOUT=2)
    practice = Factory(app).practice("demo")
    _queue(app, practice.id, _reminder())
    assert Worker(app).run_pass().retried == 1
    app.config["MAIL_PORT"] = smtp.port  # the mail server is back
    frozen_clock.advance(seconds=BACKOFF[0])
    assert Worker(app).run_pass().sent == 1
    assert len(smtp.messages) == 1


def test_stop_finishes_the_message_in_hand_and_puts_the_rest_back(mail_app, smtp, practice):
    _queue(mail_app, practice.id, *[_reminder(to=f"c{n}@client.example") for n in range(5)])
    worker = Worker(mail_app)
    from portal.notifications import transport

    original = transport.SMTPSender.send

    def send_then_stop(self, message):  # type: ignore[no-untyped-def]
        original(self, message)
        worker.stop()  # as SIGTERM does while this message is being sent

    transport.SMTPSender.send = send_then_stop
    try:
        worker.run_pass()
    finally:
        transport.SMTPSender.send = original
    assert len(smtp.messages) == 1
    assert sorted(_states(mail_app)) == [("queued", 0)] * 4 + [("sent", 1)]


def test_worker_process_stops_on_sigterm_without_losing_mail(mail_app, smtp, practice,
                                                             tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    smtp.delay = 0.3
    _queue(mail_app, practice.id, *[_reminder(to=f"c{n}@client.example") for n in range(20)])
    env = {**os.environ, "PORTAL_DATABASE_URL": mail_app.config["DATABASE_URL"],
           "PORTAL_SECRET_KEY": "test", "PORTAL_INSTANCE_PATH": str(tmp_path / "worker"),
           "PORTAL_MAIL_SERVER": "127.0.0.1", "PORTAL_MAIL_PORT": str(smtp.port),
           "PORTAL_MAIL_BACKEND": "smtp"}
    command = [sys.executable, "-c", "from portal.cli import main; main()", "worker"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, process.stdout.read().decode()
    states = _states(mail_app)
    sent = sum(1 for state, _ in states if state == "sent")
    assert 1 <= sent < 20 and sent == len(smtp.messages)
    assert sorted({state for state, _ in states}) == ["queued", "sent"]


def test_a_claim_left_by_a_dead_worker_is_taken_again(mail_app, smtp, practice):
    _queue(mail_app, practice.id, _reminder())
    with mail_app.app_context(), transaction(db.session):
        message = db.session.scalar(select(OutboxMessage))
        message.state, message.claimed_at = "sending", clock.now() - timedelta(hours=1)
    assert Worker(mail_app).run_pass().sent == 1


@pytest.mark.skipif(not PG_URL, reason="several workers at once need PostgreSQL "
                                       "(SQLite runs one worker); runs in the PostgreSQL pass")
def test_two_workers_on_postgresql_send_each_of_1000_messages_once(mail_app, smtp, practice):
    import threading

    _queue(mail_app, practice.id, *[_reminder(to=f"c{n}@client.example") for n in range(1000)])
    workers = [Worker(mail_app, batch=50) for _ in range(2)]
    threads = [threading.Thread(target=w.run_pass) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    recipients = [rcpt for _, rcpts in smtp.envelopes for rcpt in rcpts]
    assert len(recipients) == 1000 and len(set(recipients)) == 1000
    with mail_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.state == "sent")) == 1000
