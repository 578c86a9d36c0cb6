"""subject correction and merging of duplicates (issue 19)

Revision ID: 0026_subject_merge
Revises: 0025_finance_files
Create Date: 2026-12-03 03:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0026_subject_merge'
down_revision = '0025_finance_files'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
