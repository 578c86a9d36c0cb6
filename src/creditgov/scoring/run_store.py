"""How a run's scores are written into the store, in the run's transaction: from the
Arrow table an engine returned (`store_table`), or from the load table the Spark
executors filled (`store_loaded`, spark_scores.py) — the same text forms either way."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
from sqlalchemy import Table
from sqlalchemy.orm import Session

from creditgov.core import db
from creditgov.core.errors import IntegrityError
from creditgov.scoring.models import Score
from creditgov.scoring.prepared import Prepared

if TYPE_CHECKING:
    import psycopg

    from creditgov.scoring.spark_scores import Loaded


#: How long the move waits for the executors' last inserts into the load table.
LOAD_LOCK_MS = 30_000


def counts(table: pa.Table, column: str) -> Counter[str]:
    import pyarrow.compute as pc

    vc = pc.value_counts(table.column(column)).to_pylist() if table.num_rows else []
    return Counter({d["values"]: d["counts"] for d in vc})


def fixed_text(v: pa.ChunkedArray | pa.Array, per: int, width: int, *, strip: bool) -> pa.Array:
    """Integers in units of 1/per as decimal text, vectorised (a run may hold millions
    of rows): `centi_text` (strip=False), or the first-level scores' JSON numbers
    (strip=True: trailing zeros and a bare point dropped; tests/scoring/test_store_text.py)."""
    import pyarrow.compute as pc

    v = pc.cast(v, pa.int64())
    a = pc.abs(v)
    whole = pc.divide(a, per)  # integer division of non-negative integers
    frac = pc.utf8_lpad(pc.cast(pc.subtract(a, pc.multiply(whole, per)), pa.string()), width, "0")
    text = pc.binary_join_element_wise(pc.cast(whole, pa.string()), frac, ".")
    if strip:
        text = pc.utf8_rtrim(pc.utf8_rtrim(text, "0"), ".")
    sign = pc.if_else(pc.less(v, 0), "-", "")
    return pc.binary_join_element_wise(sign, text, "")


#: Scores formatted and sent a batch at a time: a province's run holds millions, and one
#: Python tuple a score (the earlier way) held gigabytes at four million subjects.
STORE_BATCH = 65_536
_COLUMNS = ["run_id", "subject_id", "score", "grade", "colour", "dimensions"]


def texts(p: Prepared, batch: pa.RecordBatch | pa.Table) -> list[pa.Array | pa.ChunkedArray]:
    """A batch of a run's rows as the store takes them: subject id, score, grade, colour
    and the first-level scores' JSON text, built column-wise by Arrow."""
    import pyarrow.compute as pc

    score = fixed_text(batch.column("score_centi"), 100, 2, strip=False)
    if p.dims:
        per, width = (100, 2) if p.weighted else (1000, 3)
        parts: list[Any] = []
        for k, (code, _, _) in enumerate(p.dims):
            parts.append(("{" if k == 0 else ",") + json.dumps(code, ensure_ascii=False) + ":")
            parts.append(fixed_text(batch.column(f"dim{k}"), per, width, strip=True))
        parts.append("}")
        dims = pc.binary_join_element_wise(*parts, "")
    else:
        dims = pa.array(["{}"] * batch.num_rows)
    return [batch.column("subject_id"), score, batch.column("grade"), batch.column("colour"), dims]


#: COPY's text format: a backslash first, then the delimiter and the line ends.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def copy_text(columns: list[Any], *, constant: str | None = None) -> pa.Buffer:
    """Rows as PostgreSQL's COPY text format, one buffer, built by Arrow without a Python
    object a row: each value as text with its backslashes, tabs and line ends escaped,
    NULL as `\\N`, `constant` (already COPY text) first in every row, tabs between, one
    row a line."""
    import pyarrow.compute as pc

    parts: list[Any] = [] if constant is None else [constant]
    for c in columns:
        v = pc.cast(c, pa.string())
        for find, put in _COPY_ESCAPES:
            v = pc.replace_substring(v, find, put)
        parts.append(pc.fill_null(v, "\\N"))
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*parts, "\t"), "\n", "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    whole = pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines)
    return pc.binary_join(whole, "")[0].as_buffer() or pa.py_buffer(b"")


