"""finance repayment files (issue 16)

Revision ID: 0025_finance_files
Revises: 0024_exchange_kinds
Create Date: 2026-12-03 03:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0025_finance_files'
down_revision = '0024_exchange_kinds'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
