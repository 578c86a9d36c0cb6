"""PostgreSQL's half of `BatchWriter.flush`: stored records matched by one COPY and one join.

When a source already has records, every pending record's natural key is looked up
among the current stored records (a new record, a duplicate or a correction). On
SQLite that is a query per 900 keys; here the keys go by `COPY` into a temporary
table that lives inside the file's transaction (`ON COMMIT DROP`: a commit or a
rollback leaves nothing of it), one join against `credit_records` returns the matches,
and the versions a correction replaces are marked not current by one `UPDATE` over
their ids. The classification itself stays in writer.py, the same on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.orm import Session

from creditgov.records.models import CreditRecord

if TYPE_CHECKING:
    import psycopg

_STAGE = "ingest_pending_keys"


def _pg(session: Session) -> psycopg.Connection[Any]:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None  # the session's connection is checked out, so its DBAPI connection is live
    # The PostgreSQL driver is psycopg 3 (core.settings), whose cursors have COPY.
    return cast("psycopg.Connection[Any]", raw)


def current_records(session: Session, keys: Iterable[str]) -> dict[str, tuple[int, str, int]]:
    """natural key -> (id, content hash, version) of the current stored record, for `keys`."""
    pg = _pg(session)
    with pg.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (natural_key varchar(32) NOT NULL)"
                    " ON COMMIT DROP")
        cur.execute(f"TRUNCATE {_STAGE}")
        with cur.copy(f"COPY {_STAGE} (natural_key) FROM STDIN") as cp:
            for k in keys:
                cp.write_row((k,))
        cur.execute(f"ANALYZE {_STAGE}")
        cur.execute(f"SELECT r.natural_key, r.id, r.content_hash, r.version FROM credit_records r"
                    f" JOIN (SELECT DISTINCT natural_key FROM {_STAGE}) k ON k.natural_key = r.natural_key"
                    f" WHERE r.is_current")
        return {nk: (rid, ch, ver) for nk, rid, ch, ver in cur.fetchall()}


def retire(session: Session, ids: Sequence[int]) -> None:
    """Mark the record versions that corrections replace as no longer current, at once."""
    if not ids:
        return
    with _pg(session).cursor() as cur:
        cur.execute("UPDATE credit_records SET is_current = false WHERE id = ANY(%s)", (list(ids),))
    # As the ORM's UPDATE would: records of these ids already loaded in the session read
    # the new value when next used.
    retired = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, CreditRecord) and obj.id in retired:
            session.expire(obj, ["is_current"])
