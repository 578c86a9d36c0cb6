"""the credit office's working day (issue 19): special campaigns (专项整治) — a campaign,
its targets, and its inspection tasks (supervision_tasks.campaign_id)

Revision ID: 0023_office_day
Revises: 0022_supervisors
Create Date: 2026-12-03 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0023_office_day'
down_revision = '0022_supervisors'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supervision_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.Column('policy_name', sa.String(length=80), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_campaigns')),
    sa.UniqueConstraint('code', name=op.f('uq_supervision_campaigns_code'))
    )
    op.create_table('supervision_campaign_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['supervision_campaigns.id'],
                            name=op.f('fk_supervision_campaign_targets_campaign_id_supervision_campaigns')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'],
                            name=op.f('fk_supervision_campaign_targets_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_campaign_targets')),
    sa.UniqueConstraint('campaign_id', 'subject_id', name=op.f('uq_supervision_campaign_targets_campaign_id'))
    )
    with op.batch_alter_table('supervision_campaign_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_campaign_targets_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_campaign_targets_subject_id'), ['subject_id'], unique=False)
    with op.batch_alter_table('supervision_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_supervision_tasks_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_supervision_tasks_campaign_id_supervision_campaigns'),
                                    'supervision_campaigns', ['campaign_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('supervision_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_supervision_tasks_campaign_id_supervision_campaigns'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_supervision_tasks_campaign_id'))
        batch_op.drop_column('campaign_id')
    with op.batch_alter_table('supervision_campaign_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_campaign_targets_subject_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_campaign_targets_campaign_id'))
    op.drop_table('supervision_campaign_targets')
    op.drop_table('supervision_campaigns')
