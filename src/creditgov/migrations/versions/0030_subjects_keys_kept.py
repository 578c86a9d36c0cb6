"""subjects: a credit subject is never deleted nor re-keyed, on PostgreSQL (issue 20)

Nothing in the product deletes a subject or changes its id: its file, records, scores,
list entries and audit trail hang on that id for good (one file per subject). On
PostgreSQL a trigger now says so, refusing a DELETE of a subject and an UPDATE of its
id. With that held, a bulk load's foreign keys to `subjects` (a run's scores, an
ingestion's records: core/db.py `lock_references`) are checked by finding the rows,
without locking each one `FOR KEY SHARE`: a row found cannot go away before the load
commits. Locking a million subjects wrote every page of the table (and, after a
checkpoint, a full image of it into the WAL) on every evaluation run.

The check relies on the trigger only while it fires as made here: `core.db.keys_kept`
holds the table in ROW EXCLUSIVE mode (the mode every writer of subjects takes, so no
INSERT, UPDATE or DELETE waits; it keeps the trigger from being disabled, dropped or
re-created until the load commits, and DDL such as CREATE INDEX on subjects waits for
the load as for any writer), reads the trigger's definition and state, and needs READ
COMMITTED; otherwise it locks the rows as before. SQLite keeps the database's own
row-by-row foreign-key checks and needs no trigger.

Revision ID: 0030_subjects_keys_kept
Revises: 0029_postgres_record_log
Create Date: 2026-12-04 21:30:00
"""

from alembic import op

revision = '0030_subjects_keys_kept'
down_revision = '0029_postgres_record_log'
branch_labels = None
depends_on = None

TRIGGER = "subjects_keys_kept"  # subjects.models: Subject.__table__.info["keys_kept"]
# the function's name is core.db.KEPT_FUNCTION (a migration imports nothing of the product)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
CREATE OR REPLACE FUNCTION creditgov_keys_kept() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '%: row % is never deleted nor re-keyed (its file, records and scores hang on its id)',
        TG_TABLE_NAME, OLD.id USING ERRCODE = 'restrict_violation';
END
$fn$""")
    op.execute(f"CREATE TRIGGER {TRIGGER} BEFORE DELETE OR UPDATE OF id ON subjects "
               "FOR EACH ROW EXECUTE FUNCTION creditgov_keys_kept()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON subjects")
        op.execute("DROP FUNCTION IF EXISTS creditgov_keys_kept()")
