"""exchange: evaluation runs and inspections sent, by id (issue 17)

A run published after a later one was sent, and an inspection finished after later
ones, are now sent too: above the point the channel started from (its cursor, kept as
a floor), the collector asks what it has not sent yet instead of how far it has read.
Runs below an existing channel's cursor stay as they were (sent, or history).

Revision ID: 0027_exchange_sent
Revises: 0026_subject_merge
Create Date: 2026-12-03 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0027_exchange_sent'
down_revision = '0026_subject_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('package_seq', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_sent')),
    sa.UniqueConstraint('channel', 'kind', 'ref_id', name=op.f('uq_exchange_sent_channel'))
    )


def downgrade() -> None:
    op.drop_table('exchange_sent')
