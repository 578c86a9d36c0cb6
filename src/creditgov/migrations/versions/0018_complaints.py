"""complaints (投诉处理): one table, the complaint with its deadlines, assignment and reply

Revision ID: 0018_complaints
Revises: 0017_office
Create Date: 2026-12-02 17:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0018_complaints'
down_revision = '0017_office'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('respondent_name', sa.String(length=200), nullable=False),
    sa.Column('respondent_code', sa.String(length=18), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('complainant_name', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('contact_kind', sa.String(length=10), nullable=True),
    sa.Column('query_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('accept_due', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('received_by', sa.String(length=100), nullable=False),
    sa.Column('department_code', sa.String(length=50), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.Column('assigned_by', sa.String(length=100), nullable=True),
    sa.Column('assign_note', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('replied_on', sa.Date(), nullable=True),
    sa.Column('replied_by', sa.String(length=100), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('manual_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], ),
    sa.ForeignKeyConstraint(['manual_entry_id'], ['ingest_manual_entries.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index('ix_complaints_department', 'complaints', ['department_code'], unique=False)
    op.create_index('ix_complaints_status_due', 'complaints', ['status', 'due_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaints_status_due', table_name='complaints')
    op.drop_index('ix_complaints_department', table_name='complaints')
    op.drop_table('complaints')
