"""Reminders go out at the practice's moments, once each, and never for finished work or
for clients that are blocked, ended or on a tier without reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal import clock, db
from portal.clients import tiers
from portal.db import QueryCounter
from portal.notifications import Mail, reminders
from portal.notifications.models import OutboxMessage
from portal.tenancy.models import Practice

DEADLINE = datetime(2026, 12, 15, 12, tzinfo=UTC)


def compose(session, due):  # type: ignore[no-untyped-def]
    """What a feature's composer does: its recipients and links for each due task."""
    practices = {p.id: p for p in session.scalars(
        select(Practice).where(Practice.id.in_({t.practice_id for t in due})))}
    return [(practices[t.practice_id],
             Mail(to=f"owner-{t.client_id}@client.example", kind="reminder",
                  dedupe_key=f"test:{t.id}:{t.offset}",
                  context={"task": t.title, "client_name": "Bakkerij", "deadline": t.deadline,
                           "link": "http://demo.localhost/x", "action": "Open",
                           "overdue": t.offset > 0,
                           "custom_text": practices[t.practice_id].reminder_text}))
            for t in due]


@pytest.fixture
def sweep(app):  # type: ignore[no-untyped-def]
    def run(at: datetime) -> list[OutboxMessage]:
        clock.freeze(at)
        try:
            with app.app_context():
                before = db.session.scalar(select(OutboxMessage.id).order_by(
                    OutboxMessage.id.desc())) or 0
                reminders.sweep(db.session, {"test": compose},
                                tiers=tiers.tiers_with("deadline_reminders"))
                return list(db.session.scalars(select(OutboxMessage).where(
                    OutboxMessage.id > before).order_by(OutboxMessage.id)))
        finally:
            clock.freeze(None)
    return run


@pytest.fixture
def practice(make):  # type: ignore[no-untyped-def]
    return make.practice("demo")


def _task(make, practice, *, tier=tiers.COLLABORATE, status="active",  # type: ignore[no-untyped-def]
          created=DEADLINE - timedelta(days=30), **values):
    client = make.client(practice, tier, status=status)
    return make.task(client, deadline=DEADLINE, created_at=created, **values)


def test_reminders_go_out_7_and_2_days_before_and_1_day_after(make, practice, sweep):
    _task(make, practice)
    assert sweep(DEADLINE - timedelta(days=8)) == []
    seven = sweep(DEADLINE - timedelta(days=7))
    assert [m.subject for m in seven] == ["Reminder: Jaarrekening 2025 goedkeuren"]
    assert sweep(DEADLINE - timedelta(days=6)) == []
    assert len(sweep(DEADLINE - timedelta(days=2))) == 1
    after = sweep(DEADLINE + timedelta(days=1))
    assert [m.subject for m in after] == ["Deadline passed: Jaarrekening 2025 goedkeuren"]
    assert sweep(DEADLINE + timedelta(days=5)) == []


@pytest.mark.parametrize("deadline_day", [date(2027, 3, 29), date(2027, 11, 1)],
                         ids=["summer time begins in between", "summer time ends in between"])
def test_two_days_before_is_two_calendar_days_in_amsterdam(make, practice, sweep, deadline_day):
    deadline = clock.end_of_day(deadline_day)
    make.task(make.client(practice, tiers.COLLABORATE), deadline=deadline.astimezone(UTC),
              created_at=deadline - timedelta(days=5))
    two_days_before = datetime.combine(deadline_day - timedelta(days=2), time(9, 0),
                                       clock.AMSTERDAM)
    assert sweep(two_days_before - timedelta(minutes=1)) == []
    assert [m.subject.split(":")[0] for m in sweep(two_days_before)] == ["Reminder"]
    one_day_after = datetime.combine(deadline_day + timedelta(days=1), time(9, 0),
                                     clock.AMSTERDAM)
    assert sweep(one_day_after - timedelta(minutes=1)) == []
    assert [m.subject.split(":")[0] for m in sweep(one_day_after)] == ["Deadline passed"]


