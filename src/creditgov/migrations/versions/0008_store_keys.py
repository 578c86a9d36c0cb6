"""store keys: the fingerprint of the key a store was initialised with, so a command
or the server given another key file refuses it instead of writing with a second key

Revision ID: 0008_keys
Revises: 0007_segments
Create Date: 2026-12-01 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008_keys'
down_revision = '0007_segments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('store_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_keys')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_store_keys_fingerprint')),
    )


def downgrade() -> None:
    op.drop_table('store_keys')
