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


def store_table(session: Session, p: Prepared, run_id: int, table: pa.Table) -> None:
    """Bulk-insert a run's rows (score, grade, colour, first-level scores) in the
    session's transaction. The text forms are built column-wise by Arrow; SQLite gets
    one executemany through the session's own connection (the same SQLite library as
    the rest of the process), PostgreSQL one COPY whose foreign keys are checked for the
    whole run at once."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return
    score = fixed_text(table.column("score_centi"), 100, 2, strip=False)
    if p.dims:
        per, width = (100, 2) if p.weighted else (1000, 3)
        parts: list[Any] = []
        for k, (code, _, _) in enumerate(p.dims):
            parts.append(("{" if k == 0 else ",") + json.dumps(code, ensure_ascii=False) + ":")
            parts.append(fixed_text(table.column(f"dim{k}"), per, width, strip=True))
        parts.append("}")
        dims = pc.binary_join_element_wise(*parts, "")
    else:
        dims = pa.array(["{}"] * table.num_rows)
    rows = zip([run_id] * table.num_rows, table.column("subject_id").to_pylist(), score.to_pylist(),
               table.column("grade").to_pylist(), table.column("colour").to_pylist(), dims.to_pylist(), strict=True)
    # The foreign keys (run, subject) are checked once for the run, not per score, where
    # PostgreSQL lets this role (db.bulk_load_checked): a million scores in a quarter of the time.
    db.bulk_load_checked(session, cast(Table, Score.__table__),
                         ["run_id", "subject_id", "score", "grade", "colour", "dimensions"], list(rows),
                         stored_form=True)


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
