"""PostgreSQL: a source's first file streams its records through one COPY kept open
across chunks (ingest/pg_copy.py `RecordStream`). The file's transaction stays one
unit: a failure, a rollback or a kill while the stream is open leaves nothing of the
file, and the connection is usable afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session
from tests import big_files, store_template

from creditgov.core import clock
from creditgov.core.db import References, bulk_insert, session_scope
from creditgov.core.errors import IntegrityError
from creditgov.ingest import pg_copy
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.ingest.service import ingest_paths
from creditgov.ingest.writer import VAR_COLUMNS
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing, create_key_file

ROWS = 120_000
# A broken stream hangs rather than fails (psycopg waits on its own lock): fail instead.
pytestmark = pytest.mark.timeout(240)
def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    """Running (a zombie that nobody has reaped yet has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def pg_store(pg_url: str) -> str:
    return store_template.fill(pg_url)


@pytest.fixture
def mini_store(pg_store: str, mini: Path, keyring: KeyRing) -> str:
    """The small county ingested: subjects and spec versions to hang records on."""
    ingest_paths(pg_store, keyring, [mini], actor="test")
    return pg_store


class Like:
    """A stored penalty record's batch, subject, item and department, for new rows like it."""

    def __init__(self, s: Session) -> None:
        r = s.execute(select(CreditRecord).where(CreditRecord.source == "market_penalties")).scalars().first()
        assert r is not None
        self.subject_id, self.item, self.department, self.spec = r.subject_id, r.item_code, r.department_code, \
            r.spec_version
        b = Batch(source="market_penalties", spec_version_id=s.get(Batch, r.batch_id).spec_version_id,
                  file_name="f.csv", file_hash=None, kind="file", started_at=clock.now(), actor="test")
        s.add(b)
        s.flush()
        self.batch_id = b.id


def _row(n: int, like: Like) -> tuple[object, ...]:
    values = {"subject_id": like.subject_id, "item_code": like.item, "occurred_on": "2024-05-01",
              "decided_on": "2024-05-10", "value": None, "grade": None, "text": None, "document_no": f"d{n}",
              "published_from": None, "published_until": None, "natural_key": f"{n:032x}",
              "content_hash": f"{n:032x}", "line_no": n, "raw_hash": f"{n:032x}", "raw": "{}"}
    return tuple(values[c] for c in VAR_COLUMNS)


def _constants(like: Like) -> dict[str, object]:
    return {"department_code": like.department, "status": "active", "version": 1, "is_current": 1,
            "supersedes_id": None, "source": "market_penalties", "batch_id": like.batch_id, "spec_version": like.spec,
            "created_at": clock.now().strftime("%Y-%m-%d %H:%M:%S.%f")}


def _count(s: Session, batch_id: int) -> int:
    return s.execute(select(func.count(CreditRecord.id)).where(CreditRecord.batch_id == batch_id)).scalar_one()


def test_a_statement_ends_the_stream_and_sees_its_rows(mini_store: str) -> None:
    with session_scope(mini_store) as s:
        like = Like(s)
        bid = like.batch_id
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like))
        stream.write([_row(n, like) for n in range(3000)])
        assert stream.open
        # Any SQLAlchemy statement on the connection ends the COPY first (psycopg would
        # otherwise wait on its own lock), and then sees every row sent.
        assert (_count(s, bid), stream.open) == (3000, False)
        stream.write([_row(n, like) for n in range(3000, 3500)])  # a new COPY, the same transaction
        stream.end()
    with session_scope(mini_store) as s:
        assert _count(s, bid) == 3500


def test_a_raw_copy_on_a_streaming_connection_is_refused_not_left_waiting(mini_store: str) -> None:
    with session_scope(mini_store) as s:
        like = Like(s)
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like))
        stream.write([_row(n, like) for n in range(10)])
        with pytest.raises(RuntimeError, match="middle of a COPY"):
            bulk_insert(s, cast(Table, CreditRecord.__table__), VAR_COLUMNS, [_row(10, like)], stored_form=True,
                        constants=_constants(like))
        with pytest.raises(RuntimeError, match="middle of a COPY"):
            pg_copy.current_records(s, ["x"])
        stream.end()
        assert _count(s, like.batch_id) == 10


