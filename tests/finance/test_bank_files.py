"""A bank's repayment and overdue files through the ingestion specs, on a real store
(SQLite and PostgreSQL): the rows land in the loan book through the finance service, a
refused row (unknown loan, another bank's loan, a negative amount, a bad date) waits in
the quarantine with its reason while the rest stand, the same file twice changes
nothing the second time, `ingest trace-row` replays a row, a retry hands rows over
again, and `creditgov finance repayments-load` runs the same path."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.finance import files, loans, service
from creditgov.finance.models import Loan, Repayment
from creditgov.finance.schemas import StatusIn
from creditgov.ingest import service as ingest
from creditgov.ingest.models import Batch, HandledRow, QuarantinedRow
from creditgov.security.crypto import KeyRing
from tests.finance.helpers import a_bank, a_loan, a_product, graded


def _loan(s, ring: KeyRing, bank, firm, product) -> Loan:
    return a_loan(s, ring, bank, firm, product)  # granted half a year ago


@pytest.fixture
def book(county: str, keyring: KeyRing) -> dict[str, int]:
    with db.session_scope(county) as s:
        a, b = a_bank(s), a_bank(s, code="bank-b", name="乙银行")
        firm1, firm2 = graded(s, [("merchant", "A"), ("enterprise", "A")])
        mine = _loan(s, keyring, a, firm1, a_product(s, a))
        theirs = _loan(s, keyring, b, firm2, a_product(s, b, code="p2"))
        return {"mine": mine.id, "theirs": theirs.id}


def _csv(path: Path, rows: list[str], header: str = "loan_id,ref,paid_on,amount") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_repayment_file_applies_good_rows_and_quarantines_bad_ones_once(
        county: str, keyring: KeyRing, book: dict[str, int], tmp_path: Path) -> None:
    mine, theirs = book["mine"], book["theirs"]
    f = _csv(tmp_path / "还款 2026-11.csv", [
        f"{mine},R-1,2026年10月30日,1000.00",
        "999999,R-2,2026-10-30,10.00",          # unknown loan
        f"{theirs},R-3,2026-10-30,10.00",       # another bank's loan
        f"{mine},R-4,2026-10-30,-5.00",         # negative amount
        f"{mine},R-5,2026-13-45,5.00",          # impossible date
        f"{mine},R-6,2026-10-31,2000",
    ])
    first = files.load_file(county, keyring, f, kind="repayments", bank_code="bank-a", actor="bank:bank-a")
    assert (first.counts.read, first.counts.accepted, first.counts.rejected) == (6, 2, 4)
    with db.session_scope(county) as s:
        loan = s.get(Loan, mine)
        assert loan is not None and loan.outstanding == Decimal("297000")
        assert s.get(Loan, theirs).outstanding == Decimal("300000")  # type: ignore[union-attr]
        q = {json.loads(r.raw)["ref"]: r.reason for r in s.execute(select(QuarantinedRow)).scalars()}
        assert set(q) == {"R-2", "R-3", "R-4", "R-5"}
        assert q["R-2"] == "loan 999999 not found" and q["R-3"] == f"loan {theirs} not found"
        assert "greater than 0" in q["R-4"] and "impossible date" in q["R-5"]
        reps = s.execute(select(Repayment).where(Repayment.loan_id == mine).order_by(Repayment.id)).scalars().all()
        assert [(r.ref, r.paid_on, r.amount) for r in reps] == [
            ("R-1", dt.date(2026, 10, 30), Decimal("1000.00")), ("R-6", dt.date(2026, 10, 31), Decimal("2000.00"))]
        batch_id = s.execute(select(func.max(Batch.id))).scalar_one()
        assert {r.source for r in reps} == {f"batch:{batch_id}"}

    again = files.load_file(county, keyring, f, kind="repayments", bank_code="bank-a", actor="bank:bank-a")
    assert (again.counts.accepted, again.counts.rejected, again.counts.duplicates) == (0, 0, 6)
    with db.session_scope(county) as s:
        assert s.get(Loan, mine).outstanding == Decimal("297000")  # type: ignore[union-attr]
        assert s.execute(select(func.count(Repayment.id))).scalar_one() == 2
        assert s.execute(select(func.count(QuarantinedRow.id))).scalar_one() == 4
        rep1 = s.execute(select(Repayment).where(Repayment.ref == "R-1")).scalar_one()
        row = s.execute(select(HandledRow).where(HandledRow.target == f"finance.repayment:{rep1.id}")).scalar_one()
        tr = ingest.trace_row(s, keyring, row.id)
        assert tr.raw["paid_on"] == "2026年10月30日" and tr.result is not None
        assert tr.result["paid_on"] == "2026-10-30" and tr.replay_matches
        assert tr.spec_version.name == "finance_repayments_bank_a" and tr.row.line_no == 2

    # A retry hands the quarantined rows over again: still refused, now tried twice.
    retried = ingest.retry(county, keyring, source="finance_repayments_bank_a")
    assert (retried.counts.read, retried.counts.rejected) == (4, 4)
    with db.session_scope(county) as s:
        assert {r.attempts for r in s.execute(select(QuarantinedRow)).scalars()} == {2}


def test_an_overdue_file_moves_the_loan_and_a_repeat_delivery_changes_nothing(
        county: str, keyring: KeyRing, book: dict[str, int], tmp_path: Path) -> None:
    mine = book["mine"]
    header = "loan_id,reported_on,overdue_days,outstanding"
    f = _csv(tmp_path / "overdue.csv", [f"{mine},2026-10-31,12,", f"{mine},2026/11/01,x,"], header)
    out = files.load_file(county, keyring, f, kind="overdue", bank_code="bank-a", actor="bank:bank-a")
    assert (out.counts.accepted, out.counts.rejected) == (1, 1)
    with db.session_scope(county) as s:
        loan = s.get(Loan, mine)
        assert loan is not None and (loan.status, loan.overdue_days) == ("overdue", 12)
        assert loan.overdue_since == dt.date(2026, 10, 19)
        assert "'x' is not a number of days" in s.execute(select(QuarantinedRow.reason)).scalar_one()
        # The bank then reports through the API that the loan is current again ...
        loans.report_status(s, bank=service.bank_by_code(s, "bank-a"), loan_id=mine, actor="api",
                            data=StatusIn(on=dt.date(2026, 11, 1), overdue_days=0))
    # ... and the old file delivered again does not turn the clock back.
    again = files.load_file(county, keyring, f, kind="overdue", bank_code="bank-a", actor="bank:bank-a")
    assert (again.counts.accepted, again.counts.duplicates) == (0, 2)
    with db.session_scope(county) as s:
        assert s.get(Loan, mine).status == "open"  # type: ignore[union-attr]


def test_repayments_load_is_the_spec_path_and_the_bank_folder_ingests(
        county: str, keyring: KeyRing, book: dict[str, int], tmp_path: Path, cli, monkeypatch) -> None:
    key = tmp_path / "test.key"
    monkeypatch.setenv("CREDITGOV_DB", county)
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    f = _csv(tmp_path / "r.csv", [f"{book['mine']},C-1,2026-10-30,500", f"{book['theirs']},C-2,2026-10-30,1"])
    res = cli("finance", "repayments-load", str(f), "--bank", "bank-a", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["rows"], out["added"], out["rejected"]) == (2, 1, 1)
    res = cli("finance", "repayments-load", str(f), "--bank", "bank-a", "--json")
    assert json.loads(res.output)["added"] == 0
    # The bank's own folder: its spec written once, its files dropped in, `ingest run`.
    folder = tmp_path / "bank-a-files"
    assert cli("finance", "bank-spec", "repayments", "--bank", "bank-a", "--out", str(folder)).exit_code == 0
    _csv(folder / "data" / "day1.csv", [f"{book['mine']},C-1,2026-10-30,500", f"{book['mine']},C-9,2026-10-31,1"])
    res = cli("ingest", "run", str(folder), "--json")
    assert res.exit_code == 0, res.output
    assert (json.loads(res.output)["accepted"], json.loads(res.output)["duplicates"]) == (1, 1)
    with db.session_scope(county) as s:
        assert s.get(Loan, book["mine"]).outstanding == Decimal("299499")  # type: ignore[union-attr]
