"""supervision: the account that acts for an inspector or grid worker of the roster

`supervision_inspectors.account` is the user name of the account that reaches the
person's tasks and records their results (the roster file's `account`). Until now an
account was tied to a roster row only by bearing its code as its user name; a row
naming no account keeps that rule, so the rows already loaded need nothing filled in.
Nullable, unique: one account acts for one person.

Revision ID: 0036_inspector_accounts
Revises: 0035_document_identity
Create Date: 2026-12-11 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0036_inspector_accounts'
down_revision = '0035_document_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('supervision_inspectors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_supervision_inspectors_account'), ['account'])


def downgrade() -> None:
    with op.batch_alter_table('supervision_inspectors', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_supervision_inspectors_account'), type_='unique')
        batch_op.drop_column('account')