def test_a_long_stream_is_cut_into_copies_of_bounded_length(mini_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_copy, "STREAM_ROWS", 2000)
    with session_scope(mini_store) as s:
        like = Like(s)
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like))
        stream.write([_row(n, like) for n in range(1500)])
        assert stream.open
        stream.write([_row(n, like) for n in range(1500, 2600)])
        assert not stream.open  # 2,600 rows sent: that COPY ended, its rows are in
        stream.write([_row(n, like) for n in range(2600, 2700)])
        assert stream.open
        stream.end()
        assert _count(s, like.batch_id) == 2700


def test_a_rollback_while_streaming_leaves_nothing_and_the_connection_works(mini_store: str) -> None:
    with session_scope(mini_store) as s:
        batches = s.execute(select(func.count(Batch.id))).scalar_one()
    with pytest.raises(RuntimeError, match="cut short"), session_scope(mini_store) as s:
        like = Like(s)
        bid = like.batch_id
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like))
        stream.write([_row(n, like) for n in range(5000)])
        raise RuntimeError("cut short")
    assert not stream.open
    for _ in range(3):  # every pooled connection answers (none is left inside a COPY)
        with session_scope(mini_store) as s:
            assert _count(s, bid) == 0
            assert s.execute(select(func.count(Batch.id))).scalar_one() == batches


def test_a_row_the_server_refuses_fails_the_file_loudly(mini_store: str) -> None:
    with pytest.raises(psycopg.Error, match="value too long"), session_scope(mini_store) as s:
        like = Like(s)
        bid = like.batch_id
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like))
        bad = list(_row(1, like))
        bad[VAR_COLUMNS.index("natural_key")] = "k" * 40  # wider than the column
        stream.write([_row(0, like), tuple(bad)])
        stream.end()
    with session_scope(mini_store) as s:
        assert _count(s, bid) == 0


def test_a_batch_streamed_without_row_checks_checks_its_keys_before_commit(mini_store: str) -> None:
    """With `references` the COPYs skip PostgreSQL's per-row foreign-key checks; the
    batch then checks every key its rows name at once (core.db.lock_references, every
    foreign key the metadata declares), and a
    key that names nothing fails the whole file."""
    with session_scope(mini_store) as s:
        like = Like(s)
        bid = like.batch_id
        refs = References(cast(Table, CreditRecord.__table__), VAR_COLUMNS, _constants(like))
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like), references=refs)
        stream.write([_row(n, like) for n in range(3000)])
        stream.end()
        # The rest of the transaction has its triggers again.
        assert s.connection().exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
        assert refs.named == {"subject_id": {like.subject_id}, "item_code": {like.item},
                              "department_code": {like.department}, "batch_id": {bid}}
        refs.check(s)
    with session_scope(mini_store) as s:
        assert _count(s, bid) == 3000
    with pytest.raises(IntegrityError, match=r"subjects\.id = 99999999 does not exist"), \
            session_scope(mini_store) as s:
        like = Like(s)
        bid = like.batch_id
        refs = References(cast(Table, CreditRecord.__table__), VAR_COLUMNS, _constants(like))
        stream = pg_copy.RecordStream(s, VAR_COLUMNS, _constants(like), references=refs)
        bad = list(_row(10_001, like))
        bad[VAR_COLUMNS.index("subject_id")] = 99_999_999
        stream.write([_row(10_000, like), tuple(bad)])
        stream.end()  # no per-row check refused it
        assert _count(s, bid) == 2
        refs.check(s)
    with session_scope(mini_store) as s:
        assert _count(s, bid) == 0


