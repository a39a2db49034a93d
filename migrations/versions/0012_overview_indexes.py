"""Indexes for the engagements overview: its order (first deadline first, none last) and
its counts, both holding the status so filters need no lookups in the table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A functional index: autogenerate does not see these, so it is written by hand.
    op.create_index("ix_engagements_practice_urgency", "engagements",
                    ["practice_id", sa.text("(deadline IS NULL)"), "deadline", "id", "status"])
    with op.batch_alter_table("engagements") as batch_op:
        batch_op.drop_index("ix_engagements_practice_deadline")
        batch_op.create_index("ix_engagements_practice_deadline",
                              ["practice_id", "deadline", "status"])


def downgrade() -> None:
    with op.batch_alter_table("engagements") as batch_op:
        batch_op.drop_index("ix_engagements_practice_deadline")
        batch_op.create_index("ix_engagements_practice_deadline", ["practice_id", "deadline"])
    op.drop_index("ix_engagements_practice_urgency", table_name="engagements")
