"""信易贷 finance: banks, loan products and their criteria, financing needs, matches
with their reasons, consents per need, applications, the loan book, repayments, the
risk-compensation fund (pool, per-bank totals, claims, ledger) and the finance policy
in force

Revision ID: 0012_finance
Revises: 0011_points
Create Date: 2026-12-02 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012_finance'
down_revision = '0011_points'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finance_banks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_banks')),
    sa.UniqueConstraint('code', name=op.f('uq_finance_banks_code'))
    )
    op.create_table('finance_fund_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_finance_fund_pool_balance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_fund_pool'))
    )
    op.create_table('finance_match_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stamp', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_match_state'))
    )
    op.create_table('finance_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_policies'))
    )
    op.create_table('finance_fund_bank_totals',
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_fund_bank_totals_bank_id_finance_banks')),
    sa.PrimaryKeyConstraint('bank_id', name=op.f('pk_finance_fund_bank_totals'))
    )
    op.create_table('finance_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('min_bands', sa.JSON(), nullable=False),
    sa.Column('lists_absent', sa.JSON(), nullable=False),
    sa.Column('amount_min', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount_max', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('term_min', sa.Integer(), nullable=False),
    sa.Column('term_max', sa.Integer(), nullable=False),
    sa.Column('rate_min', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('rate_max', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('collateral_free', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.CheckConstraint('amount_min <= amount_max', name=op.f('ck_finance_products_amount_range')),
    sa.CheckConstraint('rate_min <= rate_max', name=op.f('ck_finance_products_rate_range')),
    sa.CheckConstraint('term_min <= term_max', name=op.f('ck_finance_products_term_range')),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_products_bank_id_finance_banks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_products')),
    sa.UniqueConstraint('bank_id', 'code', name=op.f('uq_finance_products_bank_id'))
    )
    with op.batch_alter_table('finance_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_products_bank_id'), ['bank_id'], unique=False)

    op.create_table('finance_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('collateral', sa.Boolean(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.Text(), nullable=False),
    sa.Column('contact_phone_masked', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_finance_needs_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_needs'))
    )
    with op.batch_alter_table('finance_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_needs_subject_id'), ['subject_id'], unique=False)

    op.create_table('finance_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decline_code', sa.String(length=40), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_applications_bank_id_finance_banks')),
    sa.ForeignKeyConstraint(['need_id'], ['finance_needs.id'], name=op.f('fk_finance_applications_need_id_finance_needs')),
    sa.ForeignKeyConstraint(['product_id'], ['finance_products.id'], name=op.f('fk_finance_applications_product_id_finance_products')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_finance_applications_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_applications')),
    sa.UniqueConstraint('need_id', 'product_id', name=op.f('uq_finance_applications_need_id'))
    )
    with op.batch_alter_table('finance_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_applications_bank_id'), ['bank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_applications_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_applications_subject_id'), ['subject_id'], unique=False)

    op.create_table('finance_matches',
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('fails', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('band_ok', sa.Boolean(), nullable=False),
    sa.Column('band_model', sa.String(length=80), nullable=True),
    sa.Column('band_got', sa.String(length=12), nullable=True),
    sa.Column('band_gap', sa.Integer(), nullable=False),
    sa.Column('lists_ok', sa.Boolean(), nullable=False),
    sa.Column('lists_hit', sa.String(length=200), nullable=True),
    sa.Column('amount_ok', sa.Boolean(), nullable=False),
    sa.Column('amount_gap', sa.Float(), nullable=False),
    sa.Column('term_ok', sa.Boolean(), nullable=False),
    sa.Column('term_gap', sa.Integer(), nullable=False),
    sa.Column('collateral_ok', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['finance_needs.id'], name=op.f('fk_finance_matches_need_id_finance_needs')),
    sa.ForeignKeyConstraint(['product_id'], ['finance_products.id'], name=op.f('fk_finance_matches_product_id_finance_products')),
    sa.PrimaryKeyConstraint('need_id', 'product_id', name=op.f('pk_finance_matches'))
    )
    with op.batch_alter_table('finance_matches', schema=None) as batch_op:
        batch_op.create_index('ix_finance_matches_product', ['product_id', 'eligible'], unique=False)

    op.create_table('finance_need_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_need_consents_bank_id_finance_banks')),
    sa.ForeignKeyConstraint(['consent_id'], ['access_consents.id'], name=op.f('fk_finance_need_consents_consent_id_access_consents')),
    sa.ForeignKeyConstraint(['need_id'], ['finance_needs.id'], name=op.f('fk_finance_need_consents_need_id_finance_needs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_need_consents')),
    sa.UniqueConstraint('consent_id', name=op.f('uq_finance_need_consents_consent_id'))
    )
    with op.batch_alter_table('finance_need_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_need_consents_bank_id'), ['bank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_need_consents_need_id'), ['need_id'], unique=False)

    op.create_table('finance_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('rate', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('collateral_free', sa.Boolean(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('outstanding', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('overdue_days', sa.Integer(), nullable=False),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('defaulted_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('model', sa.String(length=80), nullable=True),
    sa.Column('grade', sa.String(length=10), nullable=True),
    sa.Column('band', sa.String(length=12), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('outstanding >= 0', name=op.f('ck_finance_loans_outstanding')),
    sa.ForeignKeyConstraint(['application_id'], ['finance_applications.id'], name=op.f('fk_finance_loans_application_id_finance_applications')),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_loans_bank_id_finance_banks')),
    sa.ForeignKeyConstraint(['product_id'], ['finance_products.id'], name=op.f('fk_finance_loans_product_id_finance_products')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_finance_loans_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_loans')),
    sa.UniqueConstraint('application_id', name=op.f('uq_finance_loans_application_id'))
    )
    with op.batch_alter_table('finance_loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_loans_bank_id'), ['bank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_loans_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_loans_subject_id'), ['subject_id'], unique=False)

    op.create_table('finance_fund_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('loss', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('filed_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_fund_claims_bank_id_finance_banks')),
    sa.ForeignKeyConstraint(['loan_id'], ['finance_loans.id'], name=op.f('fk_finance_fund_claims_loan_id_finance_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_fund_claims')),
    sa.UniqueConstraint('loan_id', name=op.f('uq_finance_fund_claims_loan_id'))
    )
    with op.batch_alter_table('finance_fund_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_fund_claims_bank_id'), ['bank_id'], unique=False)

    op.create_table('finance_repayments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=80), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['finance_loans.id'], name=op.f('fk_finance_repayments_loan_id_finance_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_repayments')),
    sa.UniqueConstraint('loan_id', 'ref', name=op.f('uq_finance_repayments_loan_id'))
    )
    with op.batch_alter_table('finance_repayments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_repayments_loan_id'), ['loan_id'], unique=False)

    op.create_table('finance_fund_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('bank_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['finance_banks.id'], name=op.f('fk_finance_fund_ledger_bank_id_finance_banks')),
    sa.ForeignKeyConstraint(['claim_id'], ['finance_fund_claims.id'], name=op.f('fk_finance_fund_ledger_claim_id_finance_fund_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_fund_ledger')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_finance_fund_ledger_claim_id'))
    )


def downgrade() -> None:
    op.drop_table('finance_fund_ledger')
    with op.batch_alter_table('finance_repayments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_repayments_loan_id'))

    op.drop_table('finance_repayments')
    with op.batch_alter_table('finance_fund_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_fund_claims_bank_id'))

    op.drop_table('finance_fund_claims')
    with op.batch_alter_table('finance_loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_loans_subject_id'))
        batch_op.drop_index(batch_op.f('ix_finance_loans_status'))
        batch_op.drop_index(batch_op.f('ix_finance_loans_bank_id'))

    op.drop_table('finance_loans')
    with op.batch_alter_table('finance_need_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_need_consents_need_id'))
        batch_op.drop_index(batch_op.f('ix_finance_need_consents_bank_id'))

    op.drop_table('finance_need_consents')
    with op.batch_alter_table('finance_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_matches_product')

    op.drop_table('finance_matches')
    with op.batch_alter_table('finance_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_applications_subject_id'))
        batch_op.drop_index(batch_op.f('ix_finance_applications_need_id'))
        batch_op.drop_index(batch_op.f('ix_finance_applications_bank_id'))

    op.drop_table('finance_applications')
    with op.batch_alter_table('finance_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_needs_subject_id'))

    op.drop_table('finance_needs')
    with op.batch_alter_table('finance_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_products_bank_id'))

    op.drop_table('finance_products')
    op.drop_table('finance_fund_bank_totals')
    op.drop_table('finance_policies')
    op.drop_table('finance_match_state')
    op.drop_table('finance_fund_pool')
    op.drop_table('finance_banks')
