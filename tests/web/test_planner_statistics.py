"""The worker keeps SQLite's planner statistics, without which a big practice's overviews
pick the wrong index; PostgreSQL's autovacuum keeps its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal import db
from portal.clients import tiers
from portal.notifications.worker import Worker
from tests.conftest import PG_URL


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL's autovacuum analyzes by itself; "
                                         "the sweep is SQLite's and runs in the SQLite pass")
def test_the_worker_analyzes_sqlite_at_its_first_sweep_and_then_hourly(app, make):
    practice = make.practice("demo")
    make.client(practice, tiers.COLLABORATE)
    worker = Worker(app)

    assert worker.run_pass().swept["database statistics"] == 1
    with app.app_context():
        analyzed = db.session.execute(text("SELECT tbl FROM sqlite_stat1")).scalars().all()
    assert "clients" in analyzed

    assert worker.run_pass().swept["database statistics"] == 0  # not again within the hour
