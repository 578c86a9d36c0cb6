"""the credit code: the region's signing keys (private halves encrypted), the trust list
and its pinned province root, the codes issued, and revocation lists imported from
other regions

Revision ID: 0013_codes
Revises: 0012_finance
Create Date: 2026-12-02 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013_codes'
down_revision = '0012_finance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('code_signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=16), nullable=False),
    sa.Column('issuer', sa.String(length=40), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('private_key', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_signing_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_code_signing_keys_kid'))
    )
    op.create_table('code_trusted_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=16), nullable=False),
    sa.Column('issuer', sa.String(length=40), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('trust_until', sa.DateTime(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_trusted_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_code_trusted_keys_kid'))
    )
    op.create_index(op.f('ix_code_trusted_keys_issuer'), 'code_trusted_keys', ['issuer'], unique=False)
    op.create_table('code_trust_roots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('pinned_at', sa.DateTime(), nullable=False),
    sa.Column('list_issued_at', sa.Integer(), nullable=True),
    sa.Column('list_text', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_trust_roots')),
    sa.UniqueConstraint('public_key', name=op.f('uq_code_trust_roots_public_key'))
    )
    op.create_table('credit_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=16), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=True),
    sa.Column('grade', sa.String(length=20), nullable=True),
    sa.Column('band', sa.String(length=12), nullable=True),
    sa.Column('colour', sa.String(length=10), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=12), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_credit_codes_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_codes')),
    sa.UniqueConstraint('code_id', name=op.f('uq_credit_codes_code_id'))
    )
    op.create_index(op.f('ix_credit_codes_subject_id'), 'credit_codes', ['subject_id'], unique=False)
    op.create_index(op.f('ix_credit_codes_expires_at'), 'credit_codes', ['expires_at'], unique=False)
    op.create_table('code_revocation_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=40), nullable=False),
    sa.Column('kid', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.Integer(), nullable=False),
    sa.Column('revoked', sa.JSON(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_revocation_lists')),
    sa.UniqueConstraint('issuer', name=op.f('uq_code_revocation_lists_issuer'))
    )


def downgrade() -> None:
    op.drop_table('code_revocation_lists')
    op.drop_index(op.f('ix_credit_codes_expires_at'), table_name='credit_codes')
    op.drop_index(op.f('ix_credit_codes_subject_id'), table_name='credit_codes')
    op.drop_table('credit_codes')
    op.drop_table('code_trust_roots')
    op.drop_index(op.f('ix_code_trusted_keys_issuer'), table_name='code_trusted_keys')
    op.drop_table('code_trusted_keys')
    op.drop_table('code_signing_keys')
