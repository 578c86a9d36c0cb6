"""API routes for subjects, the credit file and regions. Thin: the grant from
`security.scopes` decides which subjects and records are reachable; the services
decide what a file holds and audit personal reads; `subjects.access.read_file` applies
the grant's masking, the same for the API and the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from creditgov.api.deps import DB, Id, append_only, keyring, require
from creditgov.core import labels
from creditgov.reports import overview
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant
from creditgov.subjects import changes
from creditgov.subjects.access import find, read_file

router = APIRouter(tags=["subjects"])
Ring = Annotated[KeyRing, Depends(keyring)]
Purpose = Annotated[str | None, Query(max_length=200, description="Why the file is read; written to the audit chain.")]


class SubjectRow(BaseModel):
    id: int
    kind: str
    name: str
    uscc: str | None
    resident_id: str | None
    status: str
    industry: str | None
    region_code: str | None
    region_name: str | None
    colour: str | None = Field(description="The subject's colour code as the dashboard counts it (green, yellow, "
                                           "red); null when no model has scored it")


class SearchOut(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[SubjectRow]


class RegionOut(BaseModel):
    code: str
    name: str
    level: str
    depth: int
    path: str


@router.get("/subjects", response_model=SearchOut, operation_id="subjects_search")
def subjects_search(grant: Annotated[Grant, Depends(require("subjects.search"))], session: DB, ring: Ring,
                    q: Annotated[str | None, Query(max_length=100, description="Name part, credit code, ID number or id")] = None,
                    kind: Annotated[str | None, Query(max_length=30)] = None,
                    region: Annotated[str | None, Query(max_length=40, description="Region code: its subtree")] = None,
                    colour: Annotated[str | None, Query(max_length=20, description=(
                        "green, yellow or red: the subjects of that colour code, counted as the dashboard "
                        "counts them; another value is refused (422)"))] = None,
                    limit: Annotated[int, Query(ge=1, le=100)] = 20,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> SearchOut:
    """Subjects in your data scope, each with its colour code."""
    r = find(session, ring, grant, q=q, kind=kind, region=region, colour=colour, limit=limit, offset=offset)
    return SearchOut(total=r.total, limit=limit, offset=offset, items=[SubjectRow(**i) for i in r.items])


@router.get("/subjects/{subject_id}", operation_id="subjects_file")
@append_only
def subjects_file(subject_id: Id, grant: Annotated[Grant, Depends(require("subjects.read"))], session: DB,
                  ring: Ring, purpose: Purpose = None) -> dict[str, Any]:
    """The credit file (一户一档): facts, grid, linked people, records with provenance
    and status history, and who has read it. Reading a person's file is audited. Each
    record keeps its stored `value` and adds `value_display`: the value in words in both
    languages (`{"zh": "168,720.42 元", "en": "168,720.42 yuan"}`), null without a value."""
    out = labels.annotate(read_file(session, ring, grant, subject_id, purpose), kind="subject_kind",
                          status="subject_status", industry="industry")
    for r in out["records"]:
        labels.annotate(r, item="item", department="department", status="record_status")
    for lk in out["links"]:
        labels.annotate(lk, role="link_role")
    for rg in out["region"]:
        labels.annotate(rg, code="region")
    return out


@router.get("/subjects/{subject_id}/scores", operation_id="subjects_scores")
def subjects_scores(subject_id: Id, grant: Annotated[Grant, Depends(require("subjects.read"))],
                    session: DB) -> list[dict[str, Any]]:
    """The subject's result in the newest run of each model."""
    grant.require_subject(session, subject_id)
    return overview.subject_scores(session, subject_id)


@router.get("/regions", response_model=list[RegionOut], operation_id="regions_list")
def regions_list(grant: Annotated[Grant, Depends(require("regions.read"))], session: DB) -> list[RegionOut]:
    """The region tree: county, streets, grids and micro-grids."""
    return [RegionOut(**r) for r in overview.region_tree(session)]


# ----------------------------------------------------------------- correction and merging (subjects/changes.py)

ChangesRead = Annotated[Grant, Depends(require("subject_changes.read"))]
ChangesPropose = Annotated[Grant, Depends(require("subject_changes.propose"))]
ChangesApprove = Annotated[Grant, Depends(require("subject_changes.approve"))]
Text = Annotated[str, Field(min_length=1, max_length=changes.TEXT_MAX)]


class CorrectionIn(BaseModel):
    subject_id: int = Field(ge=1)
    fields: dict[str, str | dict[str, Annotated[str, Field(max_length=changes.TEXT_MAX)]]] = Field(max_length=10)
    reason: Text


class MergeIn(BaseModel):
    survivor_id: int = Field(ge=1)
    duplicate_id: int = Field(ge=1)
    reason: Text


class ChangeDecisionIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=changes.TEXT_MAX)


class UndoIn(BaseModel):
    reason: Text


@router.get("/subject-changes", operation_id="subject_changes")
def subject_changes(grant: ChangesRead, session: DB, ring: Ring,
                    status: Annotated[str | None, Query(pattern="^(proposed|approved|rejected|undone)$")] = None
                    ) -> list[dict[str, Any]]:
    """Corrections and merges, newest first (ID numbers masked)."""
    return [changes.change_dict(ring, c) for c in changes.changes(session, status=status)]


@router.post("/subject-changes/corrections", status_code=201, operation_id="subject_correction_propose")
def subject_correction_propose(body: CorrectionIn, grant: ChangesPropose, session: DB, ring: Ring) -> dict[str, Any]:
    """Propose a correction of a subject's data; applied once a second person approves it."""
    c = changes.propose_correction(session, ring, subject_id=body.subject_id, fields=dict(body.fields),
                                   reason=body.reason, actor=grant.principal.actor)
    return changes.change_dict(ring, c)


@router.post("/subject-changes/merges", status_code=201, operation_id="subject_merge_propose")
def subject_merge_propose(body: MergeIn, grant: ChangesPropose, session: DB, ring: Ring) -> dict[str, Any]:
    """Propose merging a duplicate into a survivor; done once a second person approves it."""
    c = changes.propose_merge(session, survivor_id=body.survivor_id, duplicate_id=body.duplicate_id,
                              reason=body.reason, actor=grant.principal.actor)
    return changes.change_dict(ring, c)


@router.post("/subject-changes/{change_id}/decision", operation_id="subject_change_decide")
def subject_change_decide(change_id: Id, body: ChangeDecisionIn, grant: ChangesApprove, session: DB,
                          ring: Ring) -> dict[str, Any]:
    """A second person approves (the change is applied) or rejects (with a reason)."""
    c = changes.decide(session, ring, change_id, approve=body.approve, note=body.note, actor=grant.principal.actor)
    return changes.change_dict(ring, c)


@router.post("/subject-changes/{change_id}/undo", operation_id="subject_merge_undo")
def subject_merge_undo(change_id: Id, body: UndoIn, grant: ChangesApprove, session: DB, ring: Ring) -> dict[str, Any]:
    """Undo an applied merge exactly, or 409 naming the rows that stop it."""
    c = changes.undo_merge(session, change_id, reason=body.reason, actor=grant.principal.actor)
    return changes.change_dict(ring, c)
