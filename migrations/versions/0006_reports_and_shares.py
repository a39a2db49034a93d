"""Report versions, shares and their signers (digital approval with evidence).

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-28 07:57:35.274926
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_report_versions_engagement_id_engagements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_report_versions_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['staff_users.id'], name=op.f('fk_report_versions_uploaded_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_versions')),
    sa.UniqueConstraint('engagement_id', 'number', name=op.f('uq_report_versions_engagement_id_number'))
    )
    op.create_table('shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('report_version_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_shares_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_shares_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_shares_engagement_id_engagements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_shares_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_version_id'], ['report_versions.id'], name=op.f('fk_shares_report_version_id_report_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shares'))
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.create_index('ix_shares_engagement', ['engagement_id', 'state'], unique=False)

    op.create_table('share_signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('client_user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('via_portal', sa.Boolean(), nullable=False),
    sa.Column('mailed_at', sa.DateTime(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=254), nullable=True),
    sa.Column('decided_through', sa.String(length=20), nullable=True),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('decided_version_id', sa.Integer(), nullable=True),
    sa.Column('decided_sha256', sa.String(length=64), nullable=True),
    sa.Column('statement', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['client_user_id'], ['client_users.id'], name=op.f('fk_share_signers_client_user_id_client_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_version_id'], ['report_versions.id'], name=op.f('fk_share_signers_decided_version_id_report_versions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['share_id'], ['shares.id'], name=op.f('fk_share_signers_share_id_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_signers')),
    sa.UniqueConstraint('share_id', 'email', name=op.f('uq_share_signers_share_id_email'))
    )


def downgrade() -> None:
    op.drop_table('share_signers')
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index('ix_shares_engagement')

    op.drop_table('shares')
    op.drop_table('report_versions')
