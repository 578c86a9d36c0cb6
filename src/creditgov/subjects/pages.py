"""Subject correction and merging pages (主体纠错与合并), `/subject-changes`: the credit
office proposes a correction of a subject's data or the merge of a duplicate; a second
person approves (it is applied then) or rejects; an applied merge can be undone. The
rules are `subjects/changes.py`'s, which the API and the CLI share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.core.errors import CreditGovError, status_of
from creditgov.security.scopes import Principal, authorize
from creditgov.subjects import changes
from creditgov.web.i18n import refusal
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=changes.TEXT_MAX)]
PAGE = "subject_changes.html"
EDITABLE = ("name", "identifier", "region", "industry", "established_on", "address")


def _context(request: Request, session: Session, who: Principal, **extra: Any) -> dict[str, Any]:
    authorize(who, "subject_changes.read")
    ring = ctx(request).keyring
    return {"changes": [changes.change_dict(ring, c) for c in changes.changes(session)],
            "can_propose": who.can("subject_changes.propose"), "can_approve": who.can("subject_changes.approve"),
            "me": who.actor, "fields": EDITABLE, **extra}


def _failed(request: Request, session: Session, who: Principal, exc: CreditGovError, **extra: Any) -> Response:
    session.rollback()
    code = status_of(exc)
    return render(request, PAGE, _context(request, session, who, error=refusal(exc), **extra), status=code)


@router.get("/subject-changes")
def changes_page(request: Request, who: Who, session: DB,
                 done: Annotated[str | None, Query(pattern="^(proposed|approved|rejected|undone)$")] = None
                 ) -> Response:
    return render(request, PAGE, _context(request, session, who, done=done))


@router.post("/subject-changes/merge")
async def merge_propose(request: Request, who: Who, session: DB, survivor_id: Annotated[int, Form(ge=1)],
                        duplicate_id: Annotated[int, Form(ge=1)], reason: Text) -> Response:
    authorize(who, "subject_changes.propose")
    await check_csrf(request, who)
    try:
        changes.propose_merge(session, survivor_id=survivor_id, duplicate_id=duplicate_id, reason=reason,
                              actor=who.actor)
    except CreditGovError as exc:
        return _failed(request, session, who, exc)
    return RedirectResponse("/subject-changes?done=proposed", status_code=303)


@router.post("/subject-changes/correct")
async def correct_propose(request: Request, who: Who, session: DB, subject_id: Annotated[int, Form(ge=1)],
                          reason: Text, name: Text = "", identifier: Text = "", region: Text = "",
                          industry: Text = "", established_on: Text = "", address: Text = "") -> Response:
    authorize(who, "subject_changes.propose")
    await check_csrf(request, who)
    given = {"name": name, "identifier": identifier, "region": region, "industry": industry,
             "established_on": established_on, "address": address}
    try:
        changes.propose_correction(session, ctx(request).keyring, subject_id=subject_id,
                                   fields={k: v for k, v in given.items() if v.strip()}, reason=reason,
                                   actor=who.actor)
    except CreditGovError as exc:
        return _failed(request, session, who, exc, draft=given)
    return RedirectResponse("/subject-changes?done=proposed", status_code=303)


@router.post("/subject-changes/{change_id}/decide")
async def change_decide(request: Request, change_id: Id, who: Who, session: DB,
                        decision: Annotated[str, Form(pattern="^(approve|reject)$")], note: Text = "") -> Response:
    authorize(who, "subject_changes.approve")
    await check_csrf(request, who)
    try:
        c = changes.decide(session, ctx(request).keyring, change_id, approve=decision == "approve", note=note,
                           actor=who.actor)
    except CreditGovError as exc:
        return _failed(request, session, who, exc)
    return RedirectResponse(f"/subject-changes?done={c.status}#change-{c.id}", status_code=303)


@router.post("/subject-changes/{change_id}/undo")
async def change_undo(request: Request, change_id: Id, who: Who, session: DB, reason: Text) -> Response:
    authorize(who, "subject_changes.approve")
    await check_csrf(request, who)
    try:
        c = changes.undo_merge(session, change_id, reason=reason, actor=who.actor)
    except CreditGovError as exc:
        return _failed(request, session, who, exc)
    return RedirectResponse(f"/subject-changes?done=undone#change-{c.id}", status_code=303)
