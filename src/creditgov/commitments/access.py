"""What the commitments edges share: the API routes (`commitments/views.py`), the pages
(`web/commitment_pages.py`) and the own view's section (`web/workflow_pages.py`) reach
commitments through the same scope (`commitment_clause`), show them the same way and
sign and verify through the same adapters, so a page and its endpoint agree. The rules
of signing and verifying are the service's; here a principal becomes plain values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.commitments import service
from creditgov.commitments.models import Commitment, CommitmentTemplate
from creditgov.core import clock
from creditgov.core.errors import NotFound
from creditgov.records.models import CreditRecord
from creditgov.security.scopes import Grant, Principal, Role, Scope, authorize
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows.access import acting_unit


def commitment_clause(grant: Grant) -> ColumnElement[bool]:
    """A condition on `Commitment` selecting those the grant reaches: a department's
    desk the commitments it verifies (they were made to it), any other scope the
    commitments of subjects in it."""
    p = grant.principal
    if grant.scope is Scope.ALL:
        return true()
    if grant.scope is Scope.DEPARTMENT:
        return Commitment.verifying_department == p.department_code if p.department_code else false()
    return Commitment.subject_id.in_(select(Subject.id).where(grant.subject_clause()))


def commitment_in_scope(session: Session, grant: Grant, commitment_id: int, *, lock: bool = False) -> Commitment:
    """The commitment, or NotFound when it is missing or outside the grant's reach."""
    c = session.get(Commitment, commitment_id, with_for_update=lock)
    if c is None or (grant.scope is not Scope.ALL and session.execute(
            select(Commitment.id).where(Commitment.id == commitment_id, commitment_clause(grant))).first() is None):
        raise NotFound(f"commitment {commitment_id} not found in your data scope")
    return c


def repair_type(session: Session) -> str:
    """The type of the credit-repair commitment, which a repair signs (not this domain's door)."""
    return service.repair_commitment_type(session)


def template_rows(session: Session) -> list[dict[str, Any]]:
    """Every template with its text as it would be signed today."""
    today = clock.today()
    rtype = repair_type(session)
    out = []
    for t in service.templates(session):
        text, due = service.signing_text(t, today)
        out.append({"code": t.code, "type": t.type, "name_zh": t.name_zh, "name_en": t.name_en, "text": text,
                    "due_on": due.isoformat() if due else None, "deadline_days": t.deadline_days,
                    "verifying_department": t.verifying_department, "legal_basis": t.legal_basis,
                    "signable": t.type != rtype})
    return out


def scoped_commitments(session: Session, grant: Grant, *, status: str | None = None, overdue: bool = False,
                       subject_id: int | None = None, limit: int = 200) -> list[Commitment]:
    return service.listing(session, status=None if status in (None, "all") else status, overdue=overdue,
                           subject_id=subject_id, where=commitment_clause(grant), limit=limit)


def commitments_out(session: Session, grant: Grant, rows: Sequence[Commitment]) -> list[dict[str, Any]]:
    """Commitments as the API and the pages show them: the template's name, the
    subject's (masked where the grant masks people), overdue, and the record left."""
    if not rows:
        return []
    today = clock.today()
    names = {c: (zh, en) for c, zh, en in session.execute(
        select(CommitmentTemplate.code, CommitmentTemplate.name_zh, CommitmentTemplate.name_en))}
    subjects = {s.id: subject_service.display_name(s, masked=grant.masks_people) for s in session.execute(
        select(Subject).where(Subject.id.in_({c.subject_id for c in rows}))).scalars()}
    rec_ids = {c.record_id for c in rows if c.record_id is not None}
    records = {r.id: {"id": r.id, "item": r.item_code, "polarity": polarity, "department": r.department_code,
                      "published_from": r.published_from.isoformat() if r.published_from else None,
                      "published_until": r.published_until.isoformat() if r.published_until else None}
               for r, polarity in session.execute(
                   select(CreditRecord, CatalogItem.polarity).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
                   .where(CreditRecord.id.in_(rec_ids)))} if rec_ids else {}
    out = []
    for c in rows:
        zh, en = names.get(c.template_code, (None, None))
        out.append({**service.as_dict(c), "template_name": zh, "template_name_en": en,
                    "subject_name": subjects.get(c.subject_id),
                    "overdue": c.status == "signed" and c.due_on is not None and c.due_on < today,
                    "record": records.get(c.record_id) if c.record_id is not None else None})
    return out


def sign_commitment(session: Session, who: Principal, *, subject_id: int, template: str, agree: bool,
                    signed_by: str | None, scenario: str | None = None) -> Commitment:
    """Sign for `subject_id` (already checked to be in the signer's scope): the subject
    itself (named by its account when `signed_by` is blank), or the credit office's
    window naming who signed. The rules are `service.sign_commitment`'s."""
    at_window = who.role is not Role.SUBJECT
    signer = (signed_by or "").strip() or (None if at_window else who.display_name or None)
    return service.sign_commitment(session, subject_id=subject_id, template_code=template, agreed=agree,
                                   signed_by=signer, at_window=at_window,
                                   scenario=scenario, actor=who.actor)


def verify_commitment(session: Session, grant: Grant, commitment_id: int, *, outcome: str,
                      note: str | None) -> tuple[Commitment, CreditRecord]:
    """The verifying department (the reader's acting unit) records the outcome."""
    commitment_in_scope(session, grant, commitment_id, lock=True)
    return service.verify(session, commitment_id=commitment_id, outcome=outcome,
                          department=acting_unit(session, grant.principal), note=note, actor=grant.principal.actor)


def own_commitments(session: Session, who: Principal, subject_id: int) -> dict[str, Any]:
    """The own view's section (我的信用): the subject's commitments and the templates it
    may sign there (the credit-repair commitment has its own form, with a repair)."""
    grant = authorize(who, "commitments.read")
    rows = commitments_out(session, grant, scoped_commitments(session, grant, subject_id=subject_id, limit=500))
    signable = [t for t in template_rows(session) if t["signable"]] if who.can("commitments.sign") else []
    return {"own_commitments": rows, "sign_templates": signable}

