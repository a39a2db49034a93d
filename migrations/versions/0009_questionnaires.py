"""Questionnaire templates (versioned), sends, assignments, answers; loose questions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 08:14:08.103487
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('questionnaire_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_questionnaire_templates_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_templates'))
    )
    with op.batch_alter_table('questionnaire_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_templates_practice_id'), ['practice_id'], unique=False)

    op.create_table('question_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_question_lists_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_question_lists_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['staff_users.id'], name=op.f('fk_question_lists_sent_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_lists'))
    )
    with op.batch_alter_table('question_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_lists_client_id'), ['client_id'], unique=False)

    op.create_table('questionnaire_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('sent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['questionnaire_templates.id'], name=op.f('fk_questionnaire_versions_template_id_questionnaire_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_versions')),
    sa.UniqueConstraint('template_id', 'number', name=op.f('uq_questionnaire_versions_template_id_number'))
    )
    op.create_table('questionnaire_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('client_ids', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_questionnaire_batches_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_questionnaire_batches_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_questionnaire_batches_version_id_questionnaire_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_batches'))
    )
    with op.batch_alter_table('questionnaire_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_batches_practice_id'), ['practice_id'], unique=False)

    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('list_id', sa.Integer(), nullable=True),
    sa.Column('follow_up_of_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_questions_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_questions_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_questions_engagement_id_engagements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_of_id'], ['questions.id'], name=op.f('fk_questions_follow_up_of_id_questions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['list_id'], ['question_lists.id'], name=op.f('fk_questions_list_id_question_lists'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_questions_practice_id_practices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index('ix_questions_client_state', ['client_id', 'state'], unique=False)

    op.create_table('questionnaire_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reopened', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by', sa.String(length=254), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['questionnaire_batches.id'], name=op.f('fk_questionnaire_assignments_batch_id_questionnaire_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_questionnaire_assignments_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practices.id'], name=op.f('fk_questionnaire_assignments_practice_id_practices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_questionnaire_assignments_version_id_questionnaire_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_assignments')),
    sa.UniqueConstraint('batch_id', 'client_id', name=op.f('uq_questionnaire_assignments_batch_id_client_id'))
    )
    with op.batch_alter_table('questionnaire_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_assignments_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_questionnaire_assignments_client', ['client_id', 'state'], unique=False)

    op.create_table('questionnaire_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=20), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('not_applicable', sa.Boolean(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['client_users.id'], name=op.f('fk_questionnaire_answers_answered_by_id_client_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignment_id'], ['questionnaire_assignments.id'], name=op.f('fk_questionnaire_answers_assignment_id_questionnaire_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_answers')),
    sa.UniqueConstraint('assignment_id', 'question_key', name=op.f('uq_questionnaire_answers_assignment_id_question_key'))
    )


def downgrade() -> None:
    op.drop_table('questionnaire_answers')
    with op.batch_alter_table('questionnaire_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_questionnaire_assignments_client')
        batch_op.drop_index(batch_op.f('ix_questionnaire_assignments_batch_id'))

    op.drop_table('questionnaire_assignments')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_client_state')

    op.drop_table('questions')
    with op.batch_alter_table('questionnaire_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_batches_practice_id'))

    op.drop_table('questionnaire_batches')
    op.drop_table('questionnaire_versions')
    with op.batch_alter_table('question_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_lists_client_id'))

    op.drop_table('question_lists')
    with op.batch_alter_table('questionnaire_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_templates_practice_id'))

    op.drop_table('questionnaire_templates')
