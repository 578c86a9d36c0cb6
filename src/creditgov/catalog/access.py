"""Read logic the data-request edges share (API, pages, CLI): which department a grant
limits the reader to, and the JSON shape of forms, items and their history."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from creditgov.catalog import requests as wf
from creditgov.catalog.models import DataRequest, DataRequestEvent
from creditgov.core import clock
from creditgov.core.errors import NotFound
from creditgov.security.scopes import Grant, Scope


def department_of(grant: Grant) -> str | None:
    """The department a grant is limited to (None: every department). A department
    grant without a department on the account sees nothing."""
    if grant.scope is Scope.DEPARTMENT:
        if not grant.principal.department_code:
            raise NotFound("no department on this account", code="catalog.account.no_department")
        return grant.principal.department_code
    return None


def item_dict(r: DataRequest) -> dict[str, Any]:
    return {"id": r.id, "item": r.item_code, "department": r.department_code, "status": r.status,
            "form_id": r.form_id, "requested_on": r.requested_on.isoformat() if r.requested_on else None,
            "decided_on": r.decided_on.isoformat() if r.decided_on else None, "decided_by": r.decided_by,
            "reason": r.note}


def event_dict(e: DataRequestEvent) -> dict[str, Any]:
    return {"id": e.id, "request_id": e.request_id, "form_id": e.form_id, "action": e.action,
            "from_status": e.from_status, "to_status": e.to_status, "reason": e.reason, "actor": e.actor,
            "at": clock.to_cst(e.at).isoformat()}


def form_dict(session: Session, v: wf.FormView, *, with_history: bool = False) -> dict[str, Any]:
    f = v.form
    out: dict[str, Any] = {
        "id": f.id, "department": f.department_code, "legal_basis": f.legal_basis, "purpose": f.purpose,
        "frequency": f.frequency, "status": f.status, "filed_by": f.filed_by,
        "filed_at": clock.to_cst(f.filed_at).isoformat(),
        "items": [item_dict(r) for r in v.items]}
    if with_history:
        out["history"] = [event_dict(e) for e in wf.history(session, request_ids=[r.id for r in v.items])]
    return out
