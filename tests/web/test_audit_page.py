"""Admins read the practice's audit log at /office/audit, filter it live, page through it,
and see the latest check of the chain of events, which the worker runs daily and when an
admin asks; `portal audit verify` checks it too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from portal import audit, clock
from portal import db as portal_db
from portal.audit import service as audit_service
from portal.audit.models import AuditCheck, AuditEvent
from portal.cli import cli
from portal.db import QueryCounter, engine_of, transaction

RESULTS = {"HX-Request": "true", "HX-Target": "div#audit_results"}


@pytest.fixture
def demo(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


@pytest.fixture
def anna(client, make, demo):  # type: ignore[no-untyped-def]
    user = make.staff(demo, "anna@demo.example", role="admin")
    client.login_staff(user.email)
    return user


def record(app, practice, action: str, *, by: str = "joost@demo.example",
           client_id: int | None = None, at: datetime | None = None, **data) -> None:  # type: ignore[no-untyped-def]
    """An event as a service records it (by someone, about a client, at a moment)."""
    actor = audit.Actor(practice.id, "staff", 7, by, "192.0.2.4", "pytest")
    subject = audit.Subject("clients", client_id, client_id) if client_id else None
    clock.freeze(at)
    try:
        with app.app_context(), transaction(portal_db.session):
            audit.record(portal_db.session, actor, action, subject, **data)
    finally:
        clock.freeze(None)  # back to the running clock for the rest of the test


def test_events_of_the_practice_are_listed_newest_first(app, client, anna, demo, make):
    record(app, demo, "client.tier_changed", client_id=12, old="standard", new="collaborate")
    record(app, demo, "mail.send_again", to="sanne@korst.example")
    record(app, make.practice("other"), "client.created", by="theirs@other.example")
    page = client.get("/office/audit").get_data(as_text=True)
    assert page.index("mail.send_again") < page.index("client.tier_changed")
    assert "auth.login" in page and "anna@demo.example" in page  # the login is audited too
    assert "theirs@other.example" not in page and "client.created" not in page
    assert "client 12" in page and "192.0.2.4" in page and "old: standard" in page


def test_settings_changes_show_old_and_new_values(app, client, anna, demo):
    record(app, demo, "practice.settings_changed",
           changes={"name": {"old": "Demo", "new": "Demo Accountants"}})
    page = client.get("/office/audit").get_data(as_text=True)
    assert "name: Demo → Demo Accountants" in page


def test_filters_narrow_the_events(app, client, anna, demo):
    record(app, demo, "client.tier_changed", client_id=12, at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    record(app, demo, "client.tier_changed", client_id=13, by="sem@demo.example",
           at=datetime(2026, 3, 5, 9, tzinfo=UTC))
    record(app, demo, "staff.invited", at=datetime(2026, 3, 10, 9, tzinfo=UTC))

    def shown(query: str) -> list[str]:
        page = client.get(f"/office/audit?{query}").get_data(as_text=True)
        return [line.split("client ")[1].split("<")[0] for line in page.splitlines()
                if 'class="muted">client ' in line] + (["staff.invited"] if
                                                        "<code>staff.invited" in page else [])

    assert shown("action=client.") == ["13", "12"]
    assert shown("action=staff.invited") == ["staff.invited"]
    assert shown("actor=SEM@") == ["13"]
    assert shown("client=12") == ["12"]
    assert shown("since=2026-03-05&until=2026-03-05") == ["13"]
    assert shown("since=2026-03-02") == ["13", "staff.invited"]
    assert shown("until=2026-03-01&action=client") == ["12"]


def test_filtering_with_htmx_swaps_only_the_results(app, client, anna, demo):
    record(app, demo, "client.tier_changed", client_id=12)
    response = client.get("/office/audit?action=client.", headers=RESULTS)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="audit_results">') and "<html" not in body
    assert "client.tier_changed" in body and "auth.login" not in body
    assert "The log is intact" not in body  # the banner is the full page's


def test_the_filter_is_a_plain_form_with_live_filtering(client, anna):
    page = client.get("/office/audit").get_data(as_text=True)
    form = page.split('<form id="audit_filters"')[1].split(">")[0]
    assert 'method="get"' in form and 'hx-get="/office/audit"' in form
    assert 'hx-target="#audit_results"' in form and 'hx-push-url="true"' in form


def test_invalid_filters_are_explained_and_left_out(app, client, anna, demo):
    record(app, demo, "client.tier_changed", client_id=12)
    response = client.get("/office/audit?client=twelve&since=2026-03-05&until=2026-03-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="twelve"' in page and "Not a valid integer value" in page
    assert "before the first date" in page
    htmx = client.get("/office/audit?client=twelve", headers=RESULTS)
    assert htmx.status_code == 422 and "Client id" in htmx.get_data(as_text=True)


def test_pages_keep_the_filter_and_run_a_fixed_number_of_queries(app, client, anna, demo):
    def count(query: str) -> int:
        with QueryCounter(engine_of(app)) as counter:
            assert client.get(f"/office/audit?{query}").status_code == 200
        return counter.count

    record(app, demo, "client.tier_changed", client_id=1)
    few = count("action=client.")
    for n in range(2, 121):
        record(app, demo, "client.tier_changed", client_id=n)
    assert count("action=client.") == few
    assert count("action=client.&page=2") == few
    page = client.get("/office/audit?action=client.&page=2").get_data(as_text=True)
    assert "Page 2 of 3" in page and "120 events" in page
    assert 'href="/office/audit?page=3&amp;action=client."' in page
    assert 'href="/office/audit?page=1&amp;action=client."' in page
    assert "client 70<" in page and "client 71<" not in page and "client 21<" in page
    assert "Page 3 of 3" in client.get("/office/audit?action=client.&page=99").get_data(
        as_text=True)


def sweep(app) -> int:  # type: ignore[no-untyped-def]
    """One pass of the worker's audit sweep, as `portal worker` runs it every minute."""
    with app.app_context():
        return audit_service.check_due(portal_db.session)


