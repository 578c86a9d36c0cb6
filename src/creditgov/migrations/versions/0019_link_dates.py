"""link dates: when a person's role in a firm began and ended (the relationship view and
the credit check's related-party warnings read them)

Revision ID: 0019_link_dates
Revises: 0018_complaints
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0019_link_dates'
down_revision = '0018_complaints'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subject_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subject_links', schema=None) as batch_op:
        batch_op.drop_column('until')
        batch_op.drop_column('since')