def store_table(session: Session, p: Prepared, run_id: int, table: pa.Table,
                timings: dict[str, float] | None = None) -> str:
    """Bulk-insert a run's rows (score, grade, colour, first-level scores) in the
    session's transaction, `STORE_BATCH` rows at a time, their text forms built by Arrow
    (`texts`). SQLite gets one executemany a batch through the session's own connection
    (the same SQLite library as the rest of the process); PostgreSQL one COPY whose text
    Arrow writes (`copy_text`), its foreign keys checked once for the run where the role
    may (`db.may_skip_row_triggers`, `db.lock_references`; `store_loaded` the same way):
    a million scores in about a third of the time the per-row checks take. Returns how
    the keys were checked: "bulk" (once for the run) or "row" (by the database)."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return "row"
    score_table = cast(Table, Score.__table__)
    conn = session.connection()
    t0 = time.perf_counter()
    batches = table.to_batches(max_chunksize=STORE_BATCH)
    if conn.dialect.name != "postgresql":
        for batch in batches:
            rows = zip([run_id] * batch.num_rows, *(c.to_pylist() for c in texts(p, batch)), strict=True)
            db.bulk_insert(session, score_table, _COLUMNS, list(rows), stored_form=True)
        if timings is not None:
            timings["store_copy"] = round(time.perf_counter() - t0, 3)
        return "row"
    # The PostgreSQL driver is psycopg 3 (core.settings), whose cursors have COPY.
    pg = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    db.refuse_busy(pg)
    bulk = db.may_skip_row_triggers(session, score_table)
    with db.row_triggers_off(session, bulk), pg.cursor() as cur, \
            cur.copy(f"COPY evaluation_scores ({', '.join(_COLUMNS)}) FROM STDIN (ENCODING 'UTF8')") as cp:
        for batch in batches:
            cp.write(copy_text(texts(p, batch), constant=str(int(run_id))))
    t1 = time.perf_counter()
    if bulk:  # the subjects named once each, from the run's own column (read back from the
        # table they took 4x as long: a million fresh index entries and tuples to visit)
        db.lock_references(session, score_table, {
            "run_id": [run_id], "subject_id": pc.unique(table.column("subject_id")).to_pylist()})
    if timings is not None:  # the COPY, and the keys checked for the run
        timings["store_copy"] = round(t1 - t0, 3)
        timings["store_keys"] = round(time.perf_counter() - t1, 3)
    return "bulk" if bulk else "row"


def centi_text(c: int) -> str:
    """Hundredths as a decimal string, without a Decimal per row (a run may hold millions)."""
    sign, c = ("-", -c) if c < 0 else ("", c)
    return f"{sign}{c // 100}.{c % 100:02d}"


def store_loaded(session: Session, run_id: int, loaded: Loaded,
                 timings: dict[str, float] | None = None) -> None:
    """Move the run's scores from the load table into `evaluation_scores` in the session's
    transaction (their first-level scores already written as `fixed_text` writes them,
    by the executors: spark_scores.dims_text), the foreign keys checked once for the run where the role may (as
    `store_table`), and drop the load table with it."""
    conn = session.connection()
    t = loaded.table
    # no task Spark may still run (a zombie's late insert) changes it between count and move;
    # one that holds its insert open longer fails the store rather than hanging it
    if not db.lock_within(session, t, "EXCLUSIVE", LOAD_LOCK_MS):
        raise IntegrityError(f"run {run_id}: the load table is still being written (a task of the run's "
                             "executors holds it); nothing was stored")
    have = conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
    if have < loaded.rows:
        raise IntegrityError(f"run {run_id}: the executors stored {have} of its {loaded.rows} scores; nothing was stored")
    # more rows than the run: a task run again after committing; each subject's rows must be the same
    twice = have > loaded.rows
    if twice and conn.exec_driver_sql(
            f"SELECT count(*) FROM (SELECT DISTINCT * FROM {t}) d").scalar_one() != loaded.rows:
        raise IntegrityError(f"run {run_id}: the load table holds differing rows for a subject; nothing was stored")
    pick, order = ("DISTINCT ON (subject_id) ", " ORDER BY subject_id") if twice else ("", "")
    table = cast(Table, Score.__table__)
    bulk = db.may_skip_row_triggers(session, table)
    t0 = time.perf_counter()
    with db.row_triggers_off(session, bulk):
        moved = conn.exec_driver_sql(
            "INSERT INTO evaluation_scores (run_id, subject_id, score, grade, colour, dimensions) "
            f"SELECT {pick}{int(run_id)}, subject_id, CAST(score_centi AS numeric) / 100, grade, colour, "
            f"CAST(dimensions AS json) FROM {t}{order}").rowcount
    if moved != loaded.rows:
        raise IntegrityError(f"run {run_id}: {moved} scores moved from the load table, {loaded.rows} evaluated; "
                             "nothing was stored")
    t1 = time.perf_counter()
    if bulk:
        db.lock_references(session, table, {"run_id": [run_id], "subject_id": db.RowsOf(f"SELECT subject_id FROM {t}")})
    conn.exec_driver_sql(f"DROP TABLE {t}")
    if timings is not None:  # the move itself, and the keys checked (and locked) for the run
        timings["store_move"] = round(t1 - t0, 3)
        timings["store_keys"] = round(time.perf_counter() - t1, 3)
