"""A subject re-evaluated after a procedure changed its file (an objection filed or
decided, a repair) stands at its new result
wherever one subject's standing is read — its file's current evaluation (and so its
report), a credit check's grade and a credit code's — until the next run, on a real
store (SQLite and PostgreSQL) with a real evaluation of the small county: the
re-evaluation is computed against the latest published run and supersedes the
subject's row in it, is audited in the name of the decision's actor, and a later run
leaves it behind."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from creditgov.core import db
from creditgov.ingest import service as ingest_service
from creditgov.measures.check import current_grade
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from creditgov.reports import overview
from creditgov.scoring import current
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import Score
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.workflows import flows, objection

MODEL = "public-credit-enterprise"


def test_a_reevaluation_supersedes_the_run_until_the_next(store: str, mini: Path, tmp_path: Path) -> None:
    ring = create_key_file(tmp_path / "current.key")
    ingest_service.ingest_paths(store, ring, [mini], actor="test")
    first = scoring_service.evaluate(store, ref=MODEL, publish=True, actor="test").run_id
    with db.session_scope(store) as s:
        # a firm whose worst record weighs on its score in the run
        lowest = s.execute(select(Score.subject_id, Score.score, Score.grade).where(Score.run_id == first)
                           .order_by(Score.score, Score.subject_id).limit(1)).one()
        firm, run_score, run_grade = lowest
        # an objection takes its record out of evaluation while it is open, and its
        # decision puts it back: each time the subject stands anew
        rec = s.execute(select(CreditRecord).where(CreditRecord.subject_id == firm, CreditRecord.status == "active")
                        .order_by(CreditRecord.id).limit(1)).scalar_one()
        [o] = objection.file_objection(s, subject_id=firm, record_ids=[rec.id], reason="不是我们的记录",
                                       actor=f"subject:{firm}")
        [row] = [r for r in overview.subject_scores(s, firm) if r["model"] == MODEL]
        assert row["reevaluated"]["cause_words"] == (f"异议 #{o.id}", f"objection #{o.id}")
        flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason="记录属实",
                               department=rec.department_code, actor="officer:market")
        [row] = [r for r in overview.subject_scores(s, firm) if r["model"] == MODEL]
        assert row["reevaluated"]["cause_words"][1] == f"objection #{o.id}"
        assert (row["score"], row["grade"]) == (str(run_score), run_grade)  # the record counts again, as in the run
        for rec in s.execute(select(CreditRecord).where(CreditRecord.subject_id == firm,
                                                        CreditRecord.status == "active")).scalars():
            records_service.change_status(s, record_id=rec.id, to_status="repaired", actor="officer:market",
                                          reason="test: every record repaired")
        assert [r["grade"] for r in overview.subject_scores(s, firm) if r["model"] == MODEL] == [run_grade]
        [re] = [r for r in current.reevaluate(s, subject_id=firm, cause="repair:7", actor="officer:market")
                if r.model_name == MODEL]
        assert re.previous_run_id == first and re.previous_grade == run_grade
        assert re.score > run_score  # the repaired records no longer count against it
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "evaluation.reevaluate")
                          .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert entry.actor == "officer:market" and entry.subject_id == firm
        new_grade, new_score = re.grade, re.score
    with db.session_scope(store) as s:
        [row] = [r for r in overview.subject_scores(s, firm) if r["model"] == MODEL]
        assert (row["score"], row["grade"], row["run_id"]) == (str(new_score), new_grade, first)
        assert row["reevaluated"]["cause_words"] == ("信用修复申请 #7", "credit repair application #7")
        assert row["reevaluated"]["previous_grade"] == run_grade
        grade = current_grade(s.connection(), firm, MODEL)
        assert (grade.run_id, grade.grade) == (first, new_grade)
    second = scoring_service.evaluate(store, ref=MODEL, publish=True, actor="test").run_id
    with db.session_scope(store) as s:
        [row] = [r for r in overview.subject_scores(s, firm) if r["model"] == MODEL]
        assert row["run_id"] == second and row["reevaluated"] is None
        assert (row["score"], row["grade"]) == (str(new_score), new_grade)  # the run agrees with it
        assert current_grade(s.connection(), firm, MODEL).run_id == second
