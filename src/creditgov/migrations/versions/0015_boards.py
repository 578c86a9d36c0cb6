"""points boards and credit-merchant awards: residents' opt-in to the public boards,
and the credit-merchant selection (rounds, candidates, objections)

Revision ID: 0015_boards
Revises: 0014_exchange
Create Date: 2026-12-02 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015_boards'
down_revision = '0014_exchange'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('points_board_optins',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('opted_in', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_points_board_optins_subject_id_subjects')),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_points_board_optins'))
    )
    op.create_table('merchant_selections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('objection_until', sa.Date(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decision_no', sa.String(length=120), nullable=True),
    sa.Column('opened_by', sa.String(length=100), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_selections')),
    sa.UniqueConstraint('code', name=op.f('uq_merchant_selections_code'))
    )
    op.create_table('merchant_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('nominated_by', sa.String(length=100), nullable=True),
    sa.Column('nomination', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'], name=op.f('fk_merchant_candidates_record_id_credit_records')),
    sa.ForeignKeyConstraint(['selection_id'], ['merchant_selections.id'], name=op.f('fk_merchant_candidates_selection_id_merchant_selections')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_merchant_candidates_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_candidates')),
    sa.UniqueConstraint('selection_id', 'subject_id', name=op.f('uq_merchant_candidates_selection_id'))
    )
    op.create_index(op.f('ix_merchant_candidates_selection_id'), 'merchant_candidates', ['selection_id'], unique=False)
    op.create_index(op.f('ix_merchant_candidates_subject_id'), 'merchant_candidates', ['subject_id'], unique=False)
    op.create_table('merchant_objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('filed_by', sa.String(length=100), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['merchant_candidates.id'], name=op.f('fk_merchant_objections_candidate_id_merchant_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_objections'))
    )
    op.create_index(op.f('ix_merchant_objections_candidate_id'), 'merchant_objections', ['candidate_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_merchant_objections_candidate_id'), table_name='merchant_objections')
    op.drop_table('merchant_objections')
    op.drop_index(op.f('ix_merchant_candidates_subject_id'), table_name='merchant_candidates')
    op.drop_index(op.f('ix_merchant_candidates_selection_id'), table_name='merchant_candidates')
    op.drop_table('merchant_candidates')
    op.drop_table('merchant_selections')
    op.drop_table('points_board_optins')