def test_a_first_file_with_rejections_streams_and_keeps_every_rejected_row(
        pg_store: str, mini: Path, tmp_path: Path) -> None:
    """12,000 rows, every other one with a wrong check digit: the good ones stream, the
    rejected ones wait for the stream's end or for 5,000 of them (this file has 6,000,
    so the stream is ended once midway for them), and every one is kept with its reason."""
    # A first file on PostgreSQL writes through the stream (the rows below would pass
    # the same way without it; that it is used is what this pins).
    streams: list[int] = []
    real_write = pg_copy.RecordStream.write

    def counting_write(self: pg_copy.RecordStream, rows: Sequence[Sequence[object]]) -> None:
        streams.append(len(rows))
        bulk.add(self.references is not None)
        real_write(self, rows)
    bulk: set[bool] = set()
    # Every batch's foreign-key values are checked once at its end, the matching path's
    # (the source's later file below) as well as the stream's.
    checked: dict[int, dict[str, set[object]]] = {}
    real_check = References.check

    def noting_check(self: References, session: Session) -> None:
        batch = next(iter(self.named["batch_id"]))
        checked[cast(int, batch)] = {k: set(v) for k, v in self.named.items()}
        real_check(self, session)
    big_files.penalties(mini / "data" / "market_penalties_0big.csv", 12_000, bad_every=2)
    ring = create_key_file(tmp_path / "k.key")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pg_copy.RecordStream, "write", counting_write)
        mp.setattr(References, "check", noting_check)
        ingest_paths(pg_store, ring, [mini], actor="test")
    rejected = len(range(0, 12_000, 2))
    assert sum(streams) >= 12_000 - rejected
    assert bulk == {True}  # keys checked once for the batch (the tests' role may)
    with session_scope(pg_store) as s:
        b = s.execute(select(Batch).where(Batch.file_name == "market_penalties_0big.csv")).scalar_one()
        assert (b.read, b.accepted, b.rejected, b.duplicates) == (12_000, 12_000 - rejected, rejected, 0)
        stored = s.execute(select(func.count(CreditRecord.id)).where(CreditRecord.batch_id == b.id)).scalar_one()
        assert stored == b.accepted
        q = s.execute(select(QuarantinedRow.reason).where(QuarantinedRow.batch_id == b.id)).scalars().all()
        assert len(q) == rejected and all(q)
        # The source's next file is matched against what the stream stored: of its three
        # good rows, 长市监罚〔2024〕9号 of the first firm is the big file's row 9 with
        # other content, a correction; the other two are new.
        small = s.execute(select(Batch).where(Batch.file_name == "market_penalties_2025.csv")).scalar_one()
        assert (small.accepted, small.corrected) == (2, 1)
        # Its three inserts (the matching path: no stream) named their subjects, item,
        # department and batch, and those were checked once for the batch.
        named = checked[small.id]
        stored = s.execute(select(CreditRecord.subject_id, CreditRecord.item_code, CreditRecord.department_code)
                           .where(CreditRecord.batch_id == small.id)).all()
        assert len(stored) == 3
        assert named["subject_id"] == {r[0] for r in stored} and named["item_code"] == {r[1] for r in stored}
        assert named["department_code"] == {r[2] for r in stored} and named["batch_id"] == {small.id}
        assert b.id in checked


