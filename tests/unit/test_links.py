"""One-time links: each failure is its own error; a link works once, even when raced."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock, db
from portal.accounts import links
from portal.accounts.models import OneTimeLink
from portal.db import transaction
from tests.factories import Factory


@pytest.fixture
def issue(app, make):  # type: ignore[no-untyped-def]
    practice = make.practice("demo")

    def make_link(purpose: str = "client_invite", **kwargs) -> str:  # type: ignore[no-untyped-def]
        with app.app_context(), transaction(db.session):
            return links.issue(db.session, practice_id=practice.id, purpose=purpose,
                               email="sanne@korst.example", subject=("clients", 7), **kwargs)

    make_link.practice = practice
    return make_link


def _check(app, token, purpose="client_invite", practice_id=None, issue=None):  # type: ignore[no-untyped-def]
    with app.app_context():
        return links.check(db.session, token, purpose=purpose,
                           practice_id=practice_id or issue.practice.id)


def _consume(app, token, practice_id, purpose="client_invite"):  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(db.session):
        return links.consume(db.session, token, purpose=purpose, practice_id=practice_id)


def test_a_fresh_link_checks_out_and_stores_no_secret(app, issue):
    token = issue()
    link = _check(app, token, issue=issue)
    assert link.email == "sanne@korst.example"
    with app.app_context():
        stored = db.session.scalar(select(OneTimeLink))
    assert token.split(".")[0] not in stored.secret_hash and len(stored.secret_hash) == 64


def test_a_link_is_used_once(app, issue):
    token = issue()
    _consume(app, token, issue.practice.id)
    with pytest.raises(links.LinkUsed):
        _consume(app, token, issue.practice.id)
    with pytest.raises(links.LinkUsed):
        _check(app, token, issue=issue)


@pytest.mark.parametrize("change", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
    lambda t: "x" + t[1:],  # payload
    lambda t: t[: len(t) // 2],  # cut off in a mail client
    lambda t: "not-a-token",
])
def test_a_tampered_link_is_invalid(app, issue, change):
    with pytest.raises(links.LinkInvalid):
        _check(app, change(issue()), issue=issue)


def test_a_link_of_one_purpose_does_not_open_another(app, issue):
    with pytest.raises(links.LinkInvalid):
        _check(app, issue("client_invite"), purpose="password_reset", issue=issue)


def test_a_link_expires_by_the_clock(app, issue):
    token = issue(lifetime=timedelta(hours=1))
    clock.freeze(clock.now() + timedelta(hours=1, seconds=1))
    with pytest.raises(links.LinkExpired):
        _check(app, token, issue=issue)
    with pytest.raises(links.LinkExpired):
        _consume(app, token, issue.practice.id)


def test_a_revoked_link_is_dead(app, issue):
    token = issue()
    with app.app_context(), transaction(db.session):
        assert links.revoke(db.session, subject=("clients", 7)) == 1
    with pytest.raises(links.LinkRevoked):
        _check(app, token, issue=issue)


def test_a_link_opened_on_another_practices_host_is_refused(app, make, issue):
    other = make.practice("other")
    with pytest.raises(links.LinkElsewhere):
        _check(app, issue(), practice_id=other.id, issue=issue)


def test_two_uses_at_once_leave_exactly_one_winner(app, issue):
    token = issue()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def use() -> None:
        start.wait()
        try:
            _consume(app, token, issue.practice.id)
            outcomes.append("used")
        except links.LinkUsed:
            outcomes.append("refused")

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["refused", "used"]


@pytest.mark.parametrize("logger_name, message, args", [
    # werkzeug's development server: positional arguments.
    ("werkzeug", '%s - - "%s" %s', ("127.0.0.1", "GET /link/{token} HTTP/1.1", "200")),
    # gunicorn's access log: one mapping of atoms that its format string names.
    ("gunicorn.access", '%(h)s "%(r)s" %(s)s',
     {"h": "127.0.0.1", "r": "GET /link/{token} HTTP/1.1", "s": "200"}),
])
def test_access_logs_write_the_route_without_the_token(app, issue, caplog, logger_name, message,
                                                       args):  # type: ignore[no-untyped-def]
    token = issue()
    logger = logging.getLogger(logger_name)
    with caplog.at_level("INFO", logger=logger_name):
        if isinstance(args, dict):  # a lone mapping is how logging passes named atoms
            logger.info(message, {key: value.format(token=token) for key, value in args.items()})
        else:
            logger.info(message, *(value.format(token=token) for value in args))
    line = caplog.records[-1].getMessage()
    assert token not in line
    assert "GET /link/[token] HTTP/1.1" in line


def test_a_link_made_before_the_secret_key_changed_works_while_the_old_key_is_a_fallback(
        app_with):
    # Every app first: each one starts the test database afresh; then they share it.
    old = app_with(SECRET_KEY="old-key")
    changed = {opens: app_with(SECRET_KEY="new-key",
                               SECRET_KEY_FALLBACKS=["old-key"] if opens else [])
               for opens in (False, True)}
    practice = Factory(old).practice("demo")
    with old.app_context(), transaction(db.session):
        token = links.issue(db.session, practice_id=practice.id, purpose="client_invite",
                            email="sanne@korst.example", subject=("clients", 7))
    for opens, app in changed.items():
        with app.app_context():
            if opens:
                assert links.check(db.session, token, purpose="client_invite",
                                   practice_id=practice.id).email == "sanne@korst.example"
            else:
                with pytest.raises(links.LinkInvalid):
                    links.check(db.session, token, purpose="client_invite",
                                practice_id=practice.id)
