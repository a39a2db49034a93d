"""Positions of contact persons (director, supervisory director), kept on each signer;
the general meeting's adoption of annual accounts.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN): no table is copied.
    op.add_column("memberships", sa.Column("position", sa.String(length=12), nullable=True))
    op.add_column("share_signers", sa.Column("position", sa.String(length=12), nullable=True))
    op.add_column("engagements", sa.Column("adopted_on", sa.Date(), nullable=True))
    op.add_column("engagements", sa.Column("adopted_recorded_by", sa.String(length=254),
                                           nullable=True))


def downgrade() -> None:
    op.drop_column("engagements", "adopted_recorded_by")
    op.drop_column("engagements", "adopted_on")
    op.drop_column("share_signers", "position")
    op.drop_column("memberships", "position")
