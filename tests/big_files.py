"""What the ingestion kill tests share: a big penalties file for the small county, and
the check that a run killed midway left nothing of it half done."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from creditgov.core.db import session_scope
from creditgov.ingest.models import Batch
from creditgov.records.models import CreditRecord

FIRMS = ["91330522MA2B00010N", "92330522MA2B00020L", "91330522MA2B00030Q"]


def penalties(path: Path, rows: int, *, bad_every: int = 0) -> None:
    """A penalties file of `rows` rows in the small county's format; with `bad_every`,
    every such row carries a credit code whose check digit is wrong (quarantined)."""
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "当事人", "处罚种类", "决定书文号", "违法日期", "处罚日期", "罚没金额(万元)", "违法事实"])
        for i in range(rows):
            firm = "91330522MA2B00010X" if bad_every and i % bad_every == 0 else FIRMS[i % 3]
            w.writerow([firm, "x", "罚款", f"长市监罚〔2024〕{i}号", "2024-05-01", "2024-05-10", "0.1", "批量"])


def assert_nothing_half_done(url: str, file_name: str) -> None:
    """No batch of the killed file, and no record whose batch is missing."""
    with session_scope(url) as s:
        assert s.execute(select(func.count(Batch.id)).where(Batch.file_name == file_name)).scalar_one() == 0
        orphans = s.execute(select(func.count(CreditRecord.id)).where(
            CreditRecord.batch_id.not_in(select(Batch.id)))).scalar_one()
        assert orphans == 0
