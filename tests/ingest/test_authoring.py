"""Authoring a source spec as a new data administrator would (issue 19): a column
holding credit codes and ID numbers alike, resident ID numbers valid under GB 11643
with an area code newer than the birth, spec versions that name one text, every
validation error shown, and where `ingest SPEC.yaml` looks for its files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from creditgov.core.db import session_scope
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.ingest import service
from creditgov.ingest.models import QuarantinedRow, SpecVersion
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing
from creditgov.subjects.identifiers import looks_like_uscc
from creditgov.subjects.models import Subject

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ingestion.md"


def _rid(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


# Tongzhou (110112) has its code since 1997; this person was born in 1974.
NEWER_AREA = _rid("11011219740506001")
BAD_CHECK = NEWER_AREA[:17] + ("1" if NEWER_AREA[17] != "1" else "2")
PERSON = _rid("33052219900512002")
NEW_FIRM = "91330522MA2B00099T"
HOSTILE = "<b>\"王'五\"</b> 𠀋" + "长" * 200

MIXED_SPEC = """\
name: court_mixed
version: "1"
department: court
kind: records
file: court_mixed.csv
format: csv
columns: {identifier: 证件号码, name: 被执行人, occurred_on: 立案日期, document_no: 案号}
item: court.dishonest_debtor
items: [court.dishonest_debtor]
natural_key: [document_no]
unknown_subject: provisional
steps:
  - {field: "*", op: trim}
  - {field: occurred_on, op: date}
