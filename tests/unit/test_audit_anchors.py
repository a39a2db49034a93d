"""The audit log's daily anchors: the chain's head timestamped by an RFC 3161 server (here
one on loopback, signing with pyHanko's test timestamper under a root of our own), mailed
to the practice's admins, and checked by `portal audit verify`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from bench.tsa import authority
from portal import audit, db
from portal.audit import anchors
from portal.audit.models import AuditAnchor, AuditEvent
from portal.cli import cli
from portal.db import transaction
from portal.notifications.models import OutboxMessage
from portal.operations import anchoring
from tests.factories import record_audit_events


@pytest.fixture(autouse=True)
def _anchors_on(app):
    app.config["AUDIT_ANCHORS"] = True


def _record(app, practice, count=2):
    record_audit_events(app, practice, count)


def _sweep(app):
    with app.app_context():
        return anchoring.sweep(db.session)


def _anchors(app):
    with app.app_context():
        return db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.id)).all()


def _verify(app):
    return app.test_cli_runner().invoke(cli, ["audit", "verify"])


def test_the_head_is_timestamped_mailed_to_admins_and_verified(app, make, tsa, frozen_clock):
    practice = make.practice("demo")
    make.staff(practice, "baas@demo.example", role="admin")
    make.staff(practice, "medewerker@demo.example")
    _record(app, practice)

    assert _sweep(app) == 1
    [anchor] = _anchors(app)
    with app.app_context():
        newest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        mails = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "audit_anchor")).all()
    assert (anchor.state, anchor.event_id, anchor.head_hash) == (
        anchors.STAMPED, newest.id, newest.hash)
    assert abs(anchor.stamped_at - datetime.now(UTC)) < timedelta(minutes=5)  # the server's
    assert [m.recipient for m in mails] == ["baas@demo.example"]
    assert newest.hash in mails[0].text_body

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "demo: 1 anchor(s) hold; 1 timestamped, 1 by a trusted server" in result.output

    assert _sweep(app) == 0  # nothing new, and not a day later
    _record(app, practice, count=1)
    assert _sweep(app) == 0  # new events, but the last anchor is not a day old
    frozen_clock.advance(days=1)
    assert _sweep(app) == 1


def test_a_shortened_log_fails_against_its_anchor_though_the_chain_itself_holds(
        app, make, tsa):
    practice = make.practice("demo")
    _record(app, practice, count=3)
    _sweep(app)
    with app.app_context(), transaction(db.session):
        newest = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == newest))
        db.session.execute(delete(audit.models.AuditCheck))  # and the last check's memory

    result = _verify(app)

    assert result.exit_code == 1, result.output
    assert "demo: ok" in result.output  # what is left is a chain that holds
    assert f"of event {newest}" in result.output and "the anchored event is gone" in (
        result.output)


def test_a_token_of_another_head_or_from_an_untrusted_server_is_told(app, make, tsa,
                                                                      tmp_path):
    practice = make.practice("demo")
    _record(app, practice)
    _sweep(app)
    app.config["TSA_CERT"] = str(authority(tmp_path / "..")[1])  # another root
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "1 timestamped, 0 by a trusted server" in result.output

    with app.app_context(), transaction(db.session):
        db.session.execute(update(AuditAnchor).values(head_hash="0" * 64))
        db.session.execute(update(AuditEvent).where(AuditEvent.id == AuditAnchor.event_id)
                           .values(hash="0" * 64))  # as if the chain was rebuilt to match
    result = _verify(app)
    assert result.exit_code == 1
    assert "the timestamp is of something else" in result.output


def test_a_failing_server_is_tried_again_later_and_the_anchor_says_so(app, make, tsa,
                                                                      frozen_clock):
    practice = make.practice("demo")
    make.staff(practice, "baas@demo.example", role="admin")
    _record(app, practice)
    tsa.failing = True

    _sweep(app)
    [anchor] = _anchors(app)
    assert (anchor.state, anchor.attempts, anchor.stamped_at) == (anchors.PENDING, 1, None)
    assert "500" in anchor.last_error
    assert "not timestamped yet (1 attempt(s)" in _verify(app).output
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.id)) is None  # no mail without it

    tsa.failing = False
    _sweep(app)
    assert _anchors(app)[0].attempts == 1  # its wait is not over
    frozen_clock.advance(minutes=5)
    _sweep(app)
    [anchor] = _anchors(app)
    assert (anchor.state, anchor.attempts, anchor.last_error) == (anchors.STAMPED, 2, None)
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage.recipient)).all() == [
            "baas@demo.example"]


def test_anchors_can_be_turned_off(app, make):
    practice = make.practice("demo")
    _record(app, practice)
    app.config["AUDIT_ANCHORS"] = False
    assert _sweep(app) == 0 and _anchors(app) == []


def test_without_a_server_the_head_is_mailed_unstamped(app, make):
    practice = make.practice("demo")
    make.staff(practice, "baas@demo.example", role="admin")
    _record(app, practice)
    _sweep(app)
    [anchor] = _anchors(app)
    assert (anchor.state, anchor.token) == (anchors.UNSTAMPED, None)
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage))
    assert anchor.head_hash in mail.text_body and "No timestamp server" in mail.text_body
    result = _verify(app)
    assert result.exit_code == 0 and "1 anchor(s) hold; 0 timestamped" in result.output
