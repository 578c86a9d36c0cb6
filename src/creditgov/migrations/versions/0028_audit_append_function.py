"""security: the audit chain's append as one PostgreSQL function (issue 15)

An append on PostgreSQL took three round trips under the chain's advisory lock (take
the lock, read the last hash, insert) and the lock is held to the commit, so every
audited write of the store queued behind them. `creditgov_audit_append` does the three
in one call: each statement of a volatile PL/pgSQL function takes a fresh snapshot, so
the last hash is read after the lock is granted, as before. The entry's hash is the
same SHA-256 of the same JSON bytes `security.service` computes (the caller sends the
JSON of every field after the previous hash; the function puts the previous hash in
front), so `audit verify` checks old and new entries alike. SQLite is unchanged: its
writes are already exclusive.

Revision ID: 0028_audit_append_function
Revises: 0027_exchange_sent
Create Date: 2026-12-03 11:20:00
"""

from alembic import op

revision = '0028_audit_append_function'
down_revision = '0027_exchange_sent'
branch_labels = None
depends_on = None

# The lock key is security.service._LOCK_KEY (a purge takes the same lock).
FUNCTION = """
CREATE OR REPLACE FUNCTION creditgov_audit_append(
    p_at timestamp, p_actor text, p_action text, p_subject_id integer, p_purpose text,
    p_detail text, p_tail text)
RETURNS TABLE (out_id integer, out_prev text, out_hash text)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_prev text;
    v_hash text;
    v_id integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7431001);
    SELECT e.hash INTO v_prev FROM audit_entries AS e ORDER BY e.id DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_hash := encode(sha256(convert_to('["' || v_prev || '",' || p_tail, 'UTF8')), 'hex');
    INSERT INTO audit_entries (at, actor, action, subject_id, purpose, detail, prev_hash, hash)
    VALUES (p_at, p_actor, p_action, p_subject_id, p_purpose, p_detail, v_prev, v_hash)
    RETURNING audit_entries.id INTO v_id;
    RETURN QUERY SELECT v_id, v_prev, v_hash;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS creditgov_audit_append(timestamp, text, text, integer, text, text, text)")
