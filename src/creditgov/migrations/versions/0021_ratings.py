"""industry ratings and the city credit score as inputs (issue 23)

Revision ID: 0021_ratings
Revises: 0020_bureaus
Create Date: 2026-12-03 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021_ratings'
down_revision = '0020_bureaus'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A rating is a credit record of an item the catalogue marks as a rating: the item
    # carries the scheme (levels, validity, basis); the records need no new column.
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.drop_column('rating')
