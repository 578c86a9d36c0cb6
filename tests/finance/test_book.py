"""The loan book becomes credit records through the ingestion path (SQLite and
PostgreSQL): exported loans are `finance.loan` records and an overdue loan a
`finance.overdue` record of its borrower; exported and ingested again, nothing is
added; an overdue amount that changed is a correction, not a second record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from creditgov.catalog import service as catalog_service
from creditgov.core import db
from creditgov.finance import book, loans, service
from creditgov.finance.schemas import StatusIn
from creditgov.ingest import service as ingest_service
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import create_key_file
from tests.alerts.helpers import write_yaml
from tests.finance.helpers import a_bank, a_loan, a_product, graded


def _records(url: str, subject_id: int) -> list[tuple[str, str, str]]:
    with db.session_scope(url) as s:
        q = (select(CreditRecord.item_code, CreditRecord.document_no, CreditRecord.value)
             .where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True))
             .order_by(CreditRecord.item_code))
        return [(i, d, f"{v:.2f}") for i, d, v in s.execute(q)]


def test_loans_and_overdue_become_records_through_ingestion(county: str, tmp_path: Path) -> None:
    ring = create_key_file(tmp_path / "f.key")
    with db.session_scope(county) as s:
        catalog_service.load_requests(s, actor="office", path=write_yaml(tmp_path / "requests.yaml", {"requests": [
            {"item": item, "department": "finance", "status": "approved", "requested_on": "2026-01-05",
             "decided_on": "2026-01-10"} for item in ("finance.loan", "finance.overdue")]}))
        bank = a_bank(s)
        firms = graded(s, [("enterprise", "B"), ("merchant", "A")])
        p = a_product(s, bank)
        ids = []
        for firm in firms:
            loan = a_loan(s, ring, bank, firm, p, amount="400000")  # granted 2026-05-01
            ids.append((firm.id, loan.id))
        loans.report_status(s, bank=bank, loan_id=ids[1][1], actor="officer",
                            data=StatusIn(on=dt.date(2026, 11, 1), overdue_days=40))
        out = book.export(s, tmp_path / "book", actor="office")
    assert (out["loans"], out["overdue"]) == (2, 1)
    first = ingest_service.ingest_paths(county, ring, [tmp_path / "book"], actor="test").as_dict()
    assert first["accepted"] == 3 and first["rejected"] == 0, first
    (good, _), (late, late_loan) = ids
    assert [r[0] for r in _records(county, good)] == ["finance.loan"]
    assert _records(county, late) == [("finance.loan", f"XYD-bank-a-{late_loan:08d}", "400000.00"),
                                      ("finance.overdue", f"XYD-bank-a-{late_loan:08d}-OD", "400000.00")]
    with db.session_scope(county) as s:
        od = s.execute(select(CreditRecord.occurred_on).where(CreditRecord.item_code == "finance.overdue")).scalar()
        assert od == dt.date(2026, 9, 22)
        book.export(s, tmp_path / "book", actor="office")
    again = ingest_service.ingest_paths(county, ring, [tmp_path / "book"], actor="test").as_dict()
    assert again["accepted"] == 0 and again["duplicates"] == 3, again
    # The bank reports less outstanding: the overdue record is corrected in place.
    with db.session_scope(county) as s:
        loans.report_status(s, bank=service.bank_by_code(s, "bank-a"), loan_id=late_loan, actor="officer",
                            data=StatusIn(on=dt.date(2026, 11, 1), overdue_days=40, outstanding=Decimal("250000")))
        book.export(s, tmp_path / "book", actor="office")
    third = ingest_service.ingest_paths(county, ring, [tmp_path / "book"], actor="test").as_dict()
    assert third["corrected"] == 1, third
    assert _records(county, late)[1][2] == "250000.00"
