"""The schema is made only by migrations; models and migrations must agree."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import db, migrate
from portal.db import Base


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index")  # written by hand
def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine_of(app).connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": migrate.for_dialect(conn.dialect.name)})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"write a migration for: {differences}"


def test_migrations_downgrade_to_nothing_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
