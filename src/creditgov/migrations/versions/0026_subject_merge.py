"""subject correction and merging of duplicates (issue 19)

Revision ID: 0026_subject_merge
Revises: 0025_finance_files
Create Date: 2026-12-03 03:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0026_subject_merge'
down_revision = '0025_finance_files'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subject_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('duplicate_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('kept', sa.JSON(), nullable=False),
    sa.Column('created', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('undone_by', sa.String(length=100), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undo_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_changes'))
    )
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_changes_target_id'), ['target_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_changes_duplicate_id'), ['duplicate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_changes_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subject_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_changes_status'))
        batch_op.drop_index(batch_op.f('ix_subject_changes_duplicate_id'))
        batch_op.drop_index(batch_op.f('ix_subject_changes_target_id'))
    op.drop_table('subject_changes')
