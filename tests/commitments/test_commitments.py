"""Credit commitments: signing, verification, and the one record an outcome leaves —
visible in the credit file, in force for evaluation, and a ground for the
key-attention list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.commitments import service as commitments
from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.lists import criteria as lists
from creditgov.lists import queries as list_queries
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.security.models import AuditEntry
from creditgov.subjects import service as subjects
from tests.concurrency import at_once
from tests.lists.helpers import make_subject


def _negatives(url: str, subject_id: int) -> list[CreditRecord]:
    with db.session_scope(url) as s:
        return list(s.execute(select(CreditRecord).where(CreditRecord.subject_id == subject_id,
                                                         CreditRecord.item_code == "commitment.breach")).scalars())


def test_breach_creates_exactly_one_negative_record(county: str, keyring: KeyRing,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-01")
    with db.session_scope(county) as s:
        firm = make_subject(s)
        c = commitments.sign(s, subject_id=firm.id, template_code="tolerated-missing-documents",
                             signed_by="张三(法定代表人)", scenario="administrative-approval", check_id="CK-1")
        assert c.due_on == dt.date(2026, 10, 31) and "2026-10-31" in c.text and "30日内" in c.text
        fid, cid, uscc = firm.id, c.id, str(firm.uscc)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-03")
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="verified by 'market', not 'tax'"):
            commitments.verify(s, commitment_id=cid, outcome="breached", department="tax", note="x")
        with pytest.raises(InvalidInput, match="needs a note"):
            commitments.verify(s, commitment_id=cid, outcome="breached", department="market")
        assert [x.id for x in commitments.listing(s, overdue=True)] == [cid]
        c, rec = commitments.verify(s, commitment_id=cid, outcome="breached", department="market",
                                    note="逾期未补齐容缺材料", actor="market:chen")
        assert c.status == "breached" and c.record_id == rec.id and c.verified_on == dt.date(2026, 11, 3)
    with db.session_scope(county) as s:
        # verifying again, either way, is refused; recording the outcome again adds nothing
        for outcome in ("breached", "fulfilled"):
            with pytest.raises(InvalidInput, match="already verified"):
                commitments.verify(s, commitment_id=cid, outcome=outcome, department="market", note="again")
        again = commitments.record_outcome(s, commitment=commitments.get(s, cid), outcome="breached", note="x")
        assert again.id == rec.id
    (neg,) = _negatives(county, fid)
    assert neg.id == rec.id
    assert (neg.status, neg.is_current, neg.source, neg.batch_id, neg.department_code) == (
        "active", True, "commitments", None, "market")
    assert neg.published_from == dt.date(2026, 11, 3) and neg.published_until == dt.date(2027, 11, 3)
    assert json.loads(neg.raw or "{}")["commitment"] == cid and neg.document_no == f"CMT-{cid}"
    with db.session_scope(county) as s:
        n = s.execute(select(func.count()).select_from(CreditRecord).where(CreditRecord.subject_id == fid))
        assert n.scalar_one() == 1
        # visible in the credit file, with its provenance
        f = subjects.credit_file(s, keyring, uscc).as_dict()
        (shown,) = f["records"]
        assert (shown["item"], shown["polarity"], shown["severity"]) == ("commitment.breach", "negative", "general")
        assert shown["in_publication_period"] and shown["provenance"]["source"] == "commitments"
        assert shown["text"] == "逾期未补齐容缺材料"
        actions = list(s.execute(select(AuditEntry.action).where(AuditEntry.subject_id == fid)
                                 .order_by(AuditEntry.id)).scalars())
        assert actions == ["commitment.sign", "commitment.breached"]
        assert audit.verify(s).ok
        # the breach is a ground for the key-attention list: criteria propose it
        res = lists.run_criteria(s, list_code="key-attention")
        assert res.as_dict()["by_criterion"] == {"key-attention/commitment-breach": 1}
        (entry,) = list_queries.entries(s, subject_id=fid)
        assert entry.record_id == rec.id and entry.status == "proposed"


def test_fulfilment_creates_a_positive_record_and_counts_as_signed(county_sqlite: str) -> None:
    with db.session_scope(county_sqlite) as s:
        firm = make_subject(s)
        assert not commitments.has_signed(s, subject_id=firm.id, type="credit-repair")
        c = commitments.sign(s, subject_id=firm.id, template_code="credit-repair")
        assert commitments.has_signed(s, subject_id=firm.id, type="credit-repair")
        c, rec = commitments.verify(s, commitment_id=c.id, outcome="fulfilled", department="credit")
        assert rec.item_code == "commitment.fulfilled" and rec.department_code == "credit"
        assert commitments.has_signed(s, subject_id=firm.id, type="credit-repair")
        assert [x.status for x in commitments.of_subject(s, firm.id)] == ["fulfilled"]


def test_templates_must_name_known_departments_and_items(county_sqlite: str, tmp_path: Path) -> None:
    text = commitments.read_templates().model_dump()
    bad = tmp_path / "t.yaml"
    import yaml

    text["templates"][0]["breach_item"] = "civility.honour"  # a positive item cannot record a breach
    bad.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match="must be a negative catalogue item"):
        commitments.load_templates(s, path=bad)
    text["templates"][0]["breach_item"] = "commitment.breach"
    text["templates"][0]["verifying_department"] = "no_such_office"
    bad.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match="unknown department 'no_such_office'"):
        commitments.load_templates(s, path=bad)


def test_two_officers_verifying_at_once_leave_one_outcome_and_one_record(county: str) -> None:
    """Both threads start their transaction together; the row lock (PostgreSQL) or the
    single writer (SQLite) lets one win, and the other sees the verdict and stops."""
    with db.session_scope(county) as s:
        firm = make_subject(s)
        cid, fid = commitments.sign(s, subject_id=firm.id, template_code="notification-commitment").id, firm.id
    verdicts = ("breached", "fulfilled")

    def officer(i: int) -> str:
        with db.session_scope(county) as s:
            commitments.verify(s, commitment_id=cid, outcome=verdicts[i], department="market",
                               note=f"by {verdicts[i]}")
        return verdicts[i]

    outcomes = ["refused" if isinstance(o, InvalidInput) else o
                for o in at_once(officer, 2, returning=(InvalidInput,), timeout=60)]
    assert len(outcomes) == 2 and outcomes.count("refused") == 1
    with db.session_scope(county) as s:
        c = commitments.get(s, cid)
        recs = list(s.execute(select(CreditRecord).where(CreditRecord.subject_id == fid)).scalars())
        assert len(recs) == 1 and recs[0].id == c.record_id and c.status in ("breached", "fulfilled")
        assert recs[0].item_code == ("commitment.breach" if c.status == "breached" else "commitment.fulfilled")
