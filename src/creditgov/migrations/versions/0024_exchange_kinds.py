"""exchange package kinds (issue 17): none needed a schema change — a region's revocation
list travels as a package item and the codes domain keeps it — so this step changes nothing;
its number keeps the chain numbered without gaps

Revision ID: 0024_exchange_kinds
Revises: 0023_office_day
Create Date: 2026-12-03 03:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0024_exchange_kinds'
down_revision = '0023_office_day'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
