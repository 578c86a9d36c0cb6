"""Subject correction and merging of duplicates (issue 19), on a real store (SQLite and
PostgreSQL): a merge moves every row naming the duplicate — records, links, scores,
the points ledger, alerts — to the survivor, keeps what would collide with the
survivor's own rows, and its undo leaves every row where it was; an undo the store has
moved past is refused; a correction needs a second person and re-checks identifiers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov import bootstrap
from creditgov.alerts.models import Alert
from creditgov.core import clock
from creditgov.core.db import session_scope
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.ingest import service as ingest
from creditgov.points.models import PointsAccount, PointsEntry
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_id
from creditgov.subjects import changes, merge
from creditgov.subjects.models import Subject, SubjectLink
from creditgov.web import i18n

HOSTILE = '"><script>alert(1)</script> O\'Brien 😀'


def _two_firms(s: Session) -> tuple[int, int]:
    """The two organisations with the most records: the survivor and the duplicate."""
    rows = s.execute(select(CreditRecord.subject_id, func.count()).join(Subject, Subject.id == CreditRecord.subject_id)
                     .where(Subject.uscc.is_not(None)).group_by(CreditRecord.subject_id)
                     .order_by(func.count().desc(), CreditRecord.subject_id).limit(2)).all()
    return int(rows[0][0]), int(rows[1][0])


def _snapshot(s: Session, ids: tuple[int, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every subject column naming these subjects, by table and column."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for ref in merge.subject_columns():
        pk = list(ref.table.primary_key.columns)
        rows = s.execute(select(*pk, ref.column).where(ref.column.in_(ids))).all()
        out[f"{ref.table.name}.{ref.column.name}"] = sorted(tuple(map(str, r)) for r in rows)
    out["subjects"] = sorted((str(x.id), x.status) for x in s.execute(select(Subject).where(Subject.id.in_(ids)))
                             .scalars())
    return out


def _extras(s: Session, keep: int, dup: int) -> None:
    """Rows of other domains naming both: a run scoring both (same key: stays), the
    duplicate's points account and ledger (the survivor has none: copied), an alert."""
    now = clock.now()
    run = EvaluationRun(model_name="t", model_version="1", model_hash="x" * 64, as_of=dt.date(2026, 10, 1),
                        engine="python", status="done", started_at=now)
    s.add(run)
    s.flush()
    for sid, sc in ((keep, "80"), (dup, "60")):
        s.add(Score(run_id=run.id, subject_id=sid, score=Decimal(sc), grade="B", colour="blue", dimensions={}))
    run2 = EvaluationRun(model_name="t", model_version="1", model_hash="x" * 64, as_of=dt.date(2026, 11, 1),
                         engine="python", status="done", started_at=now)
    s.add(run2)
    s.flush()
    s.add(Score(run_id=run2.id, subject_id=dup, score=Decimal("61"), grade="B", colour="blue", dimensions={}))
    s.add(PointsAccount(subject_id=dup, opened_at=now))
    s.flush()
    for n in range(3):
        s.add(PointsEntry(subject_id=dup, amount=10, kind="earn", cause="record", ref_type="record", ref_id=n,
                          earned_on=dt.date(2026, 9, 1 + n), cause_key=f"t:{dup}:{n}", actor="test", at=now))
    s.add(Alert(rule_code="t", subject_id=dup, severity="low", status="open", title="t", body="", dedup_key="t",
                evidence=[], raised_at=now, last_seen_at=now, escalation=[], updated_at=now))
    s.flush()


def test_a_merge_and_its_undo_leave_every_row_where_it_was(store: str, keyring: KeyRing, mini: Path) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        _extras(s, keep, dup)
        s.add(SubjectLink(firm_id=dup, person_id=keep, role="employee"))
        s.flush()
        before = _snapshot(s, (keep, dup))
        dup_records = s.execute(select(func.count()).where(CreditRecord.subject_id == dup)).scalar()
        assert dup_records
        c = changes.propose_merge(s, survivor_id=keep, duplicate_id=dup, reason=HOSTILE, actor="officer-a")
        cid = c.id
        assert _snapshot(s, (keep, dup)) == before                       # proposed: nothing moved yet
        with pytest.raises(Conflict, match="second person"):
            changes.decide(s, keyring, cid, approve=True, actor="officer-a")
    with session_scope(store) as s:
        c = changes.decide(s, keyring, cid, approve=True, note="同一企业重复登记", actor="officer-b")
        assert s.get(Subject, dup).status == "merged"  # type: ignore[union-attr]  # the subject exists
        assert s.execute(select(func.count()).where(CreditRecord.subject_id == dup)).scalar() == 0
        assert s.execute(select(func.count()).where(PointsEntry.subject_id == keep)).scalar() == 3
        assert s.get(PointsAccount, keep) is not None                  # copied so the ledger could follow
        assert [k["table"] for k in c.kept] == ["evaluation_scores"]   # the run that scored both: stays
        assert [k["table"] for k in c.created] == ["points_accounts"]
        shown = changes.change_dict(keyring, c)
        assert shown["moved_by_table"]["credit_records"] == dup_records and shown["reason"] == HOSTILE
        assert {"points_entries", "alerts", "subject_links"} <= set(shown["moved_by_table"])
    with session_scope(store) as s:
        with pytest.raises(InvalidInput, match="reason"):
            changes.undo_merge(s, cid, reason=" ", actor="officer-c")
        changes.undo_merge(s, cid, reason="误合并：两家企业", actor="officer-c")
    with session_scope(store) as s:
        assert _snapshot(s, (keep, dup)) == before
        assert s.get(PointsAccount, keep) is None
        with pytest.raises(Conflict, match="undone"):
            changes.undo_merge(s, cid, reason="again", actor="officer-c")
        assert audit.verify(s).ok
        acts = [e.action for e in audit.entries_for_subject(s, keep, limit=20)]
        assert {"subject.merge.propose", "subject.merge.approved", "subject.merge.undone"} <= set(acts)