def test_the_page_shows_the_latest_check_and_an_admin_can_ask_for_one(app, client, anna,
                                                                       demo):
    record(app, demo, "client.tier_changed", client_id=12)
    page = client.get("/office/audit").get_data(as_text=True)
    assert "The log has not been checked yet" in page
    assert 'action="/office/audit/check"' in page

    assert client.submit("/office/audit/check", page="/office/audit").status_code == 303
    page = client.get("/office/audit").get_data(as_text=True)
    assert "The whole log is being checked since" in page
    assert 'hx-trigger="every 3s"' in page  # the panel asks again until the check is done
    assert 'action="/office/audit/check"' not in page

    assert sweep(app) == 1
    panel = client.get("/office/audit", headers={"HX-Request": "true",
                                                 "HX-Target": "div#audit_check"})
    body = panel.get_data(as_text=True)
    assert "the log is intact. All 2 events are as they were recorded" in body  # and login
    assert "hx-trigger" not in body and "<table" not in body  # the panel only
    assert sweep(app) == 0  # checked: not again until tomorrow


def test_a_changed_event_is_reported_on_the_page(app, client, anna, demo):
    record(app, demo, "client.tier_changed", client_id=12)
    record(app, demo, "client.tier_changed", client_id=13)
    sweep(app)
    with app.app_context(), transaction(portal_db.session):
        target = portal_db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.client_id == 12))
        portal_db.session.execute(update(AuditEvent).where(AuditEvent.id == target)
                                  .values(data={"old": "collaborate"}))
    assert "the log is intact" in client.get("/office/audit").get_data(as_text=True)
    client.submit("/office/audit/check", page="/office/audit")
    sweep(app)
    page = client.get("/office/audit").get_data(as_text=True)
    assert f"Event {target} of" in page and "has been changed" in page


