"""Record segments of a PostgreSQL store. Its transactions commit in an order no
sequence shows, so a segment remembers the snapshot its copy was read in and the store
remembers which transaction wrote each change (migration 0029): a record inserted or
changed by a transaction that commits *after* a copy was taken — even with an id inside
the copy's range — still reads back exactly as the store holds it, and so does every
other kind of change (status, correction, deletion, new records, a secret item, a lost
file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from creditgov.core import db
from creditgov.core.db import pg_connect
from creditgov.core.errors import CreditGovError
from creditgov.scoring import segments, service
from tests import store_template
from tests.scoring.conftest import AS_OF
from tests.scoring.test_segments import race, same_records

COLS = ("subject_id, item_code, occurred_on, decided_on, value, grade, text, department_code, document_no, "
        "status, published_from, published_until, natural_key, version, is_current, supersedes_id, "
        "content_hash, source, batch_id, spec_version, line_no, raw_hash, raw, created_at")


@pytest.fixture()
def store(county_pg: str, pg_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private copy of the PostgreSQL county (the tests change it), its segments in a
    folder of the test's own."""
    monkeypatch.setenv("CREDITGOV_SEGMENTS", str(tmp_path / "segments"))
    with store_template.pg_copy_of(pg_base, county_pg) as url:
        yield url


def _sql(url: str, *statements: str) -> None:
    with pg_connect(url, autocommit=False) as conn:
        for sql in statements:
            conn.execute(sql)
        conn.commit()


