"""credit bureaus (征信机构): the catalogue's per-item bureau marker, and the export's runs
with the subjects each carried

Revision ID: 0020_bureaus
Revises: 0019_link_dates
Create Date: 2026-12-03 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0020_bureaus'
down_revision = '0019_link_dates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bureau', sa.JSON(none_as_null=True), nullable=True))
    op.create_table('bureau_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bureau', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('exporter', sa.String(length=40), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('subjects', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=14), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('writes', sa.Integer(), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('acked_at', sa.DateTime(), nullable=True),
    sa.Column('acked_by', sa.String(length=100), nullable=True),
    sa.Column('ack_ref', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau_runs')),
    sa.UniqueConstraint('bureau', 'seq', name=op.f('uq_bureau_runs_bureau'))
    )
    op.create_table('bureau_run_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['bureau_runs.id'], name=op.f('fk_bureau_run_subjects_run_id_bureau_runs')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_bureau_run_subjects_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau_run_subjects')),
    sa.UniqueConstraint('run_id', 'subject_id', name=op.f('uq_bureau_run_subjects_run_id'))
    )
    with op.batch_alter_table('bureau_run_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bureau_run_subjects_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bureau_run_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bureau_run_subjects_subject_id'))
    op.drop_table('bureau_run_subjects')
    op.drop_table('bureau_runs')
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.drop_column('bureau')
