"""record segments: a columnar copy of credit records for evaluation, and the change
log that keeps it true

Revision ID: 0007_segments (was 0008)
Revises: 0006_supervision
Create Date: 2026-11-28 02:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_segments'
down_revision = '0006_supervision'
branch_labels = None
depends_on = None

# The columns a segment copies (scoring/segments.py); an UPDATE of any of them, or a
# DELETE, logs the record so that evaluation re-reads it from the store.
EVALUATED = "subject_id, item_code, occurred_on, value, grade, status, published_from, published_until, is_current"


def upgrade() -> None:
    op.create_table('record_changes',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_record_changes')),
    sqlite_autoincrement=True,
    )
    op.create_table('record_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.Column('after_id', sa.Integer(), nullable=False),
    sa.Column('max_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('change_seq', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_segments')),
    sa.UniqueConstraint('file_name', name=op.f('uq_record_segments_file_name')),
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"CREATE TRIGGER credit_records_changed AFTER UPDATE OF {EVALUATED} ON credit_records "
                   "BEGIN INSERT INTO record_changes (record_id) VALUES (OLD.id); END")
        op.execute("CREATE TRIGGER credit_records_deleted AFTER DELETE ON credit_records "
                   "BEGIN INSERT INTO record_changes (record_id) VALUES (OLD.id); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS credit_records_deleted")
        op.execute("DROP TRIGGER IF EXISTS credit_records_changed")
    op.drop_table('record_segments')
    op.drop_table('record_changes')
