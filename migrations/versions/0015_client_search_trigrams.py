"""PostgreSQL: a trigram index for the clients overview's search (ILIKE '%term%' in name,
client number, KvK number and contact e-mail). Needs the pg_trgm extension, which a
database owner may create (it is trusted since PostgreSQL 13); where that is not allowed
the search still works, by scanning, and a warning says how to add the index later.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 11:50:00
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
COLUMNS = ("name", "client_number", "kvk_number", "contact_email")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        log.warning("no trigram index for the client search (%s); a superuser can run "
                    "CREATE EXTENSION pg_trgm and then `portal db downgrade 0014` and "
                    "`portal db upgrade`", error.orig)
        return
    op.create_index("ix_clients_search", "clients", list(COLUMNS), postgresql_using="gin",
                    postgresql_ops=dict.fromkeys(COLUMNS, "gin_trgm_ops"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_clients_search")