def test_an_undo_the_store_moved_past_is_refused(store: str, keyring: KeyRing, mini: Path) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        _extras(s, keep, dup)
        cid = changes.propose_merge(s, survivor_id=keep, duplicate_id=dup, reason="重复", actor="a").id
        changes.decide(s, keyring, cid, approve=True, actor="b")
        # The survivor earns points on the account the merge created: the undo could not remove it.
        s.add(PointsEntry(subject_id=keep, amount=5, kind="earn", cause="record", ref_type="record", ref_id=99,
                          earned_on=dt.date(2026, 12, 1), cause_key="t:new", actor="test", at=clock.now()))
        s.flush()
        with pytest.raises(Conflict, match="points_entries row.*since the merge"):
            changes.undo_merge(s, cid, reason="误合并", actor="c")
        s.execute(PointsEntry.__table__.delete().where(PointsEntry.cause_key == "t:new"))
        # A moved record now belongs to a third subject: refused, naming it.
        rec = s.execute(select(CreditRecord).where(CreditRecord.subject_id == keep)).scalars().first()
        assert rec is not None
        moved_ids = {m["key"]["id"] for m in s.get(changes.SubjectChange, cid).moved  # type: ignore[union-attr]  # exists
                     if m["table"] == "credit_records"}
        third = s.execute(select(Subject.id).where(Subject.id.not_in([keep, dup]))).scalars().first()
        target = s.execute(select(CreditRecord).where(CreditRecord.id.in_(moved_ids))).scalars().first()
        assert target is not None
        target.subject_id = third  # type: ignore[assignment]  # a third subject exists in the mini county
        s.flush()
        with pytest.raises(Conflict, match=f"credit_records row .*'id': {target.id}.* no longer on subject {keep}"):
            changes.undo_merge(s, cid, reason="误合并", actor="c")
        assert s.get(Subject, dup).status == "merged"  # type: ignore[union-attr]  # refused: nothing changed


def test_merges_are_refused_when_they_make_no_sense(store: str, keyring: KeyRing, mini: Path) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        person = s.execute(select(Subject.id).where(Subject.resident_id_index.is_not(None))).scalars().first()
        with pytest.raises(InvalidInput, match="itself"):
            changes.propose_merge(s, survivor_id=keep, duplicate_id=keep, reason="x", actor="a")
        with pytest.raises(InvalidInput, match="person and an organisation"):
            changes.propose_merge(s, survivor_id=keep, duplicate_id=person or 0, reason="x", actor="a")
        with pytest.raises(InvalidInput, match="needs a reason"):
            changes.propose_merge(s, survivor_id=keep, duplicate_id=dup, reason="  ", actor="a")
        cid = changes.propose_merge(s, survivor_id=keep, duplicate_id=dup, reason="x", actor="a").id
        with pytest.raises(InvalidInput, match="needs a reason"):
            changes.decide(s, keyring, cid, approve=False, actor="b")
        c = changes.decide(s, keyring, cid, approve=False, note="不是同一企业", actor="b")
        assert c.status == "rejected" and s.get(Subject, dup).status != "merged"  # type: ignore[union-attr]  # exists
        with pytest.raises(Conflict, match="only an applied merge"):
            changes.undo_merge(s, cid, reason="x", actor="c")


