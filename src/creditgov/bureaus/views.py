"""API routes of the bureau export: list runs, start a bureau's next run, record a
bureau's acknowledgement. Thin: the rules are in `bureaus.service` (the same calls as
`creditgov bureau runs|export|ack`); the credit office and administrators only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from creditgov.api.deps import DB, keyring, require
from creditgov.bureaus import service
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant

router = APIRouter(tags=["bureaus"])
Read = Annotated[Grant, Depends(require("bureaus.read"))]
Manage = Annotated[Grant, Depends(require("bureaus.manage"))]
Ring = Annotated[KeyRing, Depends(keyring)]
Code = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Seq = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/bureaus/runs", operation_id="bureau_runs")
def bureau_runs(grant: Read, session: DB, bureau: Annotated[str | None, Query(max_length=40)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    """Runs, newest first, with their status (pending, written, acknowledged)."""
    return [service.run_dict(r) for r in service.runs(session, bureau=bureau or None, limit=limit)]


@router.post("/bureaus/{bureau}/runs", status_code=201, operation_id="bureau_run_start")
def bureau_run_start(grant: Manage, request: Request, ring: Ring, bureau: Code) -> dict[str, Any]:
    """Make and write the bureau's next run now (after any left unwritten). The run
    takes its own transactions (it writes a file between them)."""
    return service.export(request.app.state.ctx.url, ring, bureau=bureau, actor=grant.principal.actor)


@router.post("/bureaus/{bureau}/runs/{seq}/ack", operation_id="bureau_run_ack")
def bureau_run_ack(grant: Manage, session: DB, bureau: Code, seq: Seq,
                   ref: Annotated[str | None, Body(embed=True, max_length=500)] = None) -> dict[str, Any]:
    """The bureau confirmed it took a written run (`ref`: its receipt number or note)."""
    return service.run_dict(service.acknowledge(session, bureau=bureau, seq=seq, ref=ref,
                                                actor=grant.principal.actor))
