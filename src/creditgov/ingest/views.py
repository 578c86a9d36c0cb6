"""API routes for ingestion batches and the quarantine, a department's file sent in
(`POST /ingest/files`), and manual entry with four eyes. Thin: views over
`ingest.access`, `ingest.uploads` and `ingest.manual`. Quarantined rows of personal
sources are stored encrypted; the API shows the reason and where the row came from,
never the decrypted row. A department officer reads its own department's batches and
rows, sends its own department's sources' files and enters its own department's
records only; evidence files go through the page or the command line."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from creditgov.api.deps import DB, Id, ctx, keyring, require
from creditgov.core.errors import NotFound
from creditgov.ingest import access, manual, uploads
from creditgov.ingest.models import Batch, ManualEntry
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant
from creditgov.workflows.materials import files_dir_for

router = APIRouter(tags=["ingest"])


class BatchOut(BaseModel):
    id: int
    source: str
    file_name: str
    kind: str
    started_at: str
    finished_at: str | None
    actor: str
    read: int
    accepted: int
    corrected: int
    rejected: int
    duplicates: int
    filtered: int


class QuarantineOut(BaseModel):
    id: int
    batch_id: int
    source: str
    file_name: str
    line_no: int
    reason: str
    status: str
    attempts: int
    created_at: str
    encrypted: bool


class SentBatchOut(BatchOut):
    department: str = Field(description="The department the source's spec names")
    reasons: dict[str, int] = Field(description="Rejected rows by the category of their reason "
                                                "(label kind `quarantine_reason`)")


def _batch(b: Batch) -> dict[str, Any]:
    return {"id": b.id, "source": b.source, "file_name": b.file_name, "kind": b.kind,
            "started_at": b.started_at.isoformat(timespec="seconds"),
            "finished_at": b.finished_at.isoformat(timespec="seconds") if b.finished_at else None,
            "actor": b.actor, "read": b.read, "accepted": b.accepted, "corrected": b.corrected,
            "rejected": b.rejected, "duplicates": b.duplicates, "filtered": b.filtered}


@router.get("/ingest/batches", response_model=list[BatchOut], operation_id="ingest_batches")
def ingest_batches(grant: Annotated[Grant, Depends(require("ingest.read"))], session: DB,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[BatchOut]:
    """The newest ingestion batches with their counts (a department's own sources only)."""
    return [BatchOut(**_batch(b)) for b in access.batches(session, access.unit_of(grant), limit=limit)]


@router.post("/ingest/files", response_model=SentBatchOut, status_code=201, operation_id="ingest_upload",
             max_body_size=uploads.request_ceiling(), form_limits={"max_files": 1, "max_fields": 10})
def ingest_upload(grant: Annotated[Grant, Depends(require("ingest.upload"))], request: Request, session: DB,
                  ring: Annotated[KeyRing, Depends(keyring)],
                  spec: Annotated[str, Form(min_length=1, max_length=80, description="The source (its spec's name)")],
                  file: Annotated[UploadFile, File(description="The department's file: CSV, XLSX or JSON lines, "
                                                               "as the source's spec says")]) -> dict[str, Any]:
    """Send a department's file of one source: kept and ingested now as one batch, as
    `creditgov ingest` would (rejected rows quarantined with their reasons, the same file
    sent again adding nothing); answers the batch. A department sends its own sources'
    files only (another's answers 404); the largest file is `CREDITGOV_INGEST_UPLOAD_MB`
    (50 MB unless set)."""
    unit = access.unit_of(grant)
    url = ctx(request).url
    got = uploads.ingest_upload(url, ring, source=spec, unit=unit, filename=file.filename, data=file.file,
                                files_dir=files_dir_for(url), actor=grant.principal.actor)
    b = access.batch_in_scope(session, unit, got["batch"])
    department = access.departments_of(session, {b.spec_version_id}).get(b.spec_version_id, "")
    return {**_batch(b), "department": department, "reasons": dict(access.reason_counts(session, b.id))}


@router.get("/ingest/quarantine", response_model=list[QuarantineOut], operation_id="ingest_quarantine")
def ingest_quarantine(grant: Annotated[Grant, Depends(require("quarantine.read"))], session: DB,
                      source: Annotated[str | None, Query(max_length=80)] = None,
                      batch: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                      status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[QuarantineOut]:
    """Rows ingestion refused, with the reason, awaiting a corrected spec or file (a
    department's own sources only)."""
    return [QuarantineOut(id=r.id, batch_id=r.batch_id, source=r.source, file_name=r.file_name, line_no=r.line_no,
                          reason=r.reason, status=r.status, attempts=r.attempts,
                          created_at=r.created_at.isoformat(timespec="seconds"),
                          encrypted=not r.raw.startswith("{"))
            for r in access.quarantine(session, access.unit_of(grant), source=source, batch_id=batch, status=status,
                                       limit=limit)]


# ----------------------------------------------------------------------------- manual entry (ingest/manual.py)

ManualRead = Annotated[Grant, Depends(require("manual.read"))]
Propose = Annotated[Grant, Depends(require("manual.propose"))]
Approve = Annotated[Grant, Depends(require("manual.approve"))]
Ring = Annotated[KeyRing, Depends(keyring)]


class EntryIn(BaseModel):
    kind: Literal["record", "registration"] = "record"
    department: str = Field(min_length=1, max_length=50)
    fields: dict[str, Annotated[str, Field(max_length=manual.TEXT_MAX)]] = Field(max_length=20)
    reason: str = Field(min_length=1, max_length=manual.TEXT_MAX)


class ManualDecisionIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=manual.TEXT_MAX)


@router.post("/manual-entries", status_code=201, operation_id="manual_entry_propose",
             responses={200: {"description": "The same entry was already waiting: that one, not a second"}})
def manual_entry_propose(body: EntryIn, grant: Propose, session: DB, ring: Ring, response: Response) -> dict[str, Any]:
    """Enter a record or register a subject by hand; it counts once a second person approves
    it. Sent again while the first waits (a retry), it answers the first with 200."""
    unit = access.unit_of(grant)
    if unit is not None and body.department != unit:
        raise NotFound(f"department {body.department!r} is not yours", code="ingest.manual.other_department",
                       params={"department": body.department})
    e, new = manual.propose_once(session, ring, kind=body.kind, department=body.department,
                                 fields=dict(body.fields), reason=body.reason, actor=grant.principal.actor)
    if not new:
        response.status_code = 200
    return manual.entry_dict(ring, e)


@router.get("/manual-entries", operation_id="manual_entries")
def manual_entries(grant: ManualRead, session: DB, ring: Ring) -> list[dict[str, Any]]:
    """Manual entries, newest first (a department sees its own; ID numbers masked)."""
    return [manual.entry_dict(ring, e) for e in manual.entries(session, department=access.unit_of(grant))]


@router.post("/manual-entries/{entry_id}/decision", operation_id="manual_entry_decide")
def manual_entry_decide(entry_id: Id, body: ManualDecisionIn, grant: Approve, session: DB, ring: Ring) -> dict[str, Any]:
    """Approve (it goes through ingestion now) or reject an entry someone else made."""
    if session.get(ManualEntry, entry_id) is None:
        raise NotFound(f"manual entry {entry_id} not found", code="ingest.manual.not_found", params={"id": entry_id})
    e = manual.decide(session, ring, entry_id, approve=body.approve, note=body.note, actor=grant.principal.actor)
    return manual.entry_dict(ring, e)
