"""supervision: when an inspection task was last assigned (made, or re-assigned to
other inspectors), so its inspection notice is dated by the assignment it names

Tasks made before keep their creation as their assignment: the column is filled from
`created_at`. Nullable: a row written without it reads `created_at`
(`supervision.tasks.assigned_at`).

Revision ID: 0032_supervision_reassigned
Revises: 0031_finance_deposit_refs
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0032_supervision_reassigned'
down_revision = '0031_finance_deposit_refs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('supervision_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE supervision_tasks SET assigned_at = created_at WHERE assigned_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('supervision_tasks', schema=None) as batch_op:
        batch_op.drop_column('assigned_at')
