from sqlalchemy import select, update

from portal import audit, db
from portal.audit.models import AuditEvent
from portal.db import transaction


def _record_three(app, practice):
    actor = audit.Actor(practice.id, "staff", 1, "anna@example.nl", "192.0.2.1", "pytest")
    with app.app_context():
        for n in range(3):
            with transaction(db.session):
                audit.record(db.session, actor, "test.event", None, n=n)


def test_an_untouched_chain_verifies(app, make):
    practice = make.practice()
    _record_three(app, practice)
    with app.app_context():
        assert audit.verify(db.session, practice.id) is None


def test_a_changed_event_is_reported(app, make):
    practice = make.practice()
    _record_three(app, practice)
    with app.app_context():
        second = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
        with transaction(db.session):
            db.session.execute(update(AuditEvent).where(AuditEvent.id == second)
                               .values(actor_label="someone else"))
        assert audit.verify(db.session, practice.id).id == second


def test_a_removed_event_breaks_the_chain_at_the_next(app, make):
    practice = make.practice()
    _record_three(app, practice)
    with app.app_context():
        ids = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        with transaction(db.session):
            db.session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == ids[1]))
        assert audit.verify(db.session, practice.id).id == ids[2]


def test_chains_of_practices_are_separate(app, make):
    one, two = make.practice("one"), make.practice("two")
    _record_three(app, one)
    _record_three(app, two)
    with app.app_context():
        first_of_two = db.session.scalar(select(AuditEvent).where(
            AuditEvent.practice_id == two.id).order_by(AuditEvent.id))
        assert first_of_two.prev_hash == audit.service.GENESIS
        assert audit.verify(db.session, two.id) is None
