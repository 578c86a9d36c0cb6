"""Read logic the bureau export's command and the subject's own view share: the runs
that carried a subject's records, and the words for their codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.bureaus.models import BureauRun, BureauRunSubject

STATUS = {"pending": ("待写出", "waiting to be written"),
          "written": ("已生成，待征信机构确认", "written, awaiting the bureau's acknowledgement"),
          "acknowledged": ("征信机构已确认接收", "acknowledged by the bureau")}
BASIS = {"consent": ("经您授权", "with your consent"),
         "law": ("依法公开信息（无需授权）", "public by law (no consent needed)"),
         "both": ("经您授权及依法公开", "with your consent and public by law")}


def for_subject(session: Session, subject_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The runs that carried the subject's records, newest first: which bureau, when,
    how many records, on what footing, and whether the bureau confirmed receipt."""
    q = (select(BureauRun, BureauRunSubject).join(BureauRunSubject, BureauRunSubject.run_id == BureauRun.id)
         .where(BureauRunSubject.subject_id == subject_id).order_by(BureauRun.id.desc()).limit(limit))
    return [{"bureau": r.bureau, "run": r.seq, "at": r.created_at, "as_of": r.as_of, "records": rs.records,
             "basis": rs.basis, "status": r.status} for r, rs in session.execute(q).tuples()]
