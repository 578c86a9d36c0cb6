"""API routes for joint measures, scenarios and the credit check (信用核查). Thin:
`measures.service.check` does the work and writes the check and its audit entry;
the grant limits which subjects a caller may check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from creditgov.api.deps import DB, append_only, require
from creditgov.core import labels
from creditgov.measures import service as measures_service
from creditgov.security.scopes import Grant, Role

router = APIRouter(tags=["measures"])
MeasuresRead = Annotated[Grant, Depends(require("measures.read"))]


class CheckIn(BaseModel):
    scenario: str = Field(min_length=1, max_length=80)
    subject_id: int = Field(ge=1, le=2**31 - 1)
    purpose: str | None = Field(default=None, max_length=200)
    # A credit code the subject presents (another region's: 跨地互认), read as evidence.
    code: str | None = Field(default=None, min_length=1, max_length=4096)


class FeedbackIn(BaseModel):
    measure: str = Field(min_length=1, max_length=80)
    applied: bool
    reason: str | None = Field(default=None, max_length=500)


@router.get("/measures", operation_id="measures_list")
def measures_list(grant: MeasuresRead, session: DB,
                  scenario: Annotated[str | None, Query(max_length=80)] = None) -> list[dict[str, Any]]:
    """Joint reward and punishment measures (联合奖惩措施), with their legal basis."""
    return [_measure(m.model_dump(mode="json")) for m in measures_service.measures(session, scenario=scenario)]


@router.get("/scenarios", operation_id="scenarios_list")
def scenarios_list(grant: MeasuresRead, session: DB) -> list[dict[str, Any]]:
    """Application scenarios a credit check can be made for."""
    return [labels.annotate(s.model_dump(mode="json"), code="scenario", department="department")
            for s in measures_service.scenarios(session)]


@router.post("/checks", status_code=201, operation_id="checks_run")
@append_only
def checks_run(body: CheckIn, grant: Annotated[Grant, Depends(require("check.run"))], session: DB) -> dict[str, Any]:
    """Check a subject for a scenario: grade, lists in force, the measures that apply
    and those available with a commitment, and related parties on a list (`related`:
    information, changing no measure). The check is recorded and audited."""
    grant.require_subject(session, body.subject_id)
    who = grant.principal
    department = who.department_code if who.role is Role.DEPARTMENT else None
    if who.role is Role.BANK:
        department = who.organisation
    r = measures_service.check(session, scenario=body.scenario, subject_id=body.subject_id, department=department,
                               purpose=body.purpose, actor=who.actor, evidence=body.code,
                               mask_people=grant.masks_people)
    out = labels.annotate(r.as_dict(), department="department", model="model", colour="colour")
    labels.annotate(out["subject"], kind="subject_kind")
    labels.annotate(out["scenario"], code="scenario")
    for e in out["lists"]:
        labels.annotate(e, list="list", origin="list_origin")
    for m in [*out["measures"], *out["available_with_commitment"]]:
        _measure(m)
    for w in out["warnings"]:
        labels.annotate(w, rule="warning_rule", severity="alert_severity", status="alert_status")
    for w in out["related"]:
        labels.annotate(w, list="list")
    return out


@router.get("/checks/{check_id}", operation_id="checks_get")
def checks_get(check_id: str, grant: Annotated[Grant, Depends(require("check.run"))], session: DB) -> dict[str, Any]:
    """A recorded check and the feedback reported on it."""
    c = measures_service.get_check(session, check_id)
    grant.require_subject(session, c.subject_id)
    fb = measures_service.feedback_of(session, check_id)
    out = {"check_id": c.check_id, "subject_id": c.subject_id, "scenario": c.scenario, "department": c.department,
           "model": c.model_name, "run_id": c.run_id, "grade": c.grade, "colour": c.colour, "lists": c.lists,
           "measures": c.measures, "checked_on": c.checked_on.isoformat(), "actor": c.actor,
           "feedback": [labels.annotate({"measure": f.measure_code, "applied": f.applied, "reason": f.reason,
                                         "department": f.department, "at": f.at.isoformat(timespec="seconds")},
                                        measure="measure", department="department") for f in fb]}
    return labels.annotate(out, scenario="scenario", department="department", model="model", colour="colour",
                           lists="list", measures="measure")


@router.post("/checks/{check_id}/feedback", status_code=201, operation_id="checks_feedback")
def checks_feedback(check_id: str, body: FeedbackIn, grant: Annotated[Grant, Depends(require("check.run"))],
                    session: DB) -> dict[str, Any]:
    """The checking department reports whether it applied a measure, and why not."""
    c = measures_service.get_check(session, check_id)
    grant.require_subject(session, c.subject_id)
    fb = measures_service.report_feedback(session, check_id=check_id, measure_code=body.measure,
                                          applied=body.applied, reason=body.reason, actor=grant.principal.actor)
    return labels.annotate({"check_id": check_id, "measure": fb.measure_code, "applied": fb.applied,
                            "reason": fb.reason}, measure="measure")


def _measure(m: dict[str, Any]) -> dict[str, Any]:
    """A measure's codes named (a client shows the measure, its kind and its department)."""
    return labels.annotate(m, code="measure", kind="measure_kind", department="department", scenarios="scenario")
