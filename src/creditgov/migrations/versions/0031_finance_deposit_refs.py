"""finance: a fund deposit's reference (the allocation document's or the transfer's
number), unique, so a retried deposit answers the first instead of adding again

Deposits made before have no reference (NULL: both databases let any number of NULLs
stand under a unique index), as payouts have none.

Revision ID: 0031_finance_deposit_refs
Revises: 0030_subjects_keys_kept
Create Date: 2026-12-05 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0031_finance_deposit_refs'
down_revision = '0030_subjects_keys_kept'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('finance_fund_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.String(length=80), nullable=True))
    op.create_index('ix_finance_fund_ledger_ref', 'finance_fund_ledger', ['ref'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_finance_fund_ledger_ref', table_name='finance_fund_ledger')
    with op.batch_alter_table('finance_fund_ledger', schema=None) as batch_op:
        batch_op.drop_column('ref')
