"""The audit chain is keyed with a key outside the database: someone who can write to the
database but lacks the key cannot write a chain that holds. A log recorded before the chain
was keyed is rewritten with the key by `portal db upgrade` (revision 0020)."""

import hashlib
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from portal import audit, create_app, db, migrate
from portal.audit import service
from portal.audit.models import AuditEvent
from portal.cli import cli
from portal.db import transaction
from tests.factories import Factory, record_audit_events


def _record(app, practice, count=3):
    record_audit_events(app, practice, count)


def _ids(app):
    with app.app_context():
        return db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()


def _chain_with_plain_sha256(app, practice_id):
    """What someone with only the database can do: chain every event again, as before
    revision 0020, with SHA-256 and no key."""
    with app.app_context(), transaction(db.session):
        prev = service.GENESIS
        for event in db.session.scalars(select(AuditEvent).where(
                AuditEvent.practice_id == practice_id).order_by(AuditEvent.id)):
            event.prev_hash = prev
            event.hash = prev = hashlib.sha256(
                (prev + service._content(service._fields(event))).encode()).hexdigest()


def _broken_at(app, practice_id):
    with app.app_context():
        found = audit.verify(db.session, practice_id)
        return found.id if found is not None else None


def test_a_chain_rewritten_with_plain_sha256_fails_portal_audit_verify(app, make):
    practice = make.practice("demo")
    _record(app, practice)
    first, second, _third = _ids(app)
    with app.app_context(), transaction(db.session):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == second)
                           .values(actor_label="someone@else.example"))
    _chain_with_plain_sha256(app, practice.id)

    result = app.test_cli_runner().invoke(cli, ["audit", "verify"])

    assert result.exit_code == 1, result.output
    assert f"demo: BROKEN at event {first} (test.event" in result.output


def test_events_keyed_before_the_secret_key_changed_verify_while_it_is_a_fallback(app, make):
    practice = make.practice()
    _record(app, practice)
    app.config.update(SECRET_KEY="a new secret", SECRET_KEY_FALLBACKS=["test-secret"])
    _record(app, practice, count=1)  # chained under the new key
    assert _broken_at(app, practice.id) is None

    app.config["SECRET_KEY_FALLBACKS"] = []
    assert _broken_at(app, practice.id) == _ids(app)[0]


def test_with_an_audit_key_the_chain_no_longer_depends_on_the_secret_key(app, make):
    practice = make.practice()
    app.config["AUDIT_KEY"] = "kept apart from the secret key"
    _record(app, practice)
    app.config["SECRET_KEY"] = "a new secret"  # and no fallback
    assert _broken_at(app, practice.id) is None

    app.config["AUDIT_KEY"] = "another key"
    assert _broken_at(app, practice.id) == _ids(app)[0]


# --- revision 0020: a log recorded before it ----------------------------------------------

@pytest.fixture
def old_log(tmp_path):
    """An app on a database at revision 0019 whose practice has five events chained as the
    code before 0020 chained them."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0019")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "PASSWORD_HASH_FAST": True,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    practice = Factory(app).practice("old")
    _record(app, practice, count=5)
    _chain_with_plain_sha256(app, practice.id)
    yield app, url, practice.id
    db.engine_of(app).dispose()


def _upgrade(app, url):
    with app.app_context():
        key = service.chain_keys()[0]
    db.engine_of(app).dispose()
    migrate.upgrade(url, "head", key)


def test_the_upgrade_keys_an_old_intact_chain_and_new_events_follow_on(old_log):
    app, url, practice_id = old_log
    assert _broken_at(app, practice_id) == _ids(app)[0]  # plain SHA-256 no longer holds

    _upgrade(app, url)

    assert _broken_at(app, practice_id) is None
    _record(app, SimpleNamespace(id=practice_id), count=1)
    assert _broken_at(app, practice_id) is None
    _chain_with_plain_sha256(app, practice_id)  # and the old way no longer passes
    assert _broken_at(app, practice_id) == _ids(app)[0]


def test_the_upgrade_leaves_an_old_chain_broken_at_the_same_event(old_log):
    app, url, practice_id = old_log
    ids = _ids(app)
    with app.app_context(), transaction(db.session):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == ids[3])
                           .values(actor_label="someone@else.example"))

    _upgrade(app, url)

    assert _broken_at(app, practice_id) == ids[3]


def test_the_upgrade_of_an_old_log_without_the_key_is_refused(old_log):
    app, url, practice_id = old_log
    db.engine_of(app).dispose()
    with pytest.raises(RuntimeError, match="portal db upgrade"):
        migrate.upgrade(url, "head")
    assert _broken_at(app, practice_id) == _ids(app)[0]  # nothing was rewritten
