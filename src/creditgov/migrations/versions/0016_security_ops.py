"""key rotation: the progress of a rotation of the store's key, so one cut short by a
crash resumes where it stopped (security/rotation.py). Backups need no table.

Revision ID: 0016_security_ops
Revises: 0015_boards
Create Date: 2026-12-02 17:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0016_security_ops'
down_revision = '0015_boards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_rotations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_key_id', sa.String(length=16), nullable=False),
    sa.Column('new_key_id', sa.String(length=16), nullable=False),
    sa.Column('old_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('new_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Text(), nullable=False),
    sa.Column('rekeyed', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_rotations')),
    sa.UniqueConstraint('new_key_id', name=op.f('uq_key_rotations_new_key_id')),
    )


def downgrade() -> None:
    op.drop_table('key_rotations')
