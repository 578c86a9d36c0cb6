"""Read SQLite query results into Arrow IPC files, in a process of its own.

The ADBC SQLite driver reads at C speed but bundles its own copy of SQLite. Two SQLite
libraries in one process must never open the same database: POSIX locks belong to the
process, so when one library closes its file the other's locks vanish ("disk I/O
error" on a WAL store, or worse). The snapshot therefore runs this module as a child
process: `python -m creditgov.scoring.sqlite_reader DB OUTDIR` with a JSON object
{name: sql} on stdin; it writes OUTDIR/<name>.arrow and exits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    db, out = sys.argv[1], Path(sys.argv[2])
    queries: dict[str, str] = json.loads(sys.stdin.read())
    with adbc.connect(db) as conn:
        for name, sql in queries.items():
            with conn.cursor() as cur:
                cur.execute(sql)
                table = cur.fetch_arrow_table()
            with pa.OSFile(str(out / f"{name}.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)


if __name__ == "__main__":
    main()
