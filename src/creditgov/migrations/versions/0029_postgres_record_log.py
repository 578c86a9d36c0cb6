"""scoring: the record segments' change log on PostgreSQL (issue 20)

A SQLite store writes one transaction at a time, so its change log can be ordered by a
sequence and a segment can say "every change up to seq N is in me". PostgreSQL commits
concurrent transactions in an order no sequence shows: a record with id 90 may commit
after a copy of ids up to 100 was taken, and a change logged as seq 7 may commit after
seq 8. So on PostgreSQL a segment records the **snapshot** its copy was read in
(`pg_current_snapshot()`), and the log records the **transaction** that wrote each
change (its 64-bit id, `pg_current_xact_id()`), so a reader can ask PostgreSQL which
changes a segment cannot have seen (`pg_visible_in_snapshot`):

- an UPDATE of an evaluated column and a DELETE are logged row by row into
  `record_changes` with the writing transaction, by triggers (as on SQLite: nothing in
  the product has to remember to log). Triggers rather than logical decoding: decoding
  needs `wal_level = logical`, a replication slot that holds WAL for ever when its
  reader stops, and a superuser or replication role; triggers run in the writer's own
  transaction and need nothing from the server's configuration.
- an INSERT is not logged (a log row per record would double the cost of ingestion):
  a new column `written_xid` defaults to the inserting transaction, with a BRIN index
  (a few pages for millions of rows; rows are appended in transaction order), so
  "records written by transactions a segment has not seen" is one range scan.
  Rows from before this migration have no `written_xid` and were seen by every copy.

SQLite keeps its triggers and sequence (the new columns stay empty there).

Revision ID: 0029_postgres_record_log
Revises: 0028_audit_append_function
Create Date: 2026-12-03 21:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0029_postgres_record_log'
down_revision = '0028_audit_append_function'
branch_labels = None
depends_on = None

# The columns a segment copies (as 0007_segments); an UPDATE of one of them is logged.
EVALUATED = "subject_id, item_code, occurred_on, value, grade, status, published_from, published_until, is_current"
XID = "pg_current_xact_id()::text::bigint"


def upgrade() -> None:
    with op.batch_alter_table('record_changes') as b:
        b.add_column(sa.Column('xid', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('record_segments') as b:
        b.add_column(sa.Column('snapshot', sa.Text(), nullable=True))
    if op.get_bind().dialect.name != 'postgresql':
        return
    # No default while adding: existing rows stay NULL (no table rewrite); new rows get
    # the writing transaction.
    op.execute("ALTER TABLE credit_records ADD COLUMN written_xid bigint")
    op.execute(f"ALTER TABLE credit_records ALTER COLUMN written_xid SET DEFAULT {XID}")
    op.execute("CREATE INDEX ix_credit_records_written_xid ON credit_records USING brin (written_xid)")
    op.execute(f"""
CREATE OR REPLACE FUNCTION creditgov_record_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- the log beside the table that changed, whatever the writer's search_path
    EXECUTE format('INSERT INTO %I.record_changes (record_id, xid) VALUES ($1, $2)', TG_TABLE_SCHEMA)
        USING OLD.id, {XID};
    RETURN NULL;
END
$fn$""")
    op.execute(f"CREATE TRIGGER credit_records_changed AFTER UPDATE OF {EVALUATED} ON credit_records "
               "FOR EACH ROW EXECUTE FUNCTION creditgov_record_changed()")
    op.execute("CREATE TRIGGER credit_records_deleted AFTER DELETE ON credit_records "
               "FOR EACH ROW EXECUTE FUNCTION creditgov_record_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS credit_records_deleted ON credit_records")
        op.execute("DROP TRIGGER IF EXISTS credit_records_changed ON credit_records")
        op.execute("DROP FUNCTION IF EXISTS creditgov_record_changed()")
        op.execute("DROP INDEX IF EXISTS ix_credit_records_written_xid")
        op.execute("ALTER TABLE credit_records DROP COLUMN IF EXISTS written_xid")
    with op.batch_alter_table('record_segments') as b:
        b.drop_column('snapshot')
    with op.batch_alter_table('record_changes') as b:
        b.drop_column('xid')
