"""Ingestion on a real store (SQLite and PostgreSQL): counts, idempotence, quarantine,
retry after a spec fix, corrections as new versions, and trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.core.db import session_scope
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.ingest import service
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject, SubjectLink


def _count(url: str, col) -> int:
    with session_scope(url) as s:
        return s.execute(select(func.count(col))).scalar_one()


def test_first_ingest_accepts_clean_rows_and_quarantines_dirt(store, keyring, mini) -> None:
    r = service.ingest_paths(store, keyring, [mini], actor="test")
    c = r.counts
    assert (c.read, c.accepted, c.rejected, c.duplicates, c.filtered) == (26, 17, 7, 1, 1)
    assert r.setup["data_requests"] == {"requested": 6, "approved": 5, "rejected": 1}
    with session_scope(store) as s:
        reasons = sorted(q.reason for q in s.execute(select(QuarantinedRow)).scalars())
        assert any("invalid unified social credit code" in x and "checksum" in x for x in reasons)
        assert any("unknown code '责令整改'" in x for x in reasons)
        assert any("not approved from department 'police'" in x for x in reasons)
        assert any("unknown region code 'CX-S09-G09-M09'" in x for x in reasons)
        assert any("impossible date" in x for x in reasons)
        assert any("malformed JSON line" in x for x in reasons)
        assert any("subject not registered" in x for x in reasons)
        # the full-width credit code was normalised and matched its subject
        merchant = s.execute(select(Subject).where(Subject.name == "长兴老王面馆")).scalar_one()
        assert s.execute(select(func.count(CreditRecord.id)).where(
            CreditRecord.subject_id == merchant.id)).scalar_one() == 1
        # a volunteer unknown to the household roll became a provisional subject
        prov = s.execute(select(Subject).where(Subject.status == "provisional")).scalars().all()
        assert [p.name for p in prov] == ["赵新人"]
        assert s.execute(select(func.count(SubjectLink.id))).scalar_one() == 4
        # amounts in 万元 were scaled, full-width digits read
        serious = s.execute(select(CreditRecord).where(CreditRecord.item_code == "market.penalty_serious")).scalar_one()
        assert str(serious.value) == "200000.00"
        assert serious.published_until.isoformat() == "2027-01-20"  # decided 2024-01-20 + 36 months
        assert audit.verify(s).ok


def test_second_ingest_adds_nothing(store, keyring, mini) -> None:
    """The same files again add no record and no subject; the rows refused the first time
    are checked again and refused again, each quarantined in the new batch with its
    reason (its earlier entry marked as sent again), never counted as duplicates."""
    first = service.ingest_paths(store, keyring, [mini], actor="test").counts
    records, subjects, quarantined = (_count(store, CreditRecord.id), _count(store, Subject.id),
                                      _count(store, QuarantinedRow.id))
    again = service.ingest_paths(store, keyring, [mini], actor="test").counts
    assert again.accepted == 0 and again.corrected == 0 and again.rejected == first.rejected == 7
    assert again.duplicates == again.read - again.filtered - again.rejected
    assert (_count(store, CreditRecord.id), _count(store, Subject.id), _count(store, QuarantinedRow.id)) == (
        records, subjects, quarantined + 7)
    with session_scope(store) as s:
        status = dict(s.execute(select(QuarantinedRow.status, func.count()).group_by(QuarantinedRow.status)).all())
    assert status == {"open": 7, "resent": 7}


def test_overlapping_file_deduplicates_by_document_number(store, keyring, mini) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    data = mini / "data"
    text = (data / "market_penalties_2025.csv").read_bytes().decode("gb18030").splitlines()
    # a second department export repeating two rows, one with a different date form
    extra = [text[0], text[1], text[2].replace("2025-06-10", "2025年6月10日")]
    (data / "market_penalties_2025_supplement.csv").write_bytes(("\n".join(extra) + "\n").encode("gb18030"))
    c = service.ingest_paths(store, keyring, [mini / "specs" / "market_penalties.yaml"], actor="test").counts
    assert c.accepted == 0 and c.duplicates >= 2


def test_correction_adds_a_new_version(store, keyring, mini) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    data = mini / "data"
    lines = (data / "market_penalties_2025.csv").read_bytes().decode("gb18030").splitlines()
    corrected = [lines[0], lines[1].replace(",1.5,", ",2,")]
    (data / "market_penalties_2025_fix.csv").write_bytes(("\n".join(corrected) + "\n").encode("gb18030"))
    c = service.ingest_paths(store, keyring, [mini / "specs" / "market_penalties.yaml"], actor="test").counts
    assert c.corrected == 1
    with session_scope(store) as s:
        versions = s.execute(select(CreditRecord).where(CreditRecord.document_no == "长市监罚〔2025〕1号")
                             .order_by(CreditRecord.version)).scalars().all()
        assert [(v.version, v.is_current, str(v.value)) for v in versions] == [
            (1, False, "15000.00"), (2, True, "20000.00")]
        assert versions[1].supersedes_id == versions[0].id


def test_retry_after_a_spec_fix_resolves_the_row(store, keyring, mini) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    spec = mini / "specs" / "market_penalties.yaml"
    spec.write_text(spec.read_text("utf-8").replace("罚款: market.penalty,", "罚款: market.penalty, 责令整改: market.penalty_minor,")
                    .replace('version: "1"', 'version: "2"'), "utf-8")
    r = service.retry(store, keyring, spec_path=spec, actor="test")
    assert r.counts.accepted == 1
    assert r.counts.rejected == 3  # bad code, unknown subject, impossible date stay
    with session_scope(store) as s:
        rows = s.execute(select(QuarantinedRow).where(QuarantinedRow.source == "market_penalties")).scalars().all()
        resolved = [q for q in rows if q.status == "resolved"]
        assert len(resolved) == 1 and "责令整改" in resolved[0].reason
        assert all(q.attempts == 2 for q in rows if q.status == "open")
        rec = s.execute(select(CreditRecord).where(CreditRecord.document_no == "长市监罚〔2025〕4号")).scalar_one()
        assert rec.item_code == "market.penalty_minor" and rec.spec_version == "2"
    # retrying again finds nothing new to accept
    again = service.retry(store, keyring, source="market_penalties", actor="test")
    assert again.counts.accepted == 0


def test_trace_replays_every_step(store, keyring, mini) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        rec = s.execute(select(CreditRecord).where(CreditRecord.document_no == "长市监罚〔2025〕2号")).scalar_one()
        tr = service.trace(s, keyring, rec.id)
        assert tr.replay_matches
        assert tr.spec_version.name == "market_penalties"
        assert tr.raw["处罚日期"] == "2025-06-10"
        halfwidth = [st for st in tr.steps if st.step == "halfwidth" and st.field == "uscc"]
        assert halfwidth and halfwidth[0].before != halfwidth[0].after  # the full-width code was fixed
        assert tr.result["item"] == "market.penalty_minor"
        assert tr.result["occurred_on"] == rec.occurred_on.isoformat()


def test_personal_raw_rows_are_encrypted_at_rest(store, keyring, mini) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        person = s.execute(select(Subject).where(Subject.name == "李秀英")).scalar_one()
        assert person.resident_id and "330522199005120021" not in person.resident_id
        assert keyring.decrypt(person.resident_id) == "330522199005120021"
        assert person.resident_id_masked == "330***********0021"
        vol = s.execute(select(CreditRecord).where(CreditRecord.item_code == "civility.volunteer")).scalars().all()
        assert vol and all("3305" not in (r.raw or "") for r in vol)
        q = s.execute(select(QuarantinedRow).where(QuarantinedRow.source == "police_traffic")).scalar_one()
        assert "3305" not in q.raw
        assert service.quarantine_raw(keyring, q)["姓名"] == "王建国"


def test_bad_paths_and_specs_fail_with_one_line(store, keyring, mini, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        service.ingest_paths(store, keyring, [tmp_path / "nope"])
    spec = mini / "specs" / "market_links.yaml"
    spec.write_text(spec.read_text("utf-8").replace("format: csv", "format: xls"), "utf-8")
    with pytest.raises(ConfigError, match=r"market_links.yaml:6: format: "):
        service.ingest_paths(store, keyring, [mini])
    assert _count(store, Batch.id) == 0  # nothing started


def test_an_id_number_whose_place_names_no_county_is_quarantined(store: str, keyring: KeyRing,
                                                                  mini: Path) -> None:
    """110001 is Beijing followed by digits that name no county in python-stdnum's table
    (stdnum itself raises KeyError there): the row is quarantined with that reason and
    the rest of the file goes in."""
    data = mini / "data" / "grid_households.jsonl"
    lines = data.read_text("utf-8").splitlines()
    bad = '{"身份证号": "110001200001010007", "姓名": "钱多多", "微网格": "CX-S01-G01-M01", "户人数": 1}'
    data.write_text("\n".join([lines[0], bad, *lines[1:]]) + "\n", "utf-8")
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        batch = s.execute(select(Batch).where(Batch.source == "grid_households")).scalar_one()
        assert (batch.read, batch.accepted, batch.rejected) == (5, 3, 2)  # and the malformed JSON line
        reasons = {q.line_no: q.reason for q in s.execute(
            select(QuarantinedRow).where(QuarantinedRow.source == "grid_households")).scalars()}
        assert reasons.keys() == {2, 5}
        assert reasons[2] == ("invalid resident ID number '110***********0007': "
                              "birth place code 110001 is not a known county (column '身份证号', field resident_id)")
        assert not any("110001200001010007" in r for r in reasons.values())  # never in the clear
        assert reasons[5].startswith("malformed JSON line")
        names = set(s.execute(select(Subject.name).where(Subject.kind == "individual")).scalars())
        assert {"王建国", "李秀英", "张伟"} <= names and "钱多多" not in names
