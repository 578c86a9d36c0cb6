"""A bank's repayment and overdue files, through the ingestion specs.

Banks report repayments and overdue status through the API, their page, or a file. A
file goes through ingestion like any department's: a source spec per bank and kind
(`bank_spec`, from the templates in `data/bank_files/`), read, transformed and checked
by ingest, each row handed to a handler registered here through the composition root
(`ingest.handled`), which applies it through `loans.repay` / `loans.report_status` —
the loan book's one writer, with the same rules as the API. A row the rules refuse (an
unknown loan, another bank's loan, a negative amount, a bad date) goes to the
quarantine with its reason and the rest stand; the same file again changes nothing
(ingestion keeps each applied row and hands it over once; a repayment's reference is
unique per loan anyway); `creditgov ingest trace-row` replays a row.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from creditgov.core.config import parse_yaml_model
from creditgov.core.errors import InvalidInput
from creditgov.finance import loans, service
from creditgov.finance.schemas import RepaymentIn, StatusIn
from creditgov.ingest import service as ingest
from creditgov.ingest.handled import Applied, RowIn
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.security.crypto import KeyRing

KINDS = ("repayments", "overdue")


def _template(kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidInput(f"unknown bank file kind {kind!r}; known: {', '.join(KINDS)}")
    text = resources.files("creditgov.finance").joinpath(f"data/bank_files/{kind}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def bank_spec(kind: str, bank_code: str) -> tuple[SourceSpec, str]:
    """The bank's own spec of `kind`: the template named after the bank, its code in
    `context`. The same bank and kind always give the same text (one spec version)."""
    doc = _template(kind)
    slug = re.sub(r"[^a-z0-9]+", "_", bank_code.lower()).strip("_") or "bank"
    doc["name"] = f"{doc['name']}_{slug}"
    doc["context"] = {"bank": bank_code}
    text = (f"# {doc['title']} — {bank_code} (creditgov finance bank-spec {kind} --bank {bank_code})\n"
            + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return parse_yaml_model(SourceSpec, text, f"bank spec {kind} {bank_code}"), text


def write_folder(out: Path, *, kind: str, bank_code: str) -> Path:
    """An ingestion folder for the bank: `specs/<its spec>.yaml` and an empty `data/`."""
    spec, text = bank_spec(kind, bank_code)
    (out / "specs").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    path = out / "specs" / f"{spec.name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_file(url: str, keyring: KeyRing, path: Path, *, kind: str, bank_code: str, actor: str
              ) -> ingest.RunSummary:
    """One bank file through the bank's spec (what `creditgov finance repayments-load`
    runs): the same path as `creditgov ingest run` on a folder holding it."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="bank-file-") as tmp:
        spec_path = write_folder(Path(tmp), kind=kind, bank_code=bank_code)
        shutil.copyfile(path, Path(tmp) / "data" / (path.stem + ".csv"))
        return ingest.ingest_paths(url, keyring, [spec_path], actor=actor)


# ----------------------------------------------------------------------------- handlers

def _loan_id(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        raise RowError(f"loan_id {v!r} is not a loan number") from None
    if n <= 0:
        raise RowError(f"loan_id {v!r} is not a loan number")
    return n


def _date(v: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise RowError(f"{name} {v!r} is not a date") from None


def _decimal(v: str, name: str) -> Decimal:
    try:
        return Decimal(v)
    except InvalidOperation:
        raise RowError(f"{name} {v!r} is not an amount") from None


def _refused(exc: ValidationError) -> RowError:
    e = exc.errors()[0]
    return RowError(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}")


def repayment_row(session: Session, row: RowIn) -> Applied:
    v = row.values
    bank = service.bank_by_code(session, row.context.get("bank"))
    loan_id = _loan_id(v["loan_id"])
    try:
        data = RepaymentIn(ref=v["ref"], paid_on=_date(v["paid_on"], "paid_on"), amount=_decimal(v["amount"], "amount"))
    except ValidationError as exc:
        raise _refused(exc) from None
    rep, created = loans.repay(session, bank=bank, loan_id=loan_id, data=data, source=f"batch:{row.batch_id}",
                               actor=row.actor)
    return Applied(f"finance.repayment:{rep.id}", known=not created)


def overdue_row(session: Session, row: RowIn) -> Applied:
    v = row.values
    bank = service.bank_by_code(session, row.context.get("bank"))
    loan_id = _loan_id(v["loan_id"])
    try:
        days = int(v["overdue_days"])
    except ValueError:
        raise RowError(f"overdue_days {v['overdue_days']!r} is not a number of days") from None
    try:
        data = StatusIn(on=_date(v["reported_on"], "reported_on"), overdue_days=days,
                        outstanding=_decimal(v["outstanding"], "outstanding") if v.get("outstanding") else None)
    except ValidationError as exc:
        raise _refused(exc) from None
    loan = loans.report_status(session, bank=bank, loan_id=loan_id, data=data, actor=row.actor)
    return Applied(f"finance.loan:{loan.id}:{data.on.isoformat()}")


# (name, handler) pairs for `ingest.handled.register_handler`, wired by the composition root.
REPAYMENTS = ("finance.repayments", repayment_row)
OVERDUE = ("finance.overdue", overdue_row)
