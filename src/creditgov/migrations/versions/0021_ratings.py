"""industry ratings and the city credit score as inputs (issue 23)

Revision ID: 0021_ratings
Revises: 0020_bureaus
Create Date: 2026-12-03 03:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0021_ratings'
down_revision = '0020_bureaus'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
