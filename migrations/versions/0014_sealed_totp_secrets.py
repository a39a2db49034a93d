"""Room for sealed (encrypted) authenticator keys. Keys stored before are sealed the next
time their owner signs in with a code (portal.accounts.two_factor).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TABLES = ("staff_users", "client_users")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("totp_secret", existing_type=sa.String(length=64),
                                  type_=sa.String(length=200), existing_nullable=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("totp_secret", existing_type=sa.String(length=200),
                                  type_=sa.String(length=64), existing_nullable=True)
