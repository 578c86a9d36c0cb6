"""reports: a printed document kept with the credit reports has an identity, `kind` (the
document's kind code) and `ref` (the id of what it is about), indexed together

A document printed again keeps the serial it was first issued under; the reprint finds
that issue by (`kind`, `ref`) instead of by its `purpose` text. The documents printed
before kept their identity only in that text, written "<title> <kind> <ref>" (信用名单列入告知书
notice 12, …): it is read here, for those five kinds under their titles only, so an
old document is still found. A credit report, and any row whose purpose reads otherwise,
has neither (nullable).

Revision ID: 0035_document_identity
Revises: 0034_inbox_english
Create Date: 2026-12-10 10:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = '0035_document_identity'
down_revision = '0034_inbox_english'
branch_labels = None
depends_on = None

# The documents' titles and kind codes as `documents` wrote them into the purpose (frozen here).
_DOCUMENTS = {"信用名单列入告知书": "notice", "信用名单认定决定书": "decision", "异议处理决定书": "objection",
              "信用修复决定书": "repair", "检查通知书": "inspection"}
_REF = re.compile(r"[0-9]{1,9}")


def upgrade() -> None:
    with op.batch_alter_table('credit_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('ref', sa.Integer(), nullable=True))
    reports = sa.table('credit_reports', sa.column('id', sa.Integer()), sa.column('purpose', sa.String()),
                       sa.column('kind', sa.String()), sa.column('ref', sa.Integer()))
    conn = op.get_bind()
    for title, kind in _DOCUMENTS.items():
        prefix = f"{title} {kind} "
        rows = conn.execute(sa.select(reports.c.id, reports.c.purpose)
                            .where(reports.c.purpose.like(prefix + '%'))).all()
        found = [{"row_id": row_id, "doc_kind": kind, "doc_ref": int(purpose[len(prefix):])}
                 for row_id, purpose in rows if _REF.fullmatch(purpose[len(prefix):])]
        if found:
            conn.execute(reports.update().where(reports.c.id == sa.bindparam('row_id'))
                         .values(kind=sa.bindparam('doc_kind'), ref=sa.bindparam('doc_ref')), found)
    with op.batch_alter_table('credit_reports', schema=None) as batch_op:
        batch_op.create_index('ix_credit_reports_kind_ref', ['kind', 'ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credit_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_reports_kind_ref')
        batch_op.drop_column('ref')
        batch_op.drop_column('kind')
