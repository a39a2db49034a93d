"""The worker's heartbeat and its sweeps' runs, for /healthz and /metrics.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_pass_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker"),
    )
    op.create_table(
        "sweep_runs",
        sa.Column("sweep", sa.String(length=100), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("total_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.Column("last_failed", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sweep"),
    )


def downgrade() -> None:
    op.drop_table("sweep_runs")
    op.drop_table("worker_heartbeats")
