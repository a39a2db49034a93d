"""The latest check of each practice's chain of audit events.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_checks',
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('finding', sa.String(length=10), nullable=False),
    sa.Column('broken_id', sa.Integer(), nullable=True),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('head_hash', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_audit_checks_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('practice_id', name=op.f('pk_audit_checks'))
    )


def downgrade() -> None:
    op.drop_table('audit_checks')
