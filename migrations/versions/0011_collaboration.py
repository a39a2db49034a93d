"""Offers, client exports, and who pays, portal start, block, end and deletion dates.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 08:21:03.887757
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('client_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('client_name', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.String(length=254), nullable=False),
    sa.Column('for_client', sa.Boolean(), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ready_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_client_exports_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_exports'))
    )
    with op.batch_alter_table('client_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_exports_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_client_exports_practice', ['practice_id', 'id'], unique=False)

    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('payer', sa.String(length=10), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_offers_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_offers_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['staff_users.id'], name=op.f('fk_offers_sent_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_offers_practice_state', ['practice_id', 'state', 'id'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer', sa.String(length=10), server_default='practice', nullable=False))
        batch_op.add_column(sa.Column('portal_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('purge_after', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('purge_after')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('blocked_at')
        batch_op.drop_column('portal_since')
        batch_op.drop_column('payer')

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_practice_state')
        batch_op.drop_index(batch_op.f('ix_offers_client_id'))

    op.drop_table('offers')
    with op.batch_alter_table('client_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_client_exports_practice')
        batch_op.drop_index(batch_op.f('ix_client_exports_client_id'))

    op.drop_table('client_exports')
