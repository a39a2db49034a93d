"""Key figures, imports, client series, account mappings and shared dashboard blocks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 08:19:41.249428
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insight_account_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_insight_account_mappings_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_account_mappings')),
    sa.UniqueConstraint('client_id', 'account', name=op.f('uq_insight_account_mappings_client_id_account'))
    )
    op.create_table('insight_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_insight_series_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_insight_series_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_series')),
    sa.UniqueConstraint('client_id', 'name', name=op.f('uq_insight_series_client_id_name'))
    )
    op.create_table('insight_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('slot', sa.String(length=40), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('month', sa.SmallInteger(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_insight_imports_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_insight_imports_engagement_id_engagements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_insight_imports_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['insight_series.id'], name=op.f('fk_insight_imports_series_id_insight_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_imports')),
    sa.UniqueConstraint('client_id', 'slot', name=op.f('uq_insight_imports_client_id_slot'))
    )
    with op.batch_alter_table('insight_imports', schema=None) as batch_op:
        batch_op.create_index('ix_insight_imports_client', ['client_id', 'year'], unique=False)
    op.create_table('insight_pending_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('month', sa.SmallInteger(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_insight_pending_imports_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_insight_pending_imports_engagement_id_engagements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_insight_pending_imports_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_pending_imports'))
    )
    with op.batch_alter_table('insight_pending_imports', schema=None) as batch_op:
        batch_op.create_index('ix_insight_pending_imports_expires', ['expires_at'], unique=False)
    op.create_table('insight_shared_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=30), nullable=False),
    sa.Column('blocks', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=254), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_insight_shared_blocks_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_insight_shared_blocks_engagement_id_engagements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_insight_shared_blocks_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_shared_blocks')),
    sa.UniqueConstraint('client_id', 'scope', name=op.f('uq_insight_shared_blocks_client_id_scope'))
    )
    op.create_table('insight_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('month', sa.SmallInteger(), nullable=True),
    sa.Column('code', sa.String(length=16), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('account', sa.String(length=40), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_insight_figures_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_id'], ['insight_imports.id'], name=op.f('fk_insight_figures_import_id_insight_imports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['insight_series.id'], name=op.f('fk_insight_figures_series_id_insight_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_figures'))
    )
    with op.batch_alter_table('insight_figures', schema=None) as batch_op:
        batch_op.create_index('ix_insight_figures_client_period', ['client_id', 'year', 'month'], unique=False)
        batch_op.create_index('ix_insight_figures_import', ['import_id'], unique=False)
        batch_op.create_index('ix_insight_figures_series', ['series_id', 'year', 'month'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('insight_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_figures_series')
        batch_op.drop_index('ix_insight_figures_import')
        batch_op.drop_index('ix_insight_figures_client_period')
    op.drop_table('insight_figures')
    op.drop_table('insight_shared_blocks')
    with op.batch_alter_table('insight_pending_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_pending_imports_expires')
    op.drop_table('insight_pending_imports')
    with op.batch_alter_table('insight_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_imports_client')
    op.drop_table('insight_imports')
    op.drop_table('insight_series')
    op.drop_table('insight_account_mappings')
