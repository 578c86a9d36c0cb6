"""special supervisors and service-hall windows (issue 23): the counter sessions of
the windows. (Supervisors need no table: a role, and their observations are complaints
whose channel marks the source.)

Revision ID: 0022_supervisors
Revises: 0021_ratings
Create Date: 2026-12-03 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0022_supervisors'
down_revision = '0021_ratings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counter_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('staff', sa.String(length=100), nullable=False),
    sa.Column('visitor', sa.String(length=100), nullable=False),
    sa.Column('window', sa.String(length=40), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_counter_sessions_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_sessions'))
    )
    with op.batch_alter_table('counter_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_counter_sessions_staff_open', ['staff', 'ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_counter_sessions_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('counter_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_sessions_subject_id'))
        batch_op.drop_index('ix_counter_sessions_staff_open')
    op.drop_table('counter_sessions')
