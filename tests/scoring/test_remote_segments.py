"""The record segments and the score copies in an object store (`CREDITGOV_SEGMENTS=
s3a://…`, the place a cluster's executors share): written, checked, read back, rebuilt
when damaged and collected through pyarrow's S3 filesystem, against a real S3 server
process (moto's, started here) — with the same answers as the store's own reads."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from creditgov.core import db
from creditgov.scoring import score_copies, segments, service
from tests import store_template
from tests.scoring.conftest import AS_OF
from tests.scoring.test_segments import same_records
from tests.spark_cluster import free_port

BUCKET = "creditgov-shared"
MODEL = "community-resident"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3 server on loopback with one empty bucket: its endpoint URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the S3 server did not start"
                time.sleep(0.2)
        pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", access_key="test",
                          secret_key="test", region="us-east-1", allow_bucket_creation=True).create_dir(BUCKET)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def store(county: str, tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private copy of the county whose segments are kept in the bucket."""
    for k, v in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                 "AWS_DEFAULT_REGION": "us-east-1", "CREDITGOV_SEGMENTS": f"s3a://{BUCKET}/counties"}.items():
        monkeypatch.setenv(k, v)
    return store_template.sqlite_copy_of(county, tmp_path / "creditgov.db")


def _names(place: segments.Place) -> set[str]:
    return {i.base_name for i in place.fs.get_file_info(pafs.FileSelector(place.path, allow_not_found=True))}


def test_segments_in_an_object_store_read_back_as_the_store(store: str) -> None:
    place = segments.place_for(store)
    assert place.local is None and place.url.startswith(f"s3a://{BUCKET}/counties/sqlite/creditgov.db-")
    first = segments.refresh(store, min_rows=0)
    assert first["action"] == "rebuilt" and first["rows"] > 10_000
    st = segments.status(store)
    assert st["segments"] == 1 and st["tail"] == 0 and st["folder"] == place.url and st["bytes"] > 0
    (seg,) = [n for n in _names(place) if n.startswith("records-")]
    assert place.rows(seg) == first["rows"]
    # Evaluation reads the bucket's files (a pyarrow dataset: DuckDB names no s3a:// file)
    # and gets the digits of the store's own SQL, subject by subject.
    assert same_records(store) > 1000
    remote = service.evaluate(store, ref=MODEL, as_of=AS_OF, engine="duckdb", actor="test")
    assert remote.timings["segment_rows"] == first["rows"]
    inside = service.evaluate(store, ref=MODEL, as_of=AS_OF, engine="sqlite", actor="test")
    with db.session_scope(store) as s:
        a, b = service.run_scores(s, remote.run_id), service.run_scores(s, inside.run_id)
    assert len(a) > 100 and {k: (v.score, v.grade) for k, v in a.items()} == {
        k: (v.score, v.grade) for k, v in b.items()}

    # A damaged file is not trusted (the store answers) and the refresh writes it anew,
    # keeping the old one, marked, for readers that may still hold it.
    with place.fs.open_input_stream(place.file(seg)) as f:
        whole = f.read()
    with place.fs.open_output_stream(place.file(seg)) as f:
        f.write(whole[: len(whole) // 2])
    assert segments.status(store)["segments"] == 0
    assert same_records(store) > 1000
    assert segments.refresh(store, min_rows=0)["action"] == "rebuilt"
    assert f"{seg}.retired" in _names(place) and segments.status(store)["segments"] == 1
    assert same_records(store) > 1000


def test_score_copies_in_an_object_store(store: str) -> None:
    from creditgov.analysis import service as analysis

    segments.refresh(store, min_rows=0)
    done = service.evaluate(store, ref=MODEL, as_of=AS_OF, engine="duckdb", publish=True, actor="test")
    assert "score_copy" in done.timings
    with db.session_scope(store) as s:  # the county's older published runs: this new place lacks their copies
        assert done.run_id not in score_copies.backfill(s, store)
    place = segments.place_for(store)
    written = pq.read_table(place.file(score_copies.name(done.run_id)), filesystem=place.fs)
    assert written.num_rows == done.subjects > 100

    def grades(engine: str) -> tuple[dict, dict]:
        with db.session_scope(store) as s:
            out = analysis.distribution(s, what="grade", by="street", model=MODEL, engine=engine)
        return out, out.pop("read")

    want, read = grades("store")
    assert read == {"engine": "store"} and want["total"] == done.subjects
    got, read = grades("duckdb")
    assert got == want and read["engine"] == "duckdb" and read["score_runs"] == 1
    # Rewritten from the store, the copy is the run's own; a stray copy and a crash's
    # leftover go once an hour old, the published run's copy stays.
    place.delete(score_copies.name(done.run_id))
    assert grades("duckdb")[1]["engine"] == "store"
    with db.session_scope(store) as s:
        assert score_copies.backfill(s, store) == [done.run_id]
    assert pq.read_table(place.file(score_copies.name(done.run_id)), filesystem=place.fs).equals(written)
    assert grades("duckdb") == (want, read)
    with place.fs.open_output_stream(place.file(score_copies.name(987654))) as f:
        f.write(b"stray")
    later = time.time() + segments.GRACE_SECONDS + 60
    with db.session_scope(store) as s:
        assert score_copies.prune(s, store) == []
        assert score_copies.prune(s, store, now=later) == [987654]
    assert score_copies.name(987654) not in _names(place) and score_copies.name(done.run_id) in _names(place)
