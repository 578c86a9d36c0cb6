"""The subject's own view: its file, scores explained, lists, objections and repairs with
deadlines, repair dates, inbox, and who read its file and why (from the audit chain)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from stdnum.cn import ric
from tests.workflows.helpers import add_record

from creditgov.core import clock, db
from creditgov.security.crypto import KeyRing
from creditgov.subjects import service as subject_service
from creditgov.workflows import flows
from creditgov.workflows.objection import file_objection

D = dt.date


def _resident_id(n: int) -> str:
    body = f"33010219850101{n:03d}"
    return next(body + c for c in "0123456789X" if ric.is_valid(body + c))


def test_a_residents_own_view(county: str, keyring: KeyRing, today, tmp_path: Path) -> None:
    today("2026-09-30")
    rid = _resident_id(hash(tmp_path) % 1000)
    with db.session_scope(county) as s:
        sid = subject_service.insert_subject(s, keyring, kind="individual", name="张三丰", uscc=None, resident_id=rid,
                                             status="confirmed", source="test", batch_id=None, now=clock.now(),
                                             attributes={"birth_year": 1985})
        person = subject_service.resolve(s, keyring, str(sid))
        bad = add_record(s, person, "court.judgement", published=D(2026, 3, 2))
        fine = add_record(s, person, "social.arrears", published=D(2026, 8, 3))
        bad_id, fine_id = bad.id, fine.id
    with db.session_scope(county) as s:
        # an officer reads the file for a loan check; the subject objects to one record
        subject_service.credit_file(s, keyring, rid, actor="officer:bank-7", purpose="贷款审查")
        file_objection(s, subject_id=sid, record_ids=[bad_id], reason="非本人案件", channel="window",
                       actor="window:clerk")
    today("2026-10-09")
    with db.session_scope(county) as s:
        view = flows.own_view(s, keyring, rid)
    assert view["file"]["id"] == sid and view["file"]["resident_id"] != rid  # masked
    # objections with their deadline, counted in working days (National Day excluded)
    assert [(o["record_id"], o["status"], o["deadline"], o["working_days_left"]) for o in view["objections"]] == \
        [(bad_id, "open", "2026-10-13", 3)]
    assert bad_id not in view["published_record_ids"]
    # each negative record's repair dates, from the catalogue
    sched = {r["record_id"]: r for r in view["repair_schedule"]}
    assert sched[bad_id]["status"] == "disputed" and sched[fine_id]["tier"] == "general"
    assert sched[fine_id]["repairable_from"] == "2026-11-03"
    # who read the file and why: the officer, and the subject's own view itself
    readers = [(r["actor"], r["purpose"]) for r in view["readers"]]
    assert ("officer:bank-7", "贷款审查") in readers and (f"subject:{sid}", "own view") in readers
    assert [m["topic"] for m in view["inbox"]] == ["objection.received"]
    # scores explained for the models that hold a resident, the disputed record left out
    # (seen from the wall-clock date: the engine dates a status change by its timestamp)
    today(max(clock.now().date(), D(2026, 10, 9)))
    with db.session_scope(county) as s:
        view = flows.own_view(s, keyring, rid)
    scores = {x["model"].split("@")[0]: x["explanation"] for x in view["scores"]}
    assert set(scores) == {"community-resident"}
    excluded = {r["id"]: r["reason"] for r in scores["community-resident"]["excluded_records"]}
    assert excluded.get(bad_id) == "disputed on the as-of date"
    assert bad_id not in [r["id"] for i in scores["community-resident"]["items"] for r in i["records"]]
