"""special supervisors and service-hall windows (issue 23)

Revision ID: 0022_supervisors
Revises: 0021_ratings
Create Date: 2026-12-03 03:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0022_supervisors'
down_revision = '0021_ratings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