def test_a_correction_is_checked_approved_by_a_second_person_and_kept(store: str, keyring: KeyRing,
                                                                      mini: Path) -> None:
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        other_uscc = s.get(Subject, dup).uscc  # type: ignore[union-attr]  # exists
        old = s.get(Subject, keep)
        assert old is not None
        old_name, old_uscc = old.name, old.uscc
        with pytest.raises(InvalidInput, match="invalid unified social credit code"):
            changes.propose_correction(s, keyring, subject_id=keep, fields={"identifier": "91330522MA2B000100"},
                                       reason="x", actor="a")
        with pytest.raises(Conflict, match="merge the duplicate"):
            changes.propose_correction(s, keyring, subject_id=keep, fields={"identifier": other_uscc}, reason="x",
                                       actor="a")
        with pytest.raises(InvalidInput, match="unknown field"):
            changes.propose_correction(s, keyring, subject_id=keep, fields={"status": "x"}, reason="x", actor="a")
        c = changes.propose_correction(s, keyring, subject_id=keep,
                                       fields={"name": HOSTILE, "address": "长兴县雉城街道 1 号",
                                               "attributes": {"规模": "小型"}},
                                       reason="营业执照变更", actor="a")
        assert s.get(Subject, keep).name == old_name  # type: ignore[union-attr]  # proposed: unchanged
        c = changes.decide(s, keyring, c.id, approve=True, actor="b")
        sub = s.get(Subject, keep)
        assert sub is not None and sub.name == HOSTILE and sub.uscc == old_uscc
        assert sub.attributes["规模"] == "小型" and sub.address == "长兴县雉城街道 1 号"
        shown = changes.change_dict(keyring, c)
        assert shown["before"]["name"] == old_name and shown["fields"]["name"] == HOSTILE
        assert json.loads(json.dumps(shown)) == shown
        assert audit.verify(s).ok


def test_a_persons_id_number_is_corrected_checked_and_kept_encrypted(store: str, keyring: KeyRing,
                                                                     mini: Path) -> None:
    from stdnum.cn import ric

    new_id = (lambda b: b + ric.calc_check_digit(b + "0"))("11011219740506003")
    bad_id = new_id[:-1] + ("0" if new_id[-1] != "0" else "1")
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        pid = s.execute(select(Subject.id).where(Subject.resident_id_index.is_not(None))).scalars().first()
        assert pid is not None
        with pytest.raises(InvalidInput, match="invalid resident ID number"):
            changes.propose_correction(s, keyring, subject_id=pid, fields={"identifier": bad_id}, reason="x", actor="a")
        c = changes.propose_correction(s, keyring, subject_id=pid, fields={"identifier": new_id}, reason="户籍更正",
                                       actor="a")
        assert new_id not in (c.payload or "")
        c = changes.decide(s, keyring, c.id, approve=True, actor="b")
        p = s.get(Subject, pid)
        assert p is not None and keyring.decrypt(p.resident_id) == new_id
        assert p.resident_id_index == keyring.blind_index(new_id) and new_id not in (c.before or "")
        shown = json.dumps(changes.change_dict(keyring, c), ensure_ascii=False)
        assert new_id not in shown and mask_id(new_id) in shown                 # masked when shown


def test_after_a_merge_new_rows_of_the_duplicate_go_to_the_survivor(store: str, keyring: KeyRing,
                                                                    mini: Path) -> None:
    from creditgov.ingest import manual

    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        dup_uscc = s.get(Subject, dup).uscc  # type: ignore[union-attr]  # exists
        cid = changes.propose_merge(s, survivor_id=keep, duplicate_id=dup, reason="重复", actor="a").id
        changes.decide(s, keyring, cid, approve=True, actor="b")
    with session_scope(store) as s:
        e = manual.propose(s, keyring, kind="record", department="market",
                           fields={"identifier": dup_uscc, "item": "market.penalty", "occurred_on": "2026-06-01",
                                   "document_no": "合并后〔2026〕1号"}, reason="合并后的新记录", actor="a")
        e = manual.decide(s, keyring, e.id, approve=True, actor="b")
        assert e.subject_id == keep and s.get(CreditRecord, e.record_id).subject_id == keep  # type: ignore[union-attr]  # the record exists
        reg = manual.propose(s, keyring, kind="registration", department="market",
                             fields={"identifier": dup_uscc, "kind": "enterprise", "name": "旧名称"},
                             reason="部门重报", actor="a")
        with pytest.raises(InvalidInput, match=f"merged into subject {keep}") as merged:
            manual.decide(s, keyring, reg.id, approve=True, actor="b")
        bootstrap.wire()
        assert i18n.refusal(merged.value, "zh") == f"该主体已合并到主体 #{keep}，这条登记不再生效。它仍待审核，请驳回。"
    with session_scope(store) as s:
        assert s.get(Subject, dup).status == "merged"  # type: ignore[union-attr]  # the registration changed nothing
        assert s.get(Subject, keep).name != "旧名称"  # type: ignore[union-attr]  # exists
        # The record filed under the survivor may be the duplicate's: the merge cannot be undone blindly.
        with pytest.raises(Conflict, match=f"1 credit record.*filed under subject {keep} since the merge"):
            changes.undo_merge(s, cid, reason="误合并", actor="c")
