"""Clients get a responsible staff member; large imports and bulk engagements run in the
worker (claimed_at lets a sweep take over a job whose worker died).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


@contextmanager
def _rebuilding_sqlite_table() -> Iterator[None]:
    """SQLite changes a table's foreign keys only by rebuilding the table, and its DROP of
    the old one deletes every row first: with foreign keys on, ON DELETE CASCADE would empty
    each table that points at it. So, as SQLite's documentation says: foreign keys off
    (which it allows only outside a transaction), rebuild, check, foreign keys on."""
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with _rebuilding_sqlite_table(), op.batch_alter_table("clients",
                                                              recreate="always") as batch:
            batch.add_column(sa.Column("responsible_id", sa.Integer(), nullable=True))
            batch.create_foreign_key("fk_clients_responsible_id_staff_users", "staff_users",
                                     ["responsible_id"], ["id"], ondelete="SET NULL")
    else:
        op.add_column("clients", sa.Column("responsible_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_clients_responsible_id_staff_users", "clients",
                              "staff_users", ["responsible_id"], ["id"], ondelete="SET NULL")
    op.create_index("ix_clients_responsible_id", "clients", ["responsible_id"])
    op.add_column("client_imports", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.add_column("bulk_report_batches", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "bulk_engagement_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bulk_engagement_batches_practice", "bulk_engagement_batches",
                    ["practice_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_bulk_engagement_batches_practice", table_name="bulk_engagement_batches")
    op.drop_table("bulk_engagement_batches")
    op.drop_column("bulk_report_batches", "claimed_at")
    op.drop_column("client_imports", "claimed_at")
    op.drop_index("ix_clients_responsible_id", table_name="clients")
    if op.get_bind().dialect.name == "sqlite":
        with _rebuilding_sqlite_table(), op.batch_alter_table("clients",
                                                              recreate="always") as batch:
            batch.drop_constraint("fk_clients_responsible_id_staff_users", type_="foreignkey")
            batch.drop_column("responsible_id")
    else:
        op.drop_constraint("fk_clients_responsible_id_staff_users", "clients",
                           type_="foreignkey")
        op.drop_column("clients", "responsible_id")
