"""The loan book as credit records, through the one ingestion path.

The catalogue has two items for loans — `finance.loan` (贷款信息, restricted) and
`finance.overdue` (贷款逾期, negative) — supplied by the finance department with the
borrower's authorisation. Records are written only by ingestion (records/), so the
platform's own loan book becomes records the same way a bank's file does: `export`
writes an ingestion folder (a manifest, the two shipped source specs of
`data/specs/`, and two UTF-8 CSV files), and `creditgov ingest DIR` loads it with
lineage, quarantine and natural keys — a loan exported twice is a duplicate, an
overdue loan whose outstanding principal changed is a correction. The finance
department's data requests for the two items must be approved, as for any source.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.finance.models import Bank, Loan
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

SPECS = ("finance_book_loans", "finance_book_overdue")
LOAN_COLUMNS = ["借款人统一社会信用代码", "借款人名称", "贷款编号", "贷款机构", "放款日期", "贷款金额(元)"]
OVERDUE_COLUMNS = ["统一社会信用代码", "借款人名称", "逾期编号", "贷款机构", "逾期日期", "逾期本金余额(元)", "报送日期"]


def loan_number(loan: Loan, bank: Bank) -> str:
    return f"XYD-{bank.code}-{loan.id:08d}"


def export(session: Session, out: Path, *, actor: str) -> dict[str, Any]:
    """Write the ingestion folder for the loan book as of today."""
    (out / "specs").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    for name in SPECS:
        text = resources.files("creditgov.finance").joinpath(f"data/specs/{name}.yaml").read_text("utf-8")
        (out / "specs" / f"{name}.yaml").write_text(text, encoding="utf-8")
    (out / "manifest.yaml").write_text(yaml.safe_dump({"county": "信易贷 loan book", "specs": ["specs/*.yaml"],
                                                       "data_dir": "data"}, allow_unicode=True), encoding="utf-8")
    rows = session.execute(select(Loan, Bank, Subject).join(Bank, Bank.id == Loan.bank_id)
                           .join(Subject, Subject.id == Loan.subject_id).order_by(Loan.id)).tuples().all()
    today = clock.today()
    n_loans = n_overdue = 0
    with (out / "data" / "finance_book_loans.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LOAN_COLUMNS)
        for loan, bank, subject in rows:
            if subject.uscc is None:  # residents are out of this source: it names firms by credit code
                continue
            w.writerow([subject.uscc, subject.name, loan_number(loan, bank), bank.name, loan.granted_on.isoformat(),
                        f"{loan.principal:.2f}"])
            n_loans += 1
    with (out / "data" / "finance_book_overdue.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(OVERDUE_COLUMNS)
        for loan, bank, subject in rows:
            if subject.uscc is None or loan.status not in ("overdue", "default") or loan.overdue_since is None:
                continue
            w.writerow([subject.uscc, subject.name, loan_number(loan, bank) + "-OD", bank.name,
                        loan.overdue_since.isoformat(), f"{loan.outstanding:.2f}", today.isoformat()])
            n_overdue += 1
    audit.append(session, action="finance.book.export", actor=actor,
                 detail={"loans": n_loans, "overdue": n_overdue, "folder": out.name})
    return {"loans": n_loans, "overdue": n_overdue, "folder": str(out)}