def test_kill_minus_nine_while_streaming_leaves_nothing_half_done(pg_store: str, mini: Path, tmp_path: Path,
                                                                  keyring: KeyRing) -> None:
    # The big file sorts first, so it is the source's first file: its records stream.
    big_files.penalties(mini / "data" / "market_penalties_0big.csv", ROWS)
    key_file = tmp_path / "test.key"
    env = {**os.environ, "CREDITGOV_DB": pg_store, "CREDITGOV_KEY_FILE": str(key_file),
           "CREDITGOV_TODAY": "2026-11-01"}
    create_key_file(key_file)
    proc = subprocess.Popen([sys.executable, "-m", "creditgov.cli", "ingest", str(mini), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    eng = sa.create_engine(pg_store)
    try:
        deadline = time.monotonic() + 180
        seen = 0
        # Wait until the open COPY has taken 20,000 rows (PostgreSQL's progress view), then kill.
        while time.monotonic() < deadline and proc.poll() is None and seen < 20_000:
            with eng.connect() as c:
                seen = c.execute(sa.text("SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy "
                                         "WHERE relid = 'credit_records'::regclass")).scalar_one()
            time.sleep(0.02)
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"the run ended (exit {proc.returncode}) before it could be killed: {err[-2000:]}")
        helpers = _children(proc.pid)
        assert helpers, "a file this big is prepared by a helper process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # The helper leaves with its writer: it holds copies of the writer's sockets, and
        # while it lives PostgreSQL keeps the dead run's transaction and locks.
        gone = time.monotonic() + 10
        while time.monotonic() < gone and any(_alive(p) for p in helpers):
            time.sleep(0.05)
        assert not [p for p in helpers if _alive(p)]
    finally:
        eng.dispose()
    big_files.assert_nothing_half_done(pg_store, "market_penalties_0big.csv")
    done = subprocess.run([sys.executable, "-m", "creditgov.cli", "ingest", str(mini), "--json"], env=env,
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()
    with session_scope(pg_store) as s:
        total = s.execute(select(func.count(CreditRecord.id)).where(
            CreditRecord.source == "market_penalties")).scalar_one()
    assert total == ROWS + 3  # the big file plus the three good rows of the small one


def test_a_later_file_checks_its_keys_once_and_a_subject_gone_meanwhile_fails_it(
        mini_store: str, mini: Path, keyring: KeyRing) -> None:
    """A source's later file (the matching path) inserts with the per-row triggers off
    and back on after each insert, and checks its keys at the batch's end: a subject
    deleted by another transaction after the writer looked it up fails the whole file,
    nothing stored. (A subject is never deleted: here its trigger is turned off for the
    delete, as an owner could, to show the check does not take that for granted.)"""
    from stdnum.cn import uscc as stdnum_uscc

    from creditgov.ingest import service
    from creditgov.ingest.writer import BatchWriter, Lookups

    code = "91330522MA2C0077" + "1"
    code = code[:17] + stdnum_uscc.calc_check_digit(code[:17])
    with session_scope(mini_store) as s:
        s.execute(sa.text("INSERT INTO subjects (kind, name, uscc, attributes, status, created_at, updated_at) "
                          "VALUES ('enterprise', '临时企业', :c, '{}', 'confirmed', now(), now())"), {"c": code})
    spec, text = service.load_spec(mini / "specs" / "market_penalties.yaml")
    header = ["统一社会信用代码", "当事人", "处罚种类", "决定书文号", "违法日期", "处罚日期", "罚没金额(万元)", "违法事实"]
    row = [code, "临时企业", "罚款", "长市监罚〔2026〕77号", "2026-03-05", "2026-03-20", "1", "后删"]
    with pytest.raises(IntegrityError, match=r"subjects\.id = \d+ does not exist"), \
            session_scope(mini_store) as s:
        sv = service.register_spec(s, spec, text)
        batch = Batch(source=spec.name, spec_version_id=sv.id, file_name="later.csv", file_hash=None, kind="file",
                      started_at=clock.now(), actor="test")
        s.add(batch)
        s.flush()
        w = BatchWriter(s, Lookups.load(s, keyring), spec, batch)
        assert w.references is not None  # the tests' role may check keys once
        w.process(2, dict(zip(header, row, strict=True)))
        w.flush()
        assert w.stream is None  # the matching path, not the first file's stream
        assert s.connection().exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
        assert _count(s, batch.id) == 1  # inserted unchecked
        with sa.create_engine(mini_store, poolclass=sa.pool.NullPool).begin() as other:
            # (and on again: the check finds the subject gone without relying on a lock)
            other.execute(sa.text("ALTER TABLE subjects DISABLE TRIGGER subjects_keys_kept"))
            other.execute(sa.text("DELETE FROM subjects WHERE uscc = :c"), {"c": code})
            other.execute(sa.text("ALTER TABLE subjects ENABLE TRIGGER subjects_keys_kept"))
        w.finish()
    with session_scope(mini_store) as s:
        assert s.execute(select(func.count(Batch.id)).where(Batch.file_name == "later.csv")).scalar_one() == 0
        assert s.execute(select(func.count(CreditRecord.id))
                         .where(CreditRecord.document_no == "长市监罚〔2026〕77号")).scalar_one() == 0