def _one(url: str, sql: str) -> Any:
    with pg_connect(url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_changes_committed_after_a_copy_read_back_as_the_store(store: str) -> None:
    # A transaction takes ids and changes a record, and stays open while the copy is written.
    late = pg_connect(store, autocommit=False)
    try:
        late_ids = [r[0] for r in late.execute(f"INSERT INTO credit_records ({COLS}) SELECT subject_id, item_code, '2026-10-16', decided_on, "
                     "value, grade, text, department_code, document_no || '-late', 'active', published_from, "
                     "published_until, md5(natural_key || 'late'), 1, true, NULL, content_hash, source, batch_id, "
                     "spec_version, line_no, raw_hash, raw, created_at FROM credit_records "
                     "WHERE item_code = 'market.penalty' AND is_current ORDER BY id LIMIT 30 RETURNING id")]
        assert len(late_ids) > 10
        changed = late.execute("UPDATE credit_records SET status = 'disputed' WHERE id = (SELECT MIN(id) FROM "
                               "credit_records WHERE item_code = 'tax.arrears' AND status = 'active') "
                               "RETURNING id").fetchone()[0]
        # Another transaction inserts after it (larger ids) and commits first.
        _sql(store, f"INSERT INTO credit_records ({COLS}) SELECT subject_id, item_code, '2026-10-17', decided_on, "
                    "value, grade, text, department_code, document_no || '-early', 'active', published_from, "
                    "published_until, md5(natural_key || 'early'), 1, true, NULL, content_hash, source, batch_id, "
                    "spec_version, line_no, raw_hash, raw, created_at FROM credit_records "
                    "WHERE item_code = 'tax.arrears' AND is_current ORDER BY id LIMIT 30")
        first = segments.refresh(store, min_rows=0)
        assert first["action"] == "rebuilt" and first["rows"] > 10_000
        top = _one(store, "SELECT max_id FROM record_segments")
        assert max(late_ids) < top           # the open transaction's ids are inside the copy's range
        late.commit()
    finally:
        late.close()
    st = segments.status(store)
    # The copy could not see the late records nor the late status change: they are re-read.
    assert st["segments"] == 1 and st["tail"] == 0 and st["overlay"] == len(late_ids) + 1
    assert changed in segments.read(store).overlay_ids
    assert same_records(store) > 1000


def test_every_kind_of_change_reads_back_and_the_scores_follow(store: str) -> None:
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"
    assert same_records(store) > 1000
    before = service.evaluate(store, ref="qujiang-park", as_of=AS_OF, engine="duckdb", actor="test")
    disputed = _one(store, "SELECT id FROM credit_records WHERE item_code = 'market.penalty' AND status = 'active' "
                           "ORDER BY id LIMIT 1")
    corrected = _one(store, "SELECT id FROM credit_records WHERE item_code = 'utility.arrears' AND is_current "
                            "ORDER BY id LIMIT 1")
    moved, texted = _one(store, "SELECT MIN(id), MIN(id) + 1 FROM credit_records WHERE item_code = 'market.complaint'")
    gone = _one(store, "SELECT MIN(r.id) FROM credit_records r JOIN evaluation_scores e "
                       f"ON e.subject_id = r.subject_id AND e.run_id = {before.run_id} "
                       "WHERE r.item_code = 'market.annual_report' AND r.is_current AND r.occurred_on > '2024-11-01' "
                       f"AND r.occurred_on <= '{AS_OF.isoformat()}' GROUP BY r.subject_id HAVING COUNT(*) = 1 "
                       "ORDER BY 1 LIMIT 1")
    _sql(store,
         f"UPDATE credit_records SET status = 'disputed' WHERE id = {disputed}",
         f"UPDATE credit_records SET is_current = false WHERE id = {corrected}",
         f"INSERT INTO credit_records ({COLS}) SELECT subject_id, item_code, occurred_on, decided_on, value * 3, "
         "grade, text, department_code, document_no, status, published_from, published_until, natural_key, "
         "version + 1, true, id, md5(content_hash || 'x'), source, batch_id, spec_version, line_no, raw_hash, raw, "
         f"created_at FROM credit_records WHERE id = {corrected}",
         f"DELETE FROM record_status_changes WHERE record_id = {gone}",
         f"DELETE FROM credit_records WHERE id = {gone}",
         f"UPDATE credit_records SET occurred_on = '2026-10-30' WHERE id = {moved}",
         f"UPDATE credit_records SET text = 'edited' WHERE id = {texted}")
    with pg_connect(store) as conn:
        logged = {r[0] for r in conn.execute("SELECT record_id FROM record_changes")}
    assert logged == {disputed, corrected, gone, moved}    # the text edit is not an evaluated column
    st = segments.status(store)
    assert st["overlay"] == 4 and st["tail"] == 1          # the correction's new version is past the copy
    assert same_records(store) > 1000
    after = service.evaluate(store, ref="qujiang-park", as_of=AS_OF, engine="duckdb", actor="test")
    inside = service.evaluate(store, ref="qujiang-park", as_of=AS_OF, engine="postgres", actor="test")
    with db.session_scope(store) as s:
        old = service.run_scores(s, before.run_id)
        a, b = service.run_scores(s, after.run_id), service.run_scores(s, inside.run_id)
    assert {k: (v.score, v.grade) for k, v in a.items()} == {k: (v.score, v.grade) for k, v in b.items()}
    assert any(old[k].score != a[k].score for k in a)      # the changes reached the scores

    # The tail becomes a segment; the log keeps only what some segment has not seen.
    again = segments.refresh(store, min_rows=0)
    assert again["action"] == "appended" and again["segments"] == 2 and again["rows"] == 1
    st = segments.status(store)
    # the first segment still lacks the four changes; the appended one saw its new row
    assert st["tail"] == 0 and st["overlay"] == 4
    assert same_records(store) > 1000
    # A rebuild sees every change: nothing is left in the log.
    assert segments.refresh(store, min_rows=0, rebuild=True)["action"] == "rebuilt"
    assert _one(store, "SELECT COUNT(*) FROM record_changes") == 0
    assert segments.status(store)["overlay"] == 0 and same_records(store) > 1000


def test_a_lost_file_and_a_secret_item_rebuild_the_copy_and_racers_leave_one(store: str) -> None:
    segments.refresh(store, min_rows=0)
    folder = segments.folder_for(store)
    (f,) = folder.glob("records-*.parquet")
    f.unlink()                                                       # lost
    assert segments.status(store)["segments"] == 0 and same_records(store) > 1000
    _sql(store, "UPDATE catalog_items SET data_class = 'secret' WHERE code = 'market.complaint'")
    race(store)
    with pg_connect(store) as conn:
        live = [folder / name for (name,) in conn.execute("SELECT file_name FROM record_segments")]
    assert len(live) == 1
    written = pq.read_table(live[0], columns=["item_code", "id"]).to_pylist()
    assert written == sorted(written, key=lambda r: (r["item_code"], r["id"]))   # by item: runs skip the rest
    items = {r["item_code"] for r in written}
    assert "market.complaint" not in items and "market.penalty" in items   # secret data never copied
    assert "market.complaint" not in set(segments.read(store).fresh.column("item_code").to_pylist())


def test_a_place_that_cannot_be_written_is_one_clear_error_and_changes_nothing(
        store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the place's parent should be")
    monkeypatch.setenv("CREDITGOV_SEGMENTS", str(blocker / "segments"))
    with pytest.raises(segments.SegmentError, match="writing a record segment into .*not-a-folder.* failed") as err:
        segments.refresh(store, min_rows=0)
    assert isinstance(err.value, CreditGovError)   # one line on the command line, not a traceback
    assert _one(store, "SELECT COUNT(*) FROM record_segments") == 0
    monkeypatch.setenv("CREDITGOV_SEGMENTS", str(tmp_path / "segments"))
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"


def test_a_refresh_leaves_the_overlay_query_an_index_to_use(store: str) -> None:
    """After a segment is committed, every block range of credit_records is summarized in
    the `written_xid` BRIN index and the planner's statistics are current, so finding
    the records a segment could not see need not read the whole table (an unsummarized
    range always matches, and stale statistics made PostgreSQL scan by primary key)."""
    _sql(store, "ANALYZE credit_records")  # the copy's statistics, then more records and no analysis
    _sql(store, f"INSERT INTO credit_records ({COLS}) SELECT subject_id, item_code, occurred_on, decided_on, "
                "value, grade, text, department_code, document_no || '-more', status, published_from, "
                "published_until, md5(natural_key || 'more'), 1, true, NULL, content_hash, source, batch_id, "
                "spec_version, line_no, raw_hash, raw, created_at FROM credit_records")
    analysed = _one(store, "SELECT coalesce(last_analyze, 'epoch') FROM pg_stat_user_tables "
                           "WHERE relid = 'credit_records'::regclass")
    first = segments.refresh(store, min_rows=0)
    assert first["action"] == "rebuilt"
    # Nothing is left to summarize, and the statistics were taken after the insert.
    assert _one(store, "SELECT brin_summarize_new_values('ix_credit_records_written_xid'::regclass)") == 0
    assert _one(store, "SELECT last_analyze FROM pg_stat_user_tables WHERE relid = 'credit_records'::regclass") \
        > analysed
    # The copy still reads back as the store.
    same_records(store)
