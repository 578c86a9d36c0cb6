"""The record segments (the columnar copy of credit records that evaluation reads) stay
true to the store: every kind of change the store can see — a status change, a
correction, a deletion, new records, an item becoming secret, a lost or damaged file —
reads back exactly as the store's own rows, and the batch result does not move."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.engine import make_url

from creditgov.core import db
from creditgov.scoring import engines, segments, service
from tests import store_template
from tests.concurrency import at_once
from tests.scoring.conftest import AS_OF

MODELS = ("qujiang-park", "community-resident")


@pytest.fixture()
def store(county: str, tmp_path: Path) -> str:
    """A private copy of the county store (the tests change it)."""
    return store_template.sqlite_copy_of(county, tmp_path / "creditgov.db")


def race(url: str, n: int = 3) -> None:
    """`n` refreshes of the same copy at once: at least one rebuilds it, the others find
    it done or lose the race (and keep the winner's)."""
    results: list[dict] = at_once(lambda _i: segments.refresh(url, min_rows=0), n)
    actions = sorted(r["action"] for r in results)
    assert len(actions) == n and actions.count("rebuilt") >= 1, actions
    assert set(actions) <= {"rebuilt", "lost-race", "none"}, actions


def _path(url: str) -> str:
    return str(make_url(url).database)


def same_records(url: str) -> int:
    """The snapshot's records through the segments equal the store's plain read (the
    standard library for SQLite, COPY for PostgreSQL), for each model; returns how many
    rows were compared."""
    n = 0
    for name in MODELS:
        with db.session_scope(url) as s:
            p = service.prepared_for(s, name, AS_OF)[1]
        fast = engines.read_store(url, p, scanner=True)
        slow = engines.read_store(url, p, scanner=False)
        for t in engines.TABLES:
            assert fast[t].schema.types == slow[t].schema.types, t
            assert fast[t].equals(slow[t]), (name, t)
        n += fast["credit_records"].num_rows
    return n


def _sql(url: str, *statements: tuple[str, tuple]) -> None:
    conn = sqlite3.connect(_path(url))
    with conn:
        for sql, args in statements:
            conn.execute(sql, args)
    conn.close()


def _one(url: str, sql: str, args: tuple = ()) -> tuple:
    conn = sqlite3.connect(_path(url))
    try:
        return conn.execute(sql, args).fetchone()
    finally:
        conn.close()


def test_the_copy_reads_back_as_the_store_after_every_kind_of_change(store: str) -> None:
    path = _path(store)
    first = segments.refresh(store, min_rows=0)
    assert first["action"] == "rebuilt" and first["rows"] > 10_000
    st = segments.status(store)
    assert st["segments"] == 1 and st["tail"] == 0 and st["overlay"] == 0
    assert same_records(store) > 1000
    before = service.evaluate(store, ref="qujiang-park", as_of=AS_OF, engine="duckdb", actor="test")

    # A status change, a correction (old version no longer current, new version added),
    # a deletion, a changed date, a text-only edit (not logged) and new records.
    disputed = _one(store, "SELECT id FROM credit_records WHERE item_code = 'market.penalty' AND status = 'active' "
                           "ORDER BY id LIMIT 1")[0]
    corrected = _one(store, "SELECT id FROM credit_records WHERE item_code = 'utility.arrears' AND is_current "
                            "ORDER BY id LIMIT 1")[0]
    moved, texted = (r for r in _one(store, "SELECT MIN(id), MIN(id) + 1 FROM credit_records "
                                            "WHERE item_code = 'market.complaint'"))
    # The only annual report in the window of a subject the model scores: deleting it
    # must move that subject's score (base 40 + 30 a report).
    gone = _one(store, "SELECT MIN(r.id) FROM credit_records r JOIN evaluation_scores e "
                       "ON e.subject_id = r.subject_id AND e.run_id = ? WHERE r.item_code = 'market.annual_report' "
                       "AND r.is_current AND r.occurred_on > '2024-11-01' AND r.occurred_on <= ? "
                       "GROUP BY r.subject_id HAVING COUNT(*) = 1 ORDER BY 1 LIMIT 1",
                (before.run_id, AS_OF.isoformat()))[0]
    seq0 = _one(store, "SELECT COALESCE(MAX(seq), 0) FROM record_changes")[0]
    top = _one(store, "SELECT MAX(id) FROM credit_records")[0]
    cols = ("subject_id, item_code, occurred_on, decided_on, value, grade, text, department_code, document_no, "
            "status, published_from, published_until, natural_key, version, is_current, supersedes_id, "
            "content_hash, source, batch_id, spec_version, line_no, raw_hash, raw, created_at")
    _sql(store,
         ("UPDATE credit_records SET status = 'disputed' WHERE id = ?", (disputed,)),
         ("UPDATE credit_records SET is_current = 0 WHERE id = ?", (corrected,)),
         (f"INSERT INTO credit_records ({cols}) SELECT subject_id, item_code, occurred_on, decided_on, "
          "value * 3, grade, text, department_code, document_no, status, published_from, published_until, "
          "natural_key, version + 1, 1, id, content_hash || 'x', source, batch_id, spec_version, line_no, "
          "raw_hash, raw, created_at FROM credit_records WHERE id = ?", (corrected,)),
         ("DELETE FROM record_status_changes WHERE record_id = ?", (gone,)),
         ("DELETE FROM credit_records WHERE id = ?", (gone,)),
         ("UPDATE credit_records SET occurred_on = '2026-10-30' WHERE id = ?", (moved,)),
         ("UPDATE credit_records SET text = 'edited' WHERE id = ?", (texted,)),
         (f"INSERT INTO credit_records ({cols}) SELECT subject_id, item_code, '2026-10-15', decided_on, value, "
          "grade, text, department_code, document_no || '-new', 'active', published_from, published_until, "
          "natural_key || 'n', 1, 1, NULL, content_hash, source, batch_id, spec_version, line_no, raw_hash, raw, "
          "created_at FROM credit_records WHERE item_code IN ('market.penalty', 'tax.arrears') AND is_current "
          "ORDER BY id LIMIT 200", ()))
    logged = {r[0] for r in sqlite3.connect(path).execute(
        "SELECT record_id FROM record_changes WHERE seq > ?", (seq0,))}
    assert logged == {disputed, corrected, gone, moved}   # the text edit and the inserts are not logged
    st = segments.status(store)
    added = _one(store, "SELECT COUNT(*) FROM credit_records WHERE id > ?", (top,))[0]
    assert st["overlay"] == 4 and st["tail"] == added > 10
    assert same_records(store) > 1000
    after = service.evaluate(store, ref="qujiang-park", as_of=AS_OF, engine="duckdb", actor="test")
    inside = service.evaluate(store, ref="qujiang-park", as_of=AS_OF, engine="sqlite", actor="test")
    with db.session_scope(store) as s:
        old = service.run_scores(s, before.run_id)
        a, b = service.run_scores(s, after.run_id), service.run_scores(s, inside.run_id)
    assert {k: (v.score, v.grade) for k, v in a.items()} == {k: (v.score, v.grade) for k, v in b.items()}
    assert any(old[k].score != a[k].score for k in a)   # the changes reached the scores

    # The tail becomes a segment of its own; the log keeps only what the oldest segment lacks.
    again = segments.refresh(store, min_rows=0)
    assert again["action"] == "appended" and again["segments"] == 2 and again["rows"] == added
    assert segments.status(store)["tail"] == 0
    assert same_records(store) > 1000


def test_a_lost_or_damaged_file_and_a_new_secret_item_rebuild_the_copy(store: str) -> None:
    path = _path(store)
    segments.refresh(store, min_rows=0)
    folder = segments.folder_for(store)
    (f,) = folder.glob("records-*.parquet")
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])          # damaged
    assert segments.status(store)["segments"] == 0                    # not trusted
    assert same_records(store) > 1000                               # the run reads the store instead
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"
    # The replaced file stays for runs still reading it, marked when it was retired.
    assert f.exists() and (folder / f"{f.name}.retired").exists()
    for f in folder.glob("records-*.parquet"):
        f.unlink()                                                   # lost
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"
    assert same_records(store) > 1000
    # A file an older release wrote, without the columns the statistics read, is rebuilt.
    (f,) = (folder / r[0] for r in sqlite3.connect(path).execute("SELECT file_name FROM record_segments"))
    full = pq.read_table(f)
    assert set(full.column_names) == set(segments.FIELDS)
    pq.write_table(full.select(list(segments.EVALUATED)), f)
    assert segments.status(store)["segments"] == 0
    assert same_records(store) > 1000
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"

    # An item reclassified as secret leaves the copy (secret data never enters evaluation).
    _sql(store, ("UPDATE catalog_items SET data_class = 'secret' WHERE code = 'market.complaint'", ()))
    assert segments.status(store)["segments"] == 0
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"
    live = [folder / r[0] for r in sqlite3.connect(path).execute("SELECT file_name FROM record_segments")]
    items = set().union(*(set(pq.read_table(p, columns=["item_code"]).column(0).to_pylist()) for p in live))
    written = pq.read_table(live[0], columns=["item_code", "id"]).to_pylist()
    assert written == sorted(written, key=lambda r: (r["item_code"], r["id"]))   # by item: runs skip the rest
    assert "market.complaint" not in items and "market.penalty" in items


