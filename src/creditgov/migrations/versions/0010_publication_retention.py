"""publication and retention: whether each catalogue item is published at all and the
publication terms resolved from the rules (Order 45 / Order 36) with their provenance;
the publication period a list decision chose; the purged segments of the audit chain
(query logs past their retention) that keep the chain verifiable

Revision ID: 0010_publication
Revises: 0009_signin
Create Date: 2026-12-02 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010_publication'
down_revision = '0009_signin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('publication', sa.JSON(), nullable=True))
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publication_months', sa.Integer(), nullable=True))
    op.create_table('audit_purged_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_entry_id', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('after_hash', sa.String(length=64), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_purged_segments')),
    sa.UniqueConstraint('after_hash', name=op.f('uq_audit_purged_segments_after_hash')),
    )
    with op.batch_alter_table('audit_purged_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_purged_segments_checkpoint_entry_id'), ['checkpoint_entry_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_purged_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_purged_segments_checkpoint_entry_id'))
    op.drop_table('audit_purged_segments')
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.drop_column('publication_months')
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.drop_column('publication')
        batch_op.drop_column('published')
