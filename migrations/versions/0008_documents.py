"""Document exchange: documents both ways, document requests, shares with contact persons.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 08:18:16.809495
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_document_shares_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_document_shares_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_document_shares_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_shares'))
    )
    with op.batch_alter_table('document_shares', schema=None) as batch_op:
        batch_op.create_index('ix_document_shares_client', ['client_id'], unique=False)

    op.create_table('document_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_document_requests_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_document_requests_engagement_id_engagements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_document_requests_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff_users.id'], name=op.f('fk_document_requests_requested_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_requests'))
    )
    with op.batch_alter_table('document_requests', schema=None) as batch_op:
        batch_op.create_index('ix_document_requests_client_state', ['client_id', 'state'], unique=False)

    op.create_table('document_share_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('client_user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('mailed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_user_id'], ['client_users.id'], name=op.f('fk_document_share_recipients_client_user_id_client_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['share_id'], ['document_shares.id'], name=op.f('fk_document_share_recipients_share_id_document_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_share_recipients')),
    sa.UniqueConstraint('share_id', 'email', name=op.f('uq_document_share_recipients_share_id_email'))
    )
    with op.batch_alter_table('document_share_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_document_share_recipients_user', ['client_user_id', 'share_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('share_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('batch', sa.String(length=32), nullable=False),
    sa.Column('uploaded_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_client_user_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_documents_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['staff_users.id'], name=op.f('fk_documents_deleted_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_documents_engagement_id_engagements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_documents_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['document_requests.id'], name=op.f('fk_documents_request_id_document_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['share_id'], ['document_shares.id'], name=op.f('fk_documents_share_id_document_shares'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_client_user_id'], ['client_users.id'], name=op.f('fk_documents_uploaded_by_client_user_id_client_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_staff_id'], ['staff_users.id'], name=op.f('fk_documents_uploaded_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_documents_storage_key'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_batch', ['batch'], unique=False)
        batch_op.create_index('ix_documents_client_folder', ['client_id', 'deleted_at', 'year', 'engagement_id'], unique=False)
        batch_op.create_index('ix_documents_deleted', ['deleted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_deleted')
        batch_op.drop_index('ix_documents_client_folder')
        batch_op.drop_index('ix_documents_batch')

    op.drop_table('documents')
    with op.batch_alter_table('document_share_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_document_share_recipients_user')

    op.drop_table('document_share_recipients')
    with op.batch_alter_table('document_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_document_requests_client_state')

    op.drop_table('document_requests')
    with op.batch_alter_table('document_shares', schema=None) as batch_op:
        batch_op.drop_index('ix_document_shares_client')

    op.drop_table('document_shares')
