"""Records matched against stored ones (pg_copy.py on PostgreSQL, queries on SQLite):
corrections, duplicates and new rows in one file, idempotent re-runs, and a batch that
fails after its corrections were written leaves the stored versions as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.core import clock
from creditgov.core.db import session_scope
from creditgov.ingest import service
from creditgov.ingest.models import Batch
from creditgov.ingest.writer import BatchWriter, Lookups
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing

HEADER = "统一社会信用代码,当事人,处罚种类,决定书文号,违法日期,处罚日期,罚没金额(万元),违法事实"


def _versions(url: str, document_no: str) -> list[tuple[int, bool, str]]:
    with session_scope(url) as s:
        rows = s.execute(select(CreditRecord).where(CreditRecord.document_no == document_no)
                         .order_by(CreditRecord.version)).scalars().all()
        return [(r.version, r.is_current, str(r.value)) for r in rows]


def _records(url: str) -> int:
    with session_scope(url) as s:
        return s.execute(select(func.count(CreditRecord.id))).scalar_one()


def test_corrections_duplicates_and_new_rows_in_one_file(store: str, keyring: KeyRing, mini: Path) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    before = _records(store)
    fix = [HEADER,
           "91330522MA2B00010N,长兴绿源纺织有限公司,罚款,长市监罚〔2025〕1号,2025年3月5日,2025/3/20,2,超标排放",
           "92330522MA2B00020L,长兴老王面馆,警告,长市监罚〔2025〕2号,20250601,2025-06-10,0.5,未亮照经营",
           "91330522MA2B00010N,长兴绿源纺织有限公司,吊销营业执照,长市监罚〔2024〕9号,2024.1.5,2024年1月20日,20,严重违法",
           "91330522MA2B00010N,长兴绿源纺织有限公司,罚款,长市监罚〔2025〕8号,2025-04-01,2025-04-02,3,<b>\"新\"</b>"]
    (mini / "data" / "market_penalties_2025_fix.csv").write_bytes(("\n".join(fix) + "\n").encode("gb18030"))
    spec = mini / "specs" / "market_penalties.yaml"
    c = service.ingest_paths(store, keyring, [spec], actor="test").counts
    assert (c.corrected, c.accepted) == (2, 1)
    assert _versions(store, "长市监罚〔2025〕1号") == [(1, False, "15000.00"), (2, True, "20000.00")]
    assert _versions(store, "长市监罚〔2025〕2号") == [(1, False, "0.00"), (2, True, "5000.00")]
    assert _versions(store, "长市监罚〔2024〕9号") == [(1, True, "200000.00")]
    assert _records(store) == before + 3
    with session_scope(store) as s:
        text = s.execute(select(CreditRecord.text).where(CreditRecord.document_no == "长市监罚〔2025〕8号")).scalar_one()
    assert text == '<b>"新"</b>'
    # The fix file again (alone: the first file would correct the records back): nothing
    # new, nothing corrected, nothing retired.
    (mini / "data" / "market_penalties_2025.csv").unlink()
    again = service.ingest_paths(store, keyring, [spec], actor="test").counts
    assert (again.accepted, again.corrected, again.rejected) == (0, 0, 0)
    assert _records(store) == before + 3
    assert _versions(store, "长市监罚〔2025〕1号") == [(1, False, "15000.00"), (2, True, "20000.00")]


def test_a_batch_failing_after_its_corrections_leaves_the_old_versions_current(
        store: str, keyring: KeyRing, mini: Path) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    before = _records(store)
    spec_path = mini / "specs" / "market_penalties.yaml"
    spec, text = service.load_spec(spec_path)
    columns = HEADER.split(",")
    row = "91330522MA2B00010N,长兴绿源纺织有限公司,罚款,长市监罚〔2025〕1号,2025年3月5日,2025/3/20,9,超标排放".split(",")
    with pytest.raises(RuntimeError, match="the process dies here"), session_scope(store) as s:
        sv = service.register_spec(s, spec, text)
        batch = Batch(source=spec.name, spec_version_id=sv.id, file_name="crash.csv", file_hash=None,
                      kind="file", started_at=clock.now(), actor="test")
        s.add(batch)
        s.flush()
        w = BatchWriter(s, Lookups.load(s, keyring), spec, batch)
        w.process(2, dict(zip(columns, row, strict=True)))
        w.flush()
        # Inside the batch the correction is written: the old version is no longer current.
        assert s.execute(select(CreditRecord.is_current).where(
            CreditRecord.document_no == "长市监罚〔2025〕1号", CreditRecord.version == 1)).scalar_one() is False
        assert w.counts.corrected == 1
        raise RuntimeError("the process dies here")
    assert _versions(store, "长市监罚〔2025〕1号") == [(1, True, "15000.00")]
    assert _records(store) == before
    # The next run does the correction once.
    (mini / "data" / "market_penalties_2025_fix.csv").write_bytes(
        ("\n".join([HEADER, ",".join(row)]) + "\n").encode("gb18030"))
    c = service.ingest_paths(store, keyring, [spec_path], actor="test").counts
    assert c.corrected == 1
    assert _versions(store, "长市监罚〔2025〕1号") == [(1, False, "15000.00"), (2, True, "90000.00")]
