"""API routes for credit commitments (信用承诺). Thin: `commitments.service` signs,
verifies and writes the one record an outcome leaves; the grant decides which
commitments a caller reaches (`commitment_clause`), and one outside the scope answers
404 like a missing one.

Who does what: a subject signs its own commitment from a template, having read the
text and agreed to it; the credit office's window records one signed there (naming who
signed). The credit-repair commitment is not signed here: it belongs to a repair and
keeps its own door (`POST /records/{id}/repair-conditions`, `workflows.service`). The
verifying department — the one that accepted the commitment — records fulfilment or
breach; a breach creates exactly one negative record in the credit file. Reading: the
office and administrators everything, a department the commitments made to it, grid
workers and inspectors those of subjects in their region, a subject its own.

The helpers below are shared with the pages (`web/commitment_pages.py`, and the own
view's section in `web/workflow_pages.py`), so a page and its endpoint agree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, require
from creditgov.catalog.models import CatalogItem
from creditgov.commitments import service
from creditgov.commitments.models import STATUSES, Commitment, CommitmentTemplate
from creditgov.commitments.schemas import CommitmentOut, SignIn, TemplateOut, VerifyIn
from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security.scopes import Grant, Principal, Role, Scope, authorize
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows import service as workflows_service
from creditgov.workflows.views import acting_unit

router = APIRouter(tags=["commitments"])
CommitmentsRead = Annotated[Grant, Depends(require("commitments.read"))]
CommitmentsSign = Annotated[Grant, Depends(require("commitments.sign"))]
CommitmentsVerify = Annotated[Grant, Depends(require("commitments.verify"))]
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(("all", *STATUSES)) + ")$")]


# ----------------------------------------------------------------------------- shared with the pages


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
    return workflows_service.rules(session).repair.commitment_type


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
    itself, or the credit office's window naming who signed. Agreeing to the text is
    required; the credit-repair commitment is signed with a repair instead."""
    t = service.template(session, template)
    if t.type == repair_type(session):
        raise InvalidInput(f"{t.code} is the credit-repair commitment: it is signed with a repair, for a record "
                           f"that waits for it (POST /records/{{id}}/repair-conditions, or 我的信用)")
    if not agree:
        raise InvalidInput("read the commitment's text and agree to it before signing")
    signer = (signed_by or "").strip()
    if who.role is not Role.SUBJECT and not signer:
        raise InvalidInput("a commitment signed at the window names who signed it (signed_by)")
    return service.sign(session, subject_id=subject_id, template_code=t.code,
                        signed_by=signer or who.display_name or None, scenario=scenario, actor=who.actor)


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


# ----------------------------------------------------------------------------- routes


@router.get("/commitment-templates", response_model=list[TemplateOut], operation_id="commitment_templates")
def commitment_templates(grant: CommitmentsRead, session: DB) -> list[dict[str, Any]]:
    """The commitment templates, each with its text as it would be signed today (the
    deadline filled in), the verifying department and the legal basis. `signable`:
    false for the credit-repair commitment, which a repair signs."""
    return template_rows(session)


@router.get("/commitments", response_model=list[CommitmentOut], operation_id="commitments_list")
def commitments_list(grant: CommitmentsRead, session: DB, status: StatusFilter = None, overdue: bool = False,
                     subject_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[dict[str, Any]]:
    """Commitments in your scope, newest first. `overdue=true`: signed and past the
    deadline, awaiting a verdict. A department sees the commitments made to it."""
    return commitments_out(session, grant, scoped_commitments(session, grant, status=status, overdue=overdue,
                                                              subject_id=subject_id, limit=limit))


@router.get("/commitments/{commitment_id}", response_model=CommitmentOut, operation_id="commitments_get")
def commitments_get(commitment_id: Id, grant: CommitmentsRead, session: DB) -> dict[str, Any]:
    """One commitment with the text as signed and, once verified, the record it left."""
    return commitments_out(session, grant, [commitment_in_scope(session, grant, commitment_id)])[0]


@router.post("/subjects/{subject_id}/commitments", response_model=CommitmentOut, status_code=201,
             operation_id="commitments_sign")
def commitments_sign(subject_id: Id, body: SignIn, grant: CommitmentsSign, session: DB) -> dict[str, Any]:
    """Sign a commitment from a template (`agree: true`: the signer read the text of
    `GET /commitment-templates` and agrees). A subject signs its own; the credit
    office's window records one signed there (`signed_by` required). The deadline runs
    from today; the verifying department is the template's."""
    subject = grant.require_subject(session, subject_id)
    c = sign_commitment(session, grant.principal, subject_id=subject.id, template=body.template, agree=body.agree,
                        signed_by=body.signed_by, scenario=body.scenario)
    return commitments_out(session, grant, [c])[0]


@router.post("/commitments/{commitment_id}/verification", response_model=CommitmentOut,
             operation_id="commitments_verify")
def commitments_verify(commitment_id: Id, body: VerifyIn, grant: CommitmentsVerify, session: DB) -> dict[str, Any]:
    """The verifying department records the outcome, once: `fulfilled` leaves a
    positive record, `breached` (a note required) exactly one negative record in the
    credit file — also when two officers verify at once. Another unit: 422."""
    c, _rec = verify_commitment(session, grant, commitment_id, outcome=body.outcome, note=body.note)
    return commitments_out(session, grant, [c])[0]
