"""request keys: an API request's Idempotency-Key or a page form's hidden key, scoped to
the caller, claimed before the handler runs and answered from the kept answer when the
same request comes again; kept 24 hours

Revision ID: 0033_request_keys
Revises: 0032_supervision_reassigned
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0033_request_keys'
down_revision = '0032_supervision_reassigned'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_keys')),
    sa.UniqueConstraint('caller', 'key', name=op.f('uq_request_keys_caller'))
    )
    with op.batch_alter_table('request_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_keys_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('request_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_keys_created_at'))
    op.drop_table('request_keys')
