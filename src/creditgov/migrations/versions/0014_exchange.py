"""the exchange: this installation's identity, peers per channel, signed sequenced
packages (sent and received), the subjects each carried, the collector's cursors and
received facts; the change queue (exchange_outbox) gains the package that carried it

The queue and the shares log (0005) change owner, not shape: rows queued before stay
as they were (`queued` / `sent`) and readable.

Revision ID: 0014_exchange
Revises: 0013_codes
Create Date: 2026-12-02 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014_exchange'
down_revision = '0013_codes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node', sa.String(length=60), nullable=False),
    sa.Column('public_key', sa.String(length=80), nullable=False),
    sa.Column('private_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_identity')),
    sa.UniqueConstraint('node', name=op.f('uq_exchange_identity_node'))
    )
    op.create_table('exchange_peers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('node', sa.String(length=60), nullable=False),
    sa.Column('public_key', sa.String(length=80), nullable=False),
    sa.Column('transport', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_peers')),
    sa.UniqueConstraint('channel', name=op.f('uq_exchange_peers_channel')),
    sa.UniqueConstraint('node', name=op.f('uq_exchange_peers_node'))
    )
    op.create_table('exchange_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('peer', sa.String(length=60), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=14), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_packages')),
    sa.UniqueConstraint('channel', 'direction', 'seq', name=op.f('uq_exchange_packages_channel'))
    )
    op.create_index('ix_exchange_packages_status', 'exchange_packages', ['direction', 'status'], unique=False)
    op.create_table('exchange_package_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['exchange_packages.id'],
                            name=op.f('fk_exchange_package_subjects_package_id_exchange_packages')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'],
                            name=op.f('fk_exchange_package_subjects_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_package_subjects')),
    sa.UniqueConstraint('package_id', 'subject_id', name=op.f('uq_exchange_package_subjects_package_id'))
    )
    op.create_index(op.f('ix_exchange_package_subjects_subject_id'), 'exchange_package_subjects', ['subject_id'],
                    unique=False)
    op.create_table('exchange_cursors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_cursors')),
    sa.UniqueConstraint('channel', 'source', name=op.f('uq_exchange_cursors_channel'))
    )
    op.create_table('exchange_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['exchange_packages.id'],
                            name=op.f('fk_exchange_facts_package_id_exchange_packages')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_exchange_facts_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_facts'))
    )
    op.create_index(op.f('ix_exchange_facts_package_id'), 'exchange_facts', ['package_id'], unique=False)
    op.create_index('ix_exchange_facts_subject', 'exchange_facts', ['subject_id'], unique=False)
    with op.batch_alter_table('exchange_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('package_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('exchange_outbox', schema=None) as batch_op:
        batch_op.drop_column('package_id')
    op.drop_index('ix_exchange_facts_subject', table_name='exchange_facts')
    op.drop_index(op.f('ix_exchange_facts_package_id'), table_name='exchange_facts')
    op.drop_table('exchange_facts')
    op.drop_table('exchange_cursors')
    op.drop_index(op.f('ix_exchange_package_subjects_subject_id'), table_name='exchange_package_subjects')
    op.drop_table('exchange_package_subjects')
    op.drop_index('ix_exchange_packages_status', table_name='exchange_packages')
    op.drop_table('exchange_packages')
    op.drop_table('exchange_peers')
    op.drop_table('exchange_identity')
