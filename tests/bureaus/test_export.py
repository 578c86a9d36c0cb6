"""The bureau export on both databases: what goes (consent, or public by law) and what
never does; a revoked consent honoured by the very next run; runs numbered per bureau
without gaps, acknowledged, written again byte for byte; a write that fails leaves no
half file and is written before the next run; hostile text survives the file."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from creditgov.bureaus import service
from creditgov.bureaus.exporters import DeliveryError
from creditgov.bureaus.models import BureauRun, BureauRunSubject
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.security import users
from creditgov.security.models import AuditEntry
from tests.bureaus.conftest import HOSTILE, RESIDENT_ID, World
from tests.workflows.helpers import add_record

FOLDER = "pbc-crc"


def _export(w: World, **kw: Any) -> dict[str, Any]:
    return service.export(w.url, w.ring, bureau="pbc-crc", actor="test-operator", **kw)


def _lines(w: World, seq: int) -> list[dict[str, Any]]:
    raw = (w.out / FOLDER / f"pbc-crc-{seq:06d}.jsonl").read_text("utf-8")
    assert raw.endswith("\n") or raw == ""
    # Every reader's idea of a line break (str.splitlines knows NEL, U+2028, U+2029 …)
    # still finds one record per line.
    return [json.loads(line) for line in raw.splitlines()]


def _shared(rows: list[dict[str, Any]], w: World) -> set[tuple[str, str, str]]:
    by_name = {}
    with db.session_scope(w.url) as s:
        from creditgov.subjects.models import Subject

        for role, sid in w.ids.items():
            subj = s.get(Subject, sid)
            assert subj is not None
            by_name[subj.uscc or RESIDENT_ID] = role
    return {(by_name[r["uscc"] or r["resident_id"]], r["item"], r["basis"]) for r in rows}


def _audit(url: str, action: str) -> list[dict[str, Any]]:
    with db.session_scope(url) as s:
        return [json.loads(d) for d in s.execute(select(AuditEntry.detail).where(AuditEntry.action == action)
                                                  .order_by(AuditEntry.id)).scalars()]


def test_consent_and_the_law_decide_what_goes(world: World) -> None:
    w = world
    out = _export(w)
    assert (out["run"], out["status"], out["records"], out["subjects"]) == (1, "written", 6, 3)
    rows = _lines(w, 1)
    # Public by law needs no consent, given or not; the rest only with it.
    assert _shared(rows, w) == {
        ("consented", "market.penalty", "law"), ("consented", "social.arrears", "consent"),
        ("consented", "tax.credit_grade", "consent"), ("other", "market.penalty", "law"),
        ("person", "court.lawsuit", "consent"), ("person", "court.dishonest_debtor", "law")}
    # Never: restricted and secret classes, unmarked items; without consent nothing that
    # needs it, nothing unpublished (a warning, a publication that ended), nothing repaired.
    assert not {r["item"] for r in rows} & {"utility.arrears", "police.case", "market.inspection_problem",
                                            "market.penalty_minor", "environment.penalty", "safety.penalty"}
    assert [r["line"] for r in rows] == [str(n) for n in range(1, 7)]
    law = next(r for r in rows if r["basis"] == "law")
    assert law["term"] == "public-penalty" and law["consent_id"] is None
    mine = next(r for r in rows if r["item"] == "social.arrears")
    assert mine["consent_id"] == str(w.consent) and mine["consent_granted_on"] == "2026-11-01"
    assert mine["subject_name"] == HOSTILE and mine["text"] == HOSTILE  # JSON escaping keeps every character
    person = next(r for r in rows if r["item"] == "court.lawsuit")
    assert person["resident_id"] == RESIDENT_ID and person["uscc"] is None and person["subject_kind"] == "individual"

    data = w.out / FOLDER / "pbc-crc-000001.jsonl"
    manifest = json.loads((w.out / FOLDER / "pbc-crc-000001.manifest.json").read_text("utf-8"))
    assert manifest["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest() == out["sha256"]
    assert (manifest["records"], manifest["subjects"], manifest["run"], manifest["bytes"]) == (
        6, 3, 1, data.stat().st_size)
    assert manifest["format"] == "creditgov.bureau/1+jsonl" and manifest["bureau_name"] == "中国人民银行征信中心"
    assert set(manifest["terms"]) == {r["term"] for r in rows} == {"consent", "public-court", "public-penalty"}
    assert manifest["terms"]["public-penalty"]["consent_required"] is False
    assert "征信业管理条例" in manifest["terms"]["public-penalty"]["citation"]
    assert stat.S_IMODE(data.stat().st_mode) == 0o600 and stat.S_IMODE(data.parent.stat().st_mode) == 0o700
    assert not list(data.parent.glob(".tmp-*"))

    (made,) = _audit(w.url, "bureau.export")
    assert made == {"bureau": "pbc-crc", "run": 1, "file": "pbc-crc-000001.jsonl", "records": 6, "subjects": 3,
                    "sha256": out["sha256"], "by_consent": 3, "by_law": 3}
    assert [a["run"] for a in _audit(w.url, "bureau.write")] == [1]
    with db.session_scope(w.url) as s:
        carried = {(x.subject_id, x.records, x.basis) for x in s.execute(select(BureauRunSubject)).scalars()}
        assert carried == {(w.ids["consented"], 3, "both"), (w.ids["other"], 1, "law"),
                           (w.ids["person"], 2, "both")}
        # The run keeps its bytes encrypted: identifiers are not readable in the store.
        stored = s.execute(select(BureauRun.content)).scalar_one()
        assert RESIDENT_ID not in stored and "market.penalty" not in stored


def test_a_revoked_consent_is_honoured_by_the_next_run(world: World) -> None:
    w = world
    _export(w)
    with db.session_scope(w.url) as s:  # the subject revokes on its own page: security's general path
        users.revoke_consent(s, consent_id=w.consent, subject_id=w.ids["consented"], actor="subject")
    out = _export(w)
    assert out["run"] == 2
    shared = _shared(_lines(w, 2), w)
    # Only what the law allows without consent is left of the firm; the others unchanged.
    assert {x for x in shared if x[0] == "consented"} == {("consented", "market.penalty", "law")}
    assert ("other", "market.penalty", "law") in shared and ("person", "court.lawsuit", "consent") in shared
    with db.session_scope(w.url) as s:
        run2 = s.execute(select(BureauRun.id).where(BureauRun.seq == 2)).scalar_one()
        basis = s.execute(select(BureauRunSubject.basis).where(BureauRunSubject.run_id == run2,
                                                               BureauRunSubject.subject_id == w.ids["consented"])
                          ).scalar_one()
        assert basis == "law"
        # Only a bureau consent is a bureau's to revoke here; a bank's is not.
        bank = users.grant_consent(s, subject_id=w.ids["other"], organisation="bank-a", purpose="loan", actor="t")
        with pytest.raises(NotFound):
            service.revoke_consent(s, consent_id=bank.id, actor="t")
        with pytest.raises(InvalidInput):
            service.grant_consent(s, subject_id=w.ids["other"], bureau="no-such-bureau", actor="t")


def test_runs_are_numbered_acknowledged_and_written_again_the_same(world: World) -> None:
    w = world
    first, second = _export(w), _export(w)
    assert (first["run"], second["run"]) == (1, 2)
    f1 = w.out / FOLDER / "pbc-crc-000001.jsonl"
    before = f1.read_bytes()
    # New data after run 1 changes the next run, never run 1.
    with db.session_scope(w.url) as s:
        from creditgov.subjects.models import Subject

        firm = s.get(Subject, w.ids["other"])
        assert firm is not None
        add_record(s, firm, "tax.arrears", published=dt.date(2026, 10, 1))
    f1.unlink()
    (w.out / FOLDER / "pbc-crc-000001.manifest.json").write_text("tampered", "utf-8")
    again = _export(w, run=1)
    assert again["run"] == 1 and again["writes"] == 2 and f1.read_bytes() == before
    assert json.loads((w.out / FOLDER / "pbc-crc-000001.manifest.json").read_text("utf-8"))["sha256"] == \
        hashlib.sha256(before).hexdigest()
    assert [(a["run"], a["again"]) for a in _audit(w.url, "bureau.write")] == [(1, False), (2, False), (1, True)]
    third = _export(w)
    assert third["run"] == 3 and third["records"] == second["records"] + 1
    with pytest.raises(NotFound):
        _export(w, run=9)

    with db.session_scope(w.url) as s:
        r = service.acknowledge(s, bureau="pbc-crc", seq=2, ref="回执 " + HOSTILE, actor="operator")
        assert (r.status, r.ack_ref, r.acked_by) == ("acknowledged", "回执 " + HOSTILE, "operator")
    with db.session_scope(w.url) as s:  # twice: nothing changes, nothing is written
        assert service.acknowledge(s, bureau="pbc-crc", seq=2, actor="other").acked_by == "operator"
        with pytest.raises(NotFound):
            service.acknowledge(s, bureau="pbc-crc", seq=7, actor="x")
    assert [a["run"] for a in _audit(w.url, "bureau.ack")] == [2]
    with db.session_scope(w.url) as s:
        assert [(r.seq, r.status) for r in service.runs(s, bureau="pbc-crc")] == [
            (3, "written"), (2, "acknowledged"), (1, "written")]


def test_a_failed_write_leaves_no_half_file_and_goes_first_next_time(world: World) -> None:
    w = world
    folder = w.out / FOLDER
    folder.mkdir(parents=True)
    blocker = folder / "pbc-crc-000001.jsonl"
    blocker.mkdir()  # something in the way of the rename: the write fails midway
    with pytest.raises(DeliveryError):
        _export(w)
    assert blocker.is_dir() and not list(folder.glob(".tmp-*")) and not list(folder.glob("*.manifest.json"))
    with db.session_scope(w.url) as s:
        (run,) = s.execute(select(BureauRun)).scalars()
        assert (run.seq, run.status, run.writes) == (1, "pending", 0) and "not written" in (run.last_error or "")
        with pytest.raises(Conflict):  # a run not written cannot be acknowledged
            service.acknowledge(s, bureau="pbc-crc", seq=1, actor="x")
    with pytest.raises(DeliveryError):  # still in the way: no new run is made behind it
        _export(w)
    with db.session_scope(w.url) as s:
        assert [r.seq for r in service.runs(s)] == [1]
    shutil.rmtree(blocker)
    out = _export(w)
    assert out["run"] == 2
    with db.session_scope(w.url) as s:
        assert [(r.seq, r.status) for r in service.runs(s)] == [(2, "written"), (1, "written")]
    assert sorted(p.name for p in folder.iterdir()) == [
        "pbc-crc-000001.jsonl", "pbc-crc-000001.manifest.json", "pbc-crc-000002.jsonl", "pbc-crc-000002.manifest.json"]


def test_a_csv_bureau_quotes_hostile_text_unharmed(world: World, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    own = tmp_path / "bureaus.yaml"
    own.write_text(Path(__file__).resolve().parents[2].joinpath("src/creditgov/bureaus/data/bureaus.yaml")
                   .read_text("utf-8").replace("format: jsonl", "format: csv"), "utf-8")
    monkeypatch.setenv("CREDITGOV_BUREAUS", str(own))
    out = _export(w)
    data = w.out / FOLDER / "pbc-crc-000001.csv"
    assert out["file"] == data.name and out["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    with data.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and list(rows[0])[:3] == ["line", "subject_kind", "subject_name"]
    mine = next(r for r in rows if r["item"] == "social.arrears")
    assert mine["subject_name"] == HOSTILE and mine["text"] == HOSTILE and mine["basis"] == "consent"
    assert next(r for r in rows if r["basis"] == "law")["consent_id"] == ""
    raw = data.read_bytes()
    assert raw.startswith(b'"line","subject_kind"') and raw.split(b"\n", 1)[0].endswith(b'"\r')
