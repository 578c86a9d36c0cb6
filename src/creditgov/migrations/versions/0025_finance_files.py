"""finance repayment files (issue 16): rows of `handled` ingestion sources (a bank's
repayment and overdue files) that their handler applied, kept for trace and idempotency

Revision ID: 0025_finance_files
Revises: 0024_exchange_kinds
Create Date: 2026-12-03 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0025_finance_files'
down_revision = '0024_exchange_kinds'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_handled_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['ingest_batches.id'],
                            name=op.f('fk_ingest_handled_rows_batch_id_ingest_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_handled_rows')),
    sa.UniqueConstraint('source', 'raw_hash', name=op.f('uq_ingest_handled_rows_source'))
    )
    with op.batch_alter_table('ingest_handled_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_handled_rows_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ingest_handled_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_handled_rows_batch_id'))
    op.drop_table('ingest_handled_rows')
