"""Manual entry with four eyes (issue 19), on a real store (SQLite and PostgreSQL): an
officer enters a record, or registers a person the files do not have, with a reason and
evidence; it counts only once a second person approves it, and then it went through the
ingestion pipeline — a batch, a spec version, `ingest trace` — like any file's row. The
proposer cannot approve; what the pipeline refuses is refused; ID numbers stay
encrypted; the commands answer with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from stdnum.cn import ric

from creditgov.catalog.models import DataRequest
from creditgov.core.db import session_scope
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.ingest import manual, service
from creditgov.ingest.models import Batch, ManualEntry
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject

FIRM = "91330522MA2B00010N"
PERSON = (lambda b: b + ric.calc_check_digit(b + "0"))("11011219740506003")  # area code newer than the birth
HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 \U0001f468\u200d\U0001f469\u200d\U0001f467'


def _record(**extra: str) -> dict[str, str | None]:
    return {"identifier": FIRM, "name": "长兴织造有限公司", "item": "market.penalty", "occurred_on": "2026年5月3日",
            "decided_on": "2026-05-10", "value": "2,000", "text": HOSTILE, "document_no": "长市监罚〔2026〕99号",
            **extra}


def test_an_entry_counts_after_a_second_person_approves(store: str, keyring: KeyRing, mini: Path,
                                                        tmp_path: Path) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    ev = tmp_path / "处罚决定书.pdf"
    ev.write_bytes(b"%PDF-1.4 evidence " + HOSTILE.encode())
    files = tmp_path / "files"
    with session_scope(store) as s:
        e = manual.propose(s, keyring, kind="record", department="market", fields=_record(), reason=HOSTILE,
                           evidence=[ev], files_dir=files, actor="officer-a")
        eid = e.id
        assert FIRM not in e.payload and e.status == "proposed"
        # The same entry again while it waits (a retry, a form sent twice) is the first one;
        # another person's, other evidence or another field make a new one.
        again, new = manual.propose_once(s, keyring, kind="record", department="market", fields=_record(),
                                         reason=HOSTILE, evidence=[ev], files_dir=files, actor="officer-a")
        assert (again.id, new) == (eid, False)
        others = [manual.propose_once(s, keyring, kind="record", department="market", fields=f, reason=HOSTILE,
                                      evidence=v, files_dir=files, actor=who)
                  for f, v, who in ((_record(), [ev], "officer-c"), (_record(), [], "officer-a"),
                                    (_record(value="2,001"), [ev], "officer-a"))]
        assert [new for _e, new in others] == [True, True, True] and len({o.id for o, _n in others} | {eid}) == 4
        for o, _n in others:
            manual.decide(s, keyring, o.id, approve=False, note="重复", actor="officer-b")
        assert s.execute(select(CreditRecord).where(CreditRecord.document_no == "长市监罚〔2026〕99号")).first() is None
        with pytest.raises(Conflict, match="second person"):
            manual.decide(s, keyring, eid, approve=True, actor="officer-a")
    stored = files / e.evidence[0]["stored_as"]
    assert stored.read_bytes() == ev.read_bytes() and oct(stored.stat().st_mode & 0o777) == "0o600"
    with session_scope(store) as s:
        e = manual.decide(s, keyring, eid, approve=True, note="核对无误", actor="officer-b")
        rec = s.get(CreditRecord, e.record_id)
        assert rec is not None and rec.item_code == "market.penalty" and rec.text == HOSTILE
        assert str(rec.value) == "2000.00" and rec.occurred_on.isoformat() == "2026-05-03"
        assert rec.source == "manual_market" and s.get(Batch, e.batch_id).kind == "manual"  # type: ignore[union-attr]  # the batch exists: asserted by the record
        with pytest.raises(Conflict, match="already approved"):
            manual.decide(s, keyring, eid, approve=False, note="x", actor="officer-c")
        tr = service.trace(s, keyring, rec.id, actor="test")
        assert tr.spec_version.name == "manual_market"
        assert audit.verify(s).ok


def test_a_person_registered_by_hand_then_a_record(store: str, keyring: KeyRing, mini: Path) -> None:
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        reg = manual.propose(s, keyring, kind="registration", department="civility",
                             fields={"identifier": PERSON, "kind": "individual", "name": HOSTILE,
                                     "region": "CX-S01-G01-M01"},
                             reason="外来务工人员，户籍系统尚未同步", actor="grid-a")
        assert PERSON not in json.dumps(manual.entry_dict(keyring, reg))  # masked when shown
        manual.decide(s, keyring, reg.id, approve=True, actor="office-b")
        person = s.get(Subject, reg.subject_id)
        assert person is not None and person.name == HOSTILE and keyring.decrypt(person.resident_id) == PERSON
        rec = manual.propose(s, keyring, kind="record", department="civility",
                             fields={"identifier": PERSON, "item": "civility.volunteer", "occurred_on": "2026-06-01",
                                     "text": "社区志愿服务"}, reason="志愿服务登记表", actor="grid-a")
        manual.decide(s, keyring, rec.id, approve=True, actor="office-b")
        assert s.get(CreditRecord, rec.record_id).subject_id == person.id  # type: ignore[union-attr]  # approved above


def test_what_the_pipeline_refuses_is_refused(store: str, keyring: KeyRing, mini: Path) -> None:
    """What ingestion would refuse is refused when entered (tests/ingest/test_manual_checks.py
    has each check); what changed between entry and approval is refused at approval, and
    the entry stays proposed, to be rejected with a note."""
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        with pytest.raises(InvalidInput, match="checksum"):
            manual.propose(s, keyring, kind="record", department="market",
                           fields=_record(identifier=FIRM[:17] + "0"), reason="x", actor="a")
        with pytest.raises(InvalidInput, match="needs a reason"):
            manual.propose(s, keyring, kind="record", department="market", fields=_record(), reason=" ", actor="a")
        with pytest.raises(InvalidInput, match="not approved from department 'police'") as refused:
            manual.propose(s, keyring, kind="record", department="police",
                           fields={"identifier": "330522199005120021", "item": "police.traffic_violation",
                                   "occurred_on": "2026-05-01"}, reason="x", actor="a")
        assert refused.value.code == "ingest.manual.invalid"
        assert s.execute(select(ManualEntry)).first() is None
        eid = manual.propose(s, keyring, kind="record", department="market", fields=_record(), reason="x",
                             actor="a").id
        # the department's request for the item is withdrawn before the second person decides
        s.execute(update(DataRequest).where(DataRequest.item_code == "market.penalty",
                                            DataRequest.department_code == "market").values(status="rejected"))
    with pytest.raises(InvalidInput, match="not approved from department 'market'") as at_approval, \
            session_scope(store) as s:
        manual.decide(s, keyring, eid, approve=True, actor="b")
    assert at_approval.value.code == "ingest.manual.refused"
    with session_scope(store) as s:
        assert s.get(ManualEntry, eid).status == "proposed"  # type: ignore[union-attr]  # created above
        with pytest.raises(InvalidInput, match="needs a reason"):
            manual.decide(s, keyring, eid, approve=False, actor="b")
        assert manual.decide(s, keyring, eid, approve=False, note="数据申请已驳回", actor="b").status == "rejected"


def test_the_commands_with_json(cli, store: str, keyring: KeyRing, mini: Path, monkeypatch) -> None:
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(keyring.path))
    monkeypatch.setenv("CREDITGOV_FILES_DIR", str(mini / "files"))
    service.ingest_paths(store, keyring, [mini], actor="test")
    args = ["--db", store, "entry", "propose", "--department", "market", "--reason", HOSTILE, "--json"]
    for k, v in _record().items():
        args += ["--field", f"{k}={v}"]
    res = cli(*args, "--actor", "officer-a")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "proposed" and out["reason"] == HOSTILE
    with pytest.raises(Conflict):
        cli("--db", store, "entry", "approve", str(out["id"]), "--actor", "officer-a")
    res = cli("--db", store, "entry", "approve", str(out["id"]), "--actor", "officer-b", "--json")
    assert res.exit_code == 0, res.output
    done = json.loads(res.stdout)
    assert done["status"] == "approved" and done["record_id"]
    listed = json.loads(cli("--db", store, "entry", "list", "--json").stdout)
    assert [e["id"] for e in listed] == [out["id"]]
    res = cli("--db", store, "ingest", "trace", str(done["record_id"]), "--json")
    assert res.exit_code == 0 and "manual_market" in res.stdout


def test_through_the_api_a_department_enters_its_own_and_the_office_approves(store: str, mini: Path,
                                                                            tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from creditgov.api.app import create_app
    from creditgov.security import users
    from creditgov.security.crypto import create_key_file

    key = tmp_path / "api.key"
    ring = create_key_file(key)
    service.ingest_paths(store, ring, [mini], actor="test")
    with session_scope(store) as s:
        tok = {}
        for name, role, dep in (("market", "department_officer", "market"), ("office", "credit_office", None)):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dep, actor="test")
            tok[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(store, key), base_url="https://testserver")
    body = {"department": "market", "fields": {k: v for k, v in _record().items() if v}, "reason": HOSTILE}
    assert c.post("/api/v1/manual-entries", json={**body, "department": "court"}, headers=tok["market"]).status_code == 404
    r = c.post("/api/v1/manual-entries", json=body, headers=tok["market"])
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    retried = c.post("/api/v1/manual-entries", json=body, headers=tok["market"])
    assert (retried.status_code, retried.json()["id"]) == (200, eid)  # the waiting entry, not a second
    assert c.post(f"/api/v1/manual-entries/{eid}/decision", json={"approve": True}, headers=tok["market"]).status_code == 403
    r = c.post(f"/api/v1/manual-entries/{eid}/decision", json={"approve": True, "note": HOSTILE}, headers=tok["office"])
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["record_id"], r.text
    assert [e["id"] for e in c.get("/api/v1/manual-entries", headers=tok["market"]).json()] == [eid]
