"""the office's working day: data requests as a workflow — request forms filed by the
credit office (department, legal basis, purpose, frequency), each item's decision by
the owning department (who, the reason) and every step's history; manual entries
(人工录入) awaiting a second person's approval

Revision ID: 0017_office
Revises: 0016_security_ops
Create Date: 2026-12-02 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017_office'
down_revision = '0016_security_ops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_request_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=50), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('frequency', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('filed_by', sa.String(length=100), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_data_request_forms_department_code_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_request_forms'))
    )
    op.create_index(op.f('ix_data_request_forms_department_code'), 'data_request_forms', ['department_code'], unique=False)
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_data_requests_form_id'), ['form_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_data_requests_form_id_data_request_forms'), 'data_request_forms', ['form_id'], ['id'])
    op.create_table('data_request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['data_request_forms.id'], name=op.f('fk_data_request_events_form_id_data_request_forms')),
    sa.ForeignKeyConstraint(['request_id'], ['data_requests.id'], name=op.f('fk_data_request_events_request_id_data_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_request_events'))
    )
    op.create_index(op.f('ix_data_request_events_request_id'), 'data_request_events', ['request_id'], unique=False)
    op.create_table('ingest_manual_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('department_code', sa.String(length=50), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['ingest_batches.id'], name=op.f('fk_ingest_manual_entries_batch_id_ingest_batches')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_ingest_manual_entries_department_code_departments')),
    sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'], name=op.f('fk_ingest_manual_entries_record_id_credit_records')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_ingest_manual_entries_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_manual_entries'))
    )


def downgrade() -> None:
    op.drop_table('ingest_manual_entries')
    op.drop_index(op.f('ix_data_request_events_request_id'), table_name='data_request_events')
    op.drop_table('data_request_events')
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_data_requests_form_id_data_request_forms'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_data_requests_form_id'))
        batch_op.drop_column('decided_by')
        batch_op.drop_column('form_id')
    op.drop_index(op.f('ix_data_request_forms_department_code'), table_name='data_request_forms')
    op.drop_table('data_request_forms')
