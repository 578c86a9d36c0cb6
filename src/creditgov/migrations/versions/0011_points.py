"""credit points: the append-only points ledger and its lock rows, manual awards, the
earning rules in force, and the points supermarket's shops, offers and redemptions

Revision ID: 0011_points
Revises: 0010_publication
Create Date: 2026-12-03 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011_points'
down_revision = '0010_publication'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('points_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_rules'))
    )
    op.create_table('points_accounts',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_points_accounts_subject_id_subjects')),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_points_accounts'))
    )
    op.create_table('points_shops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_points_shops_region_id_regions')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_points_shops_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_shops')),
    sa.UniqueConstraint('code', name=op.f('uq_points_shops_code'))
    )
    op.create_index(op.f('ix_points_shops_subject_id'), 'points_shops', ['subject_id'], unique=False)
    op.create_table('points_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('cause', sa.String(length=12), nullable=False),
    sa.Column('ref_type', sa.String(length=12), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=60), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('earned_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('cause_key', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reverses_id'], ['points_entries.id'], name=op.f('fk_points_entries_reverses_id_points_entries')),
    sa.ForeignKeyConstraint(['subject_id'], ['points_accounts.subject_id'], name=op.f('fk_points_entries_subject_id_points_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries')),
    sa.UniqueConstraint('cause_key', name=op.f('uq_points_entries_cause_key'))
    )
    op.create_index('ix_points_entries_subject_at', 'points_entries', ['subject_id', 'id'], unique=False)
    op.create_index('ix_points_entries_ref', 'points_entries', ['ref_type', 'ref_id'], unique=False)
    op.create_table('points_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('min_band', sa.String(length=12), nullable=True),
    sa.Column('per_subject', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('price > 0', name=op.f('ck_points_offers_price')),
    sa.CheckConstraint('taken >= 0 AND taken <= stock', name=op.f('ck_points_offers_stock')),
    sa.ForeignKeyConstraint(['shop_id'], ['points_shops.id'], name=op.f('fk_points_offers_shop_id_points_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_offers'))
    )
    op.create_index(op.f('ix_points_offers_shop_id'), 'points_offers', ['shop_id'], unique=False)
    op.create_table('points_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['points_entries.id'], name=op.f('fk_points_awards_entry_id_points_entries')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_points_awards_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_awards'))
    )
    op.create_index(op.f('ix_points_awards_subject_id'), 'points_awards', ['subject_id'], unique=False)
    op.create_table('points_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('reserved_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['points_offers.id'], name=op.f('fk_points_redemptions_offer_id_points_offers')),
    sa.ForeignKeyConstraint(['shop_id'], ['points_shops.id'], name=op.f('fk_points_redemptions_shop_id_points_shops')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_points_redemptions_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_redemptions')),
    sa.UniqueConstraint('code', name=op.f('uq_points_redemptions_code')),
    sa.UniqueConstraint('subject_id', 'idempotency_key', name=op.f('uq_points_redemptions_subject_id'))
    )
    op.create_index(op.f('ix_points_redemptions_offer_id'), 'points_redemptions', ['offer_id'], unique=False)
    op.create_index(op.f('ix_points_redemptions_shop_id'), 'points_redemptions', ['shop_id'], unique=False)
    op.create_index(op.f('ix_points_redemptions_subject_id'), 'points_redemptions', ['subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_points_redemptions_subject_id'), table_name='points_redemptions')
    op.drop_index(op.f('ix_points_redemptions_shop_id'), table_name='points_redemptions')
    op.drop_index(op.f('ix_points_redemptions_offer_id'), table_name='points_redemptions')
    op.drop_table('points_redemptions')
    op.drop_index(op.f('ix_points_awards_subject_id'), table_name='points_awards')
    op.drop_table('points_awards')
    op.drop_index(op.f('ix_points_offers_shop_id'), table_name='points_offers')
    op.drop_table('points_offers')
    op.drop_index('ix_points_entries_ref', table_name='points_entries')
    op.drop_index('ix_points_entries_subject_at', table_name='points_entries')
    op.drop_table('points_entries')
    op.drop_index(op.f('ix_points_shops_subject_id'), table_name='points_shops')
    op.drop_table('points_shops')
    op.drop_table('points_accounts')
    op.drop_table('points_rules')
