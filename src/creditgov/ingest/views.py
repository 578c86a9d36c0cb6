"""API routes for ingestion batches and the quarantine. Thin: read-only views over
`ingest.service`. Quarantined rows of personal sources are stored encrypted; the
API shows the reason and where the row came from, never the decrypted row."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from creditgov.api.deps import DB, require
from creditgov.ingest import service as ingest_service
from creditgov.security.scopes import Grant

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


@router.get("/ingest/batches", response_model=list[BatchOut], operation_id="ingest_batches")
def ingest_batches(grant: Annotated[Grant, Depends(require("ingest.read"))], session: DB,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[BatchOut]:
    """The newest ingestion batches with their counts."""
    return [BatchOut(id=b.id, source=b.source, file_name=b.file_name, kind=b.kind,
                     started_at=b.started_at.isoformat(timespec="seconds"),
                     finished_at=b.finished_at.isoformat(timespec="seconds") if b.finished_at else None,
                     actor=b.actor, read=b.read, accepted=b.accepted, corrected=b.corrected, rejected=b.rejected,
                     duplicates=b.duplicates, filtered=b.filtered)
            for b in ingest_service.batches(session, limit=limit)]


@router.get("/ingest/quarantine", response_model=list[QuarantineOut], operation_id="ingest_quarantine")
def ingest_quarantine(grant: Annotated[Grant, Depends(require("quarantine.read"))], session: DB,
                      source: Annotated[str | None, Query(max_length=80)] = None,
                      status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[QuarantineOut]:
    """Rows ingestion refused, with the reason, awaiting a corrected spec or file."""
    return [QuarantineOut(id=r.id, batch_id=r.batch_id, source=r.source, file_name=r.file_name, line_no=r.line_no,
                          reason=r.reason, status=r.status, attempts=r.attempts,
                          created_at=r.created_at.isoformat(timespec="seconds"),
                          encrypted=not r.raw.startswith("{"))
            for r in ingest_service.quarantine(session, source=source, status=status, limit=limit)]
