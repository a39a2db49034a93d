"""Account security: two-factor sign-in (TOTP secret, last used step, recovery codes) and
the practice's choice to require it of staff.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 08:09:51.524851
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('client_user_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(staff_user_id IS NULL) <> (client_user_id IS NULL)', name=op.f('ck_recovery_codes_one_owner')),
    sa.ForeignKeyConstraint(['client_user_id'], ['client_users.id'], name=op.f('fk_recovery_codes_client_user_id_client_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_recovery_codes_staff_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_client_user_id'), ['client_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_codes_staff_user_id'), ['staff_user_id'], unique=False)

    with op.batch_alter_table('client_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_staff_2fa', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')

    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.drop_column('require_staff_2fa')

    with op.batch_alter_table('client_users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')

    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_recovery_codes_client_user_id'))

    op.drop_table('recovery_codes')
