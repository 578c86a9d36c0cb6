"""The credit file view and its audit of reads, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from creditgov.core.db import session_scope
from creditgov.core.errors import NotFound
from creditgov.ingest import service as ingest
from creditgov.records import service as records
from creditgov.security import service as audit
from creditgov.subjects import service


def test_credit_file_by_every_key(store, keyring, mini) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        by_code = service.credit_file(s, keyring, "91330522MA2B00010N", actor="officer").as_dict()
        assert by_code["name"] == "长兴绿源纺织有限公司"
        assert [r["level"] for r in by_code["region"]] == ["county", "street", "grid", "micro_grid"]
        assert {ln["role"] for ln in by_code["links"]} == {"legal_representative", "employee"}
        assert all("*" in ln["name"] for ln in by_code["links"])  # residents' names masked
        assert len(by_code["records"]) == 2
        assert all(r["provenance"]["batch"] and r["provenance"]["line"] for r in by_code["records"])
        assert service.credit_file(s, keyring, str(by_code["id"])).subject.id == by_code["id"]
        assert service.credit_file(s, keyring, "长兴绿源纺织有限公司").subject.id == by_code["id"]
        person = service.credit_file(s, keyring, "330522199005120021", actor="officer", purpose="approval")
        assert person.subject.name == "李秀英"
        assert person.as_dict()["resident_id"] == "330***********0021"
        with pytest.raises(NotFound):
            service.credit_file(s, keyring, "91330522MA2B00770L")
        # an ID number nobody has: the refusal (API body, command line, log) masks it
        with pytest.raises(NotFound) as nobody:
            service.credit_file(s, keyring, " 11010519491231002x ")
        assert str(nobody.value) == "no subject matches '110***********002X'"
        for typo in ("110105194912310021", "110105 19491231 0021", "11010519491231002Y"[:-1] + "9", "110105491231002"):
            with pytest.raises(NotFound) as nobody:
                service.credit_file(s, keyring, typo)
            assert "491231" not in str(nobody.value) and "***" in str(nobody.value), str(nobody.value)
        # two residents of one name: the refusal masks the name, as every view does
        service.insert_subject(s, keyring, kind="individual", name="李秀英", uscc=None,
                               resident_id="11010519491231002X", status="active", source="test", batch_id=None,
                               now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
        with pytest.raises(NotFound) as two:
            service.credit_file(s, keyring, "李秀英")
        assert "李秀英" not in str(two.value) and two.value.params == {"name": service.mask_name("李秀英")}


def test_reading_a_personal_file_is_audited(store, keyring, mini) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        f = service.credit_file(s, keyring, "330522199005120021", actor="grid-worker-7", purpose="patrol")
        sid = f.subject.id
    with session_scope(store) as s:
        reads = [e for e in audit.entries_for_subject(s, sid) if e.action == "subject.read"]
        assert [(e.actor, e.purpose) for e in reads] == [("grid-worker-7", "patrol")]
        again = service.credit_file(s, keyring, str(sid), actor="x", purpose="y")
        assert again.readers[0]["actor"] == "x"


def test_status_changes_keep_history(store, keyring, mini) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        rec_id = service.credit_file(s, keyring, "91330522MA2B00010N").records[0]["id"]
        records.change_status(s, record_id=rec_id, to_status="disputed", reason="objection", actor="window")
        records.change_status(s, record_id=rec_id, to_status="active", reason="upheld", actor="market")
        with pytest.raises(Exception, match="cannot become"):
            records.change_status(s, record_id=rec_id, to_status="active", reason="again", actor="x")
    with session_scope(store) as s:
        rec = [r for r in service.credit_file(s, keyring, "91330522MA2B00010N").records if r["id"] == rec_id][0]
        assert [(h["from"], h["to"]) for h in rec["status_history"]] == [("active", "disputed"), ("disputed", "active")]
        assert audit.verify(s).ok