def test_reminders_arrive_at_nine_in_the_morning_not_when_the_deadline_day_ends(
        make, practice, sweep):
    deadline = clock.end_of_day(date(2026, 12, 31))  # 23:59:59 on New Year's Eve
    make.task(make.client(practice, tiers.COLLABORATE), deadline=deadline.astimezone(UTC),
              created_at=deadline - timedelta(days=30))
    assert len(sweep(datetime(2026, 12, 24, 9, 0, tzinfo=clock.AMSTERDAM))) == 1  # 7 before
    nine = datetime(2026, 12, 29, 9, 0, tzinfo=clock.AMSTERDAM)
    assert sweep(nine - timedelta(minutes=1)) == []
    assert len(sweep(nine)) == 1
    after = datetime(2027, 1, 1, 9, 0, tzinfo=clock.AMSTERDAM)  # the next year's first day
    assert sweep(after - timedelta(minutes=1)) == []
    assert [m.subject.split(":")[0] for m in sweep(after)] == ["Deadline passed"]


def test_running_a_sweep_twice_sends_nothing_twice(make, practice, sweep):
    _task(make, practice)
    moment = DEADLINE - timedelta(days=2)
    assert len(sweep(moment)) == 1
    assert sweep(moment) == []
    assert sweep(moment + timedelta(minutes=1)) == []


def test_a_sweep_that_missed_moments_sends_only_the_latest(make, practice, sweep):
    _task(make, practice)
    sent = sweep(DEADLINE + timedelta(days=1, hours=3))
    assert [m.subject.split(":")[0] for m in sent] == ["Deadline passed"]


def test_moments_before_the_task_existed_are_skipped(make, practice, sweep):
    _task(make, practice, created=DEADLINE - timedelta(days=3))
    assert sweep(DEADLINE - timedelta(days=3) + timedelta(hours=1)) == []
    assert len(sweep(DEADLINE - timedelta(days=2))) == 1


@pytest.mark.parametrize("state", ["done", "cancelled"])
def test_nothing_once_the_task_is_finished(make, practice, sweep, state):
    _task(make, practice, state=state)
    assert sweep(DEADLINE - timedelta(days=2)) == []


@pytest.mark.parametrize("status", ["blocked", "ended"])
def test_nothing_to_blocked_or_ended_clients(make, practice, sweep, status):
    _task(make, practice, status=status)
    assert sweep(DEADLINE - timedelta(days=2)) == []


def test_nothing_for_a_tier_without_reminders(make, practice, sweep):
    _task(make, practice, tier=tiers.STANDARD)
    assert sweep(DEADLINE - timedelta(days=2)) == []


def test_the_practice_chooses_its_own_moments_and_text(make, sweep):
    practice = make.practice("demo", reminder_days=[-1],
                             reminder_text="Beste {client}, vergeet {task} niet vóór {deadline}.")
    _task(make, practice)
    assert sweep(DEADLINE - timedelta(days=2)) == []
    sent = sweep(DEADLINE - timedelta(days=1))
    assert len(sent) == 1
    assert "Beste Bakkerij, vergeet Jaarrekening 2025 goedkeuren niet vóór December 15, 2026." \
        in sent[0].text_body


def test_a_sweep_runs_the_same_queries_for_10_or_60_due_tasks(app, make, practice):
    def queries_for(count: int) -> int:
        for _ in range(count):
            _task(make, practice)
        clock.freeze(DEADLINE - timedelta(days=2))
        with app.app_context(), QueryCounter(db.engine_of(app)) as counter:
            reminders.sweep(db.session, {"test": compose},
                            tiers=tiers.tiers_with("deadline_reminders"))
            queued = db.session.scalar(select(OutboxMessage.id).order_by(
                OutboxMessage.id.desc()))
        assert queued
        return counter.count - 1  # the last query is ours

    assert queries_for(10) == queries_for(60)


def test_dry_run_lists_what_is_due_and_sends_nothing(app, make, practice):
    from portal.cli import cli

    _task(make, practice, title="Aangifte IB 2025")
    clock.freeze(DEADLINE - timedelta(days=2))
    result = app.test_cli_runner().invoke(cli, ["reminders", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Aangifte IB 2025" in result.output and "1 reminder(s) due" in result.output
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)) is None
