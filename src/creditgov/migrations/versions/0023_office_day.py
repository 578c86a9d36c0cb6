"""the credit office's working day (issue 19)

Revision ID: 0023_office_day
Revises: 0022_supervisors
Create Date: 2026-12-03 03:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0023_office_day'
down_revision = '0022_supervisors'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