def test_events_removed_from_the_end_are_found_by_the_next_check(app, client, anna, demo):
    record(app, demo, "client.tier_changed", client_id=12)
    record(app, demo, "client.tier_changed", client_id=13)
    sweep(app)
    with app.app_context(), transaction(portal_db.session):
        newest = portal_db.session.scalar(select(func.max(AuditEvent.id)))
        portal_db.session.execute(AuditEvent.__table__.delete().where(
            AuditEvent.id == newest))
    client.submit("/office/audit/check", page="/office/audit")
    sweep(app)
    page = client.get("/office/audit").get_data(as_text=True)
    assert f"Events have been removed from the end of the log: event {newest}," in page
    # New events chain onto the shortened log and hold, but the finding stays.
    record(app, demo, "client.tier_changed", client_id=14)
    client.submit("/office/audit/check", page="/office/audit")
    sweep(app)
    assert "removed from the end" in client.get("/office/audit").get_data(as_text=True)


def test_the_worker_checks_every_log_daily_and_finds_logs_never_checked(app, make, demo):
    other = make.practice("other")
    record(app, demo, "client.created", client_id=1)
    record(app, other, "client.created", client_id=2)
    assert sweep(app) == 2  # both found, though no admin asked
    assert sweep(app) == 0
    clock.freeze(clock.now() + timedelta(days=1, minutes=1))
    assert sweep(app) == 2
    with app.app_context():
        checks = portal_db.session.scalars(select(AuditCheck)).all()
        assert {(c.practice_id, c.finding, c.events) for c in checks} == {
            (demo.id, "intact", 1), (other.id, "intact", 1)}


def test_the_log_is_for_admins(client, make, demo):
    joost = make.staff(demo, "joost@demo.example", role="staff")
    client.login_staff(joost.email)
    assert client.get("/office/audit").status_code == 403


# --- portal audit verify ------------------------------------------------------------------

def verify(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, ["audit", "verify", *args])


def test_verify_reports_ok_for_every_intact_practice(app, make, demo):
    other = make.practice("other")
    record(app, demo, "client.created", client_id=1)
    record(app, other, "client.created", client_id=2)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["demo: ok", "other: ok"]


def test_verify_reports_the_first_changed_event_and_fails(app, make, demo):
    make.practice("other")
    for n in range(3):
        record(app, demo, "client.created", client_id=n + 1)
    with app.app_context(), transaction(portal_db.session):
        ids = portal_db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        portal_db.session.execute(update(AuditEvent).where(AuditEvent.id == ids[1])
                                  .values(actor_label="someone@else.example"))
    result = verify(app)
    assert result.exit_code == 1
    assert f"demo: BROKEN at event {ids[1]} (client.created, " in result.output
    assert "was changed" in result.output and "other: ok" in result.output


def test_verify_reports_where_an_event_was_removed(app, demo):
    for n in range(3):
        record(app, demo, "client.created", client_id=n + 1)
    with app.app_context(), transaction(portal_db.session):
        ids = portal_db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        portal_db.session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == ids[1]))
    result = verify(app, "--practice", "demo")
    assert result.exit_code == 1
    assert f"BROKEN at event {ids[2]}" in result.output
    assert "follows a removed or changed event" in result.output


def test_verify_checks_only_the_practice_asked_for(app, make, demo):
    other = make.practice("other")
    record(app, other, "client.created", client_id=1)
    with app.app_context(), transaction(portal_db.session):
        portal_db.session.execute(update(AuditEvent).values(action="client.removed"))
    assert verify(app, "--practice", "demo").output.strip() == "demo: ok"
    assert verify(app, "--practice", "other").exit_code == 1
    unknown = verify(app, "--practice", "nobody")
    assert unknown.exit_code == 2 and "no practice 'nobody'" in unknown.output
