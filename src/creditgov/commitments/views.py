"""API routes for credit commitments (信用承诺). Thin: `commitments.service` signs,
verifies and writes the one record an outcome leaves; the grant decides which
commitments a caller reaches (`commitment_clause`), and one outside the scope answers
404 like a missing one.

Who does what: a subject signs its own commitment from a template, having read the
text and agreed to it; the credit office's window records one signed there (naming who
signed). The credit-repair commitment is not signed here: it belongs to a repair and
keeps its own door (`POST /records/{id}/repair-conditions`, `workflows.conditions`). The
verifying department — the one that accepted the commitment — records fulfilment or
breach; a breach creates exactly one negative record in the credit file. Reading: the
office and administrators everything, a department the commitments made to it, grid
workers and inspectors those of subjects in their region, a subject its own.

The read logic shared with the pages (`web/commitment_pages.py`, and the own view's
section in `web/workflow_pages.py`) lives in `commitments.access`, so a page and its
endpoint agree; the rules of signing are `service.sign_commitment`'s, which the
pages and the CLI pass through too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from creditgov.api.deps import DB, Id, require
from creditgov.commitments.access import (
    commitment_in_scope,
    commitments_out,
    scoped_commitments,
    sign_commitment,
    template_rows,
    verify_commitment,
)
from creditgov.commitments.models import STATUSES
from creditgov.commitments.schemas import CommitmentOut, SignIn, TemplateOut, VerifyIn
from creditgov.security.scopes import Grant

router = APIRouter(tags=["commitments"])
CommitmentsRead = Annotated[Grant, Depends(require("commitments.read"))]
CommitmentsSign = Annotated[Grant, Depends(require("commitments.sign"))]
CommitmentsVerify = Annotated[Grant, Depends(require("commitments.verify"))]
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(("all", *STATUSES)) + ")$")]


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