def test_racing_refreshes_leave_one_contiguous_copy(store: str) -> None:
    path = _path(store)
    race(store)
    rows = sqlite3.connect(path).execute("SELECT after_id, max_id FROM record_segments ORDER BY after_id").fetchall()
    assert rows[0][0] == 0 and all(a[1] == b[0] for a, b in zip(rows, rows[1:], strict=False))
    assert same_records(store) > 1000


def test_a_run_writes_the_copy_when_the_tail_is_long(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_MIN_ROWS", 1000)
    r = service.evaluate(store, ref="community-resident", as_of=AS_OF, engine="duckdb", actor="test")
    assert r.timings["refresh_segments"] > 0 and segments.status(store)["segments"] == 1
    again = service.evaluate(store, ref="community-resident", as_of=AS_OF, engine="duckdb", actor="test")
    assert again.grades == r.grades and segments.status(store)["segments"] == 1


def test_the_worker_job_and_the_command_keep_and_show_the_copy(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from creditgov.cli.main import app
    from creditgov.worker import jobs

    monkeypatch.setattr(segments, "SEGMENT_MIN_ROWS", 1000)
    run = jobs.run_job(store, "record_segments")
    assert run.status == "done" and run.result["action"] == "rebuilt" and run.result["rows"] > 10_000
    assert jobs.run_job(store, "record_segments").result["action"] == "none"   # nothing new

    runner = CliRunner()
    res = runner.invoke(app, ["--db", store, "model", "segments", "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    assert shown["segments"] == 1 and shown["rows"] == run.result["rows"] and shown["tail"] == 0
    assert shown["bytes"] > 0 and Path(shown["folder"]) == segments.folder_for(store)
    res = runner.invoke(app, ["--db", store, "model", "segments", "--rebuild", "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    again = json.loads(res.output)
    assert again["refresh"]["action"] == "rebuilt" and again["segments"] == 1 and again["rows"] == shown["rows"]


def test_where_a_store_keeps_its_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from creditgov.core.errors import ConfigError
    from creditgov.core.settings import segment_place

    lite = f"sqlite:///{tmp_path / 'county.db'}"
    pg = "postgresql+psycopg://cg:secret@db.example:6543/credit?options=-csearch_path%3Dyiwu"
    monkeypatch.delenv("CREDITGOV_SEGMENTS", raising=False)
    assert getattr(segment_place(lite), "url", None) == (tmp_path / "county.db.segments").as_uri()
    # A server store keeps none until the deployment names a place every machine reaches.
    assert segment_place(pg) is None
    assert "CREDITGOV_SEGMENTS" in str(segments.place_for(pg).unset)
    # A shared place holds one sub-folder per store, named without user or password.
    monkeypatch.setenv("CREDITGOV_SEGMENTS", "s3a://bucket/creditgov/")
    shared = segment_place(pg)
    assert shared is not None and shared.url == "s3a://bucket/creditgov/db.example-6543/credit/yiwu" and shared.configured
    assert "secret" not in shared.url and "cg" not in shared.url.split("/")
    other, mine = segment_place(f"sqlite:///{tmp_path / 'other' / 'county.db'}"), segment_place(lite)
    assert other is not None and mine is not None
    assert other.url.startswith("s3a://bucket/creditgov/sqlite/county.db-") and other.url != mine.url
    monkeypatch.setenv("CREDITGOV_SEGMENTS", str(tmp_path / "shared"))
    assert str(getattr(segment_place(lite), "url", "")).startswith((tmp_path / "shared" / "sqlite").as_uri() + "/county.db-")
    monkeypatch.setenv("CREDITGOV_SEGMENTS", "ftp://files.example/cg")
    with pytest.raises(ConfigError, match="CREDITGOV_SEGMENTS"):
        segment_place(lite)
    with pytest.raises(ConfigError, match="in-memory"):
        segment_place("sqlite://")