"""


def _mixed_folder(mini: Path) -> Path:
    (mini / "specs" / "court_mixed.yaml").write_text(MIXED_SPEC, "utf-8")
    rows = ["证件号码,被执行人,立案日期,案号",
            "91330522MA2B00010N,长兴织造有限公司,2026-03-01,(2026)浙0522执1号",  # a registered firm
            f"{NEWER_AREA},{HOSTILE.replace(',', '，')},2026-03-02,(2026)浙0522执2号",  # a new person
            f"{PERSON},李四,2026-03-03,(2026)浙0522执3号",  # a registered person
            f"{NEW_FIRM},新公司,2026-03-04,(2026)浙0522执4号",  # a new firm
            f"{BAD_CHECK},错号,2026-03-05,(2026)浙0522执5号",
            "not-an-id,无名,2026-03-06,(2026)浙0522执6号"]
    (mini / "data" / "court_mixed.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return mini


def test_a_column_of_either_identifier_is_one_spec(store: str, keyring: KeyRing, mini: Path) -> None:
    assert looks_like_uscc(NEW_FIRM) and not looks_like_uscc(NEWER_AREA)
    _mixed_folder(mini)
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        recs = s.execute(select(CreditRecord).where(CreditRecord.source == "court_mixed")
                         .order_by(CreditRecord.document_no)).scalars().all()
        by_doc = {r.document_no: r for r in recs}
        firm = s.get(Subject, by_doc["(2026)浙0522执1号"].subject_id)
        assert firm is not None and firm.uscc == "91330522MA2B00010N" and firm.status != "provisional"
        person = s.get(Subject, by_doc["(2026)浙0522执2号"].subject_id)
        assert person is not None and person.kind == "individual" and person.uscc is None
        assert keyring.decrypt(person.resident_id) == NEWER_AREA and person.name == HOSTILE.replace(",", "，")
        kinds = {doc: (subj.kind, subj.status) for doc, r in by_doc.items() if (subj := s.get(Subject, r.subject_id))}
        assert kinds == {"(2026)浙0522执1号": ("enterprise", "confirmed"),
                         "(2026)浙0522执2号": ("individual", "provisional"),
                         "(2026)浙0522执3号": ("individual", "confirmed"),  # on the household roll
                         "(2026)浙0522执4号": ("enterprise", "provisional")}
        q = {r.line_no: r for r in s.execute(select(QuarantinedRow).where(QuarantinedRow.source == "court_mixed"))
             .scalars()}
        assert "checksum" in q[6].reason and BAD_CHECK not in q[6].reason  # masked, still refused
        assert "neither a credit code nor an ID number" in q[7].reason
        # the raw rows carry ID numbers: stored encrypted, on records and in the quarantine
        raws = [r.raw or "" for r in recs] + [r.raw for r in q.values()]
        assert raws and not any(NEWER_AREA in x or BAD_CHECK in x or "李四" in x for x in raws)
        rid = by_doc["(2026)浙0522执2号"].id
    with session_scope(store) as s:
        tr = service.trace(s, keyring, rid, actor="test")
        assert tr.spec_version.name == "court_mixed"


@pytest.mark.parametrize(("extra", "why"), [
    ("  uscc: 统一社会信用代码\n", "replaces `uscc` and `resident_id`"),
    ("subject_kind: individual\n", "cannot fix `subject_kind`"),
])
def test_identifier_refuses_what_would_be_ambiguous(tmp_path: Path, extra: str, why: str) -> None:
    text = MIXED_SPEC.replace("columns: {identifier: 证件号码, name: 被执行人, occurred_on: 立案日期, document_no: 案号}",
                              "columns:\n  identifier: 证件号码\n  occurred_on: 立案日期\n  document_no: 案号\n"
                              + (extra if extra.startswith("  ") else "")) + ("" if extra.startswith("  ") else extra)
    f = tmp_path / "s.yaml"
    f.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=why):
        service.load_spec(f)


def test_a_changed_spec_with_the_same_version_is_refused(store: str, keyring: KeyRing, mini: Path) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    spec = mini / "specs" / "market_penalties.yaml"
    text = spec.read_text("utf-8")
    spec.write_text(text.replace("  - {field: occurred_on, op: date}", "  - {field: occurred_on, op: date}\n"
                                 "  - {field: document_no, op: upper}", 1), "utf-8")
    assert spec.read_text("utf-8") != text
    with session_scope(store) as s:
        before = s.execute(select(func.count(SpecVersion.id))).scalar_one()
    with pytest.raises(InvalidInput, match=r"market_penalties version '1' is already registered with other "
                                           r"content .*a changed spec needs a new `version:`"):
        service.ingest_paths(store, keyring, [spec], actor="test")
    with session_scope(store) as s:
        assert s.execute(select(func.count(SpecVersion.id))).scalar_one() == before
    spec.write_text(spec.read_text("utf-8").replace('version: "1"', 'version: "2"'), "utf-8")
    service.ingest_paths(store, keyring, [spec], actor="test")
    with session_scope(store) as s:
        assert sorted(v for (v,) in s.execute(select(SpecVersion.version)
                                              .where(SpecVersion.name == "market_penalties"))) == ["1", "2"]
    # the same text again is the same version, not a conflict
    service.ingest_paths(store, keyring, [spec], actor="test")


def test_every_validation_error_is_shown(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(MIXED_SPEC.replace("format: csv", "format: xls").replace("natural_key:", "natral_key:")
                 .replace("department: court", "department: court\ncolour: red"), "utf-8")
    with pytest.raises(ConfigError) as info:
        service.load_spec(f)
    msg = str(info.value)
    assert "more)" not in msg
    lines = msg.splitlines()
    assert any(ln.startswith(f"{f}:7: format: ") for ln in lines), lines
    assert any(": colour: Extra inputs are not permitted" in ln for ln in lines), lines
    assert any(": natral_key: Extra inputs are not permitted" in ln for ln in lines), lines
    assert len(lines) == 3


def test_where_a_spec_file_looks_for_its_data(store: str, keyring: KeyRing, mini: Path, tmp_path: Path) -> None:
    """specs/x.yaml reads ../data; a spec anywhere else reads its own folder; a record of
    an unknown subject is quarantined when the spec says nothing — as docs/ingestion.md says."""
    text = DOCS.read_text("utf-8")
    assert "`county/specs/x.yaml` → `county/data/`" in text and "`work/x.yaml` → `work/`" in text
    assert "quarantined by default" in text and "`identifier`" in text
    _mixed_folder(mini)
    plans, _ = service.plan([mini / "specs" / "court_mixed.yaml"])
    assert plans[0].files == [mini / "data" / "court_mixed.csv"]
    loose = tmp_path / "work"
    loose.mkdir()
    (loose / "court_mixed.yaml").write_text(MIXED_SPEC.replace("unknown_subject: provisional\n", ""), "utf-8")
    with pytest.raises(InvalidInput, match=f"no file matches 'court_mixed.csv' in {loose}"):
        service.plan([loose / "court_mixed.yaml"])
    (loose / "court_mixed.csv").write_bytes((mini / "data" / "court_mixed.csv").read_bytes())
    assert service.plan([loose / "court_mixed.yaml"])[0][0].files == [loose / "court_mixed.csv"]
    (mini / "specs" / "court_mixed.yaml").unlink()
    service.ingest_paths(store, keyring, [mini], actor="test")  # registrations, requests
    r = service.ingest_paths(store, keyring, [loose / "court_mixed.yaml"], actor="test")
    assert r.counts.accepted == 2  # the registered firm and person; the other two are unknown
    with session_scope(store) as s:
        reasons = [q.reason for q in s.execute(select(QuarantinedRow).where(QuarantinedRow.source == "court_mixed"))
                   .scalars()]
        assert sum("subject not registered" in x for x in reasons) == 2, reasons
        assert s.execute(select(func.count(Subject.id)).where(Subject.status == "provisional")).scalar_one() == 1
