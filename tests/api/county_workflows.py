"""The mini county's objection and credit-repair cases, for the API matrix and the pages:
one objection against subject 1's general market penalty, decided (upheld) by the market
department so the record is back in force, and one repair application for its serious
penalty, refused at the counter (obligations and commitment missing) — each with one
evidence file. Both cases are past every stage a matrix call could move, so the matrix
calls each decision endpoint as every role without changing them (the service answers
422), and the records keep the status the other tests expect."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from creditgov.core import db
from creditgov.records.models import CreditRecord
from creditgov.workflows import flows
from creditgov.workflows.objection import file_objection
from creditgov.workflows.repair import apply_repair

EVIDENCE = "缴款凭证（测试用证据材料）\n".encode()
EVIDENCE_SHA256 = hashlib.sha256(EVIDENCE).hexdigest()
GENERAL_PENALTY = "长市监罚〔2025〕1号"  # subject 1, market.penalty (general)
SERIOUS_PENALTY = "长市监罚〔2024〕9号"  # subject 1, market.penalty_serious


@dataclass(frozen=True)
class Seeded:
    objection_id: int
    repair_id: int
    repair_record_id: int
    material_sha256: str


def files_dir(key_file: Path) -> Path:
    """Where materials are kept in this test session: every county of the session and
    the servers started from it share the folder (it is content-addressed), and a
    PostgreSQL store never writes beside the working directory."""
    return Path(os.environ.setdefault("CREDITGOV_FILES_DIR", str(key_file.parent / "files")))


def seed(url: str, key_file: Path) -> Seeded:
    files = files_dir(key_file)
    evidence = key_file.parent / "payment-receipt.txt"
    evidence.write_bytes(EVIDENCE)
    with db.session_scope(url) as s:
        recs = {r.document_no: r.id for r in s.execute(select(CreditRecord).where(
            CreditRecord.subject_id == 1, CreditRecord.is_current.is_(True))).scalars()}
        o = file_objection(s, subject_id=1, record_ids=[recs[GENERAL_PENALTY]], channel="window",
                           reason="罚没金额与决定书不符（测试）", evidence=[evidence], files_dir=files,
                           actor="test")[0]
        flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason="经核对决定书，记录无误（测试）",
                               department="market", actor="test")
        a = apply_repair(s, subject_id=1, record_id=recs[SERIOUS_PENALTY], applicant="法定代表人",
                         materials_files=[evidence], files_dir=files, actor="test")
        assert a.status == "refused", a.refusal_reason
        return Seeded(o.id, a.id, recs[SERIOUS_PENALTY], EVIDENCE_SHA256)
