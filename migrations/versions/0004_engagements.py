"""Engagements of clients; an index for KvK number searches.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:47:26.438129
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('engagements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_engagements_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_engagements_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_id'], ['staff_users.id'], name=op.f('fk_engagements_responsible_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements'))
    )
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index('ix_engagements_client', ['client_id', 'year'], unique=False)
        batch_op.create_index('ix_engagements_practice_deadline', ['practice_id', 'deadline'], unique=False)
        batch_op.create_index('ix_engagements_practice_status', ['practice_id', 'status', 'deadline'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_practice_kvk', ['practice_id', 'kvk_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_practice_kvk')

    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index('ix_engagements_practice_status')
        batch_op.drop_index('ix_engagements_practice_deadline')
        batch_op.drop_index('ix_engagements_client')

    op.drop_table('engagements')
