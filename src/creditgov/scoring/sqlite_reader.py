"""Read the SQLite store into Arrow IPC files with DuckDB's SQLite scanner, in a
process of its own.

DuckDB's SQLite scanner (the `duckdb-extension-sqlite-scanner` wheel, loaded from its
file: there is no download) reads the store at C speed on every core, but it bundles
its own copy of SQLite. Two SQLite libraries in one process must never open the same
database: POSIX locks belong to the process, so when one library closes its file the
other's locks vanish ("disk I/O error" on a WAL store, or a shared-memory index
rebuilt under a live reader). The snapshot therefore runs this module as a child
process:

    python -m creditgov.scoring.sqlite_reader DB -      # stdin: {"name": "SELECT ...", ...}

Each query is DuckDB SQL over the store attached read-only as `store`; each result is
written to stdout as one Arrow IPC stream, in the order given, with the snapshot's
column types, and the parent loads the streams into its own DuckDB database as they
arrive.

With `{"segment": {"path", "after_id", "max_id", "secret"}}` on stdin instead, it writes
the credit records with ids in (after_id, max_id] as one Parquet file of the record
segments (segments.py) and prints `{"rows": N}`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditgov.core.duck import connect as duck_connect

if TYPE_CHECKING:
    import duckdb


def extension_path() -> str:
    """The scanner built for the installed DuckDB (an extension loads only into the
    exact DuckDB version it was built for)."""
    import duckdb
    import duckdb_extension_sqlite_scanner as ext

    version = duckdb.__version__
    path = Path(ext.__file__).parent / "extensions" / f"v{version}" / "sqlite_scanner.duckdb_extension"
    if not path.exists():
        built = sorted(p.name for p in (Path(ext.__file__).parent / "extensions").iterdir())
        raise RuntimeError(f"duckdb-extension-sqlite-scanner has no build for duckdb {version} (it has {built}): "
                           "install the matching versions (pyproject.toml pins both)")
    return str(path)


def connect(db: str, *, read_only: bool = True, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the SQLite store attached as `store`. Only ever call
    this in a process that has no other SQLite connection to `db` (see above)."""
    con = duck_connect(threads=threads)
    con.execute(f"LOAD '{extension_path()}'")
    mode = ", READ_ONLY" if read_only else ""
    con.execute(f"ATTACH '{db.replace(chr(39), chr(39) * 2)}' AS store (TYPE sqlite{mode})")
    return con


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def write_segment(con: duckdb.DuckDBPyConnection, job: dict[str, Any]) -> int:
    """Records (after_id, max_id] of the attached store as one Parquet file. A copy
    from id 0 scans the table on every core; a tail is read through SQLite's own query
    (rowid range), which the scanner does not push down."""
    from creditgov.scoring.segments import DUCK_COLUMNS, DUCK_EXTRA, ROW_GROUP_ROWS

    after, top = int(job["after_id"]), int(job["max_id"])
    if after == 0:
        src = f"(SELECT * FROM store.credit_records WHERE id <= {top})"
    else:
        inner = f"SELECT * FROM credit_records WHERE id > {after} AND id <= {top}"
        src = f"sqlite_query('store', {_quote(inner)})"
    where = ""
    if job["secret"]:
        where = f" WHERE item_code NOT IN ({', '.join(_quote(c) for c in job['secret'])})"
    con.execute("SET preserve_insertion_order = false")
    tmp = job["path"] + ".part"
    con.execute(f"COPY (SELECT {DUCK_COLUMNS}, {DUCK_EXTRA} FROM {src}{where} ORDER BY item_code, id) "
                f"TO {_quote(tmp)} "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
    count = con.execute(f"SELECT COUNT(*) FROM read_parquet({_quote(tmp)})").fetchone()
    assert count is not None  # COUNT(*) always yields one row
    rows = count[0]
    os.replace(tmp, job["path"])
    return int(rows)


def main() -> None:
    import pyarrow as pa

    db = sys.argv[1]
    queries: dict[str, Any] = json.loads(sys.stdin.read())
    out = sys.stdout.buffer
    con = connect(db)
    try:
        if "segment" in queries:
            rows = write_segment(con, queries["segment"])
            out.write(json.dumps({"rows": rows}).encode() + b"\n")
            out.flush()
            return
        for sql in queries.values():
            reader = con.execute(sql).fetch_record_batch(1 << 17)
            with pa.ipc.new_stream(out, reader.schema) as w:
                for batch in reader:
                    w.write_batch(batch)
        out.flush()
    finally:
        con.close()


if __name__ == "__main__":
    main()
