"""alerts: an inbox message keeps its English beside the Chinese (`body_en`), and the
outbox is indexed by recipient with its alert

`body_en` is written by the message's producer from the same values as the Chinese (a
procedure step's department, item, outcome and status by their labels in each language;
an alert's `payload["en"]`). Nullable: a message written before has none, and the
English pages say it by its known shape, as they did (`alerts.words.MESSAGE_SHAPES`).

The index serves a department officer's alerts: those with a delivery to its desk
(`notifications.recipient = 'department:<code>'`, read for their `alert_id`).

Revision ID: 0034_inbox_english
Revises: 0033_request_keys
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0034_inbox_english'
down_revision = '0033_request_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_en', sa.Text(), nullable=True))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_recipient_alert', ['recipient', 'alert_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_alert')
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_column('body_en')
