"""API routes of complaint handling. Thin: the rules are in `complaints.service`, the
shapes in `complaints.access`. `POST /public/complaints` takes a complaint from anyone
(rate-limited like every public route) and answers its number and query code, which
`GET /public/complaints/{number}?code=` needs to show its status and reply.

A known sender's same complaint sent again the same day while it is open (a retried
request; `service.take`) files nothing: the answer (200, `created` false) names the
complaint filed first with a fresh query code that replaces the earlier one
(`query_code_replaces_earlier`, and a `message` saying so in the caller's language)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from creditgov.api.deps import DB, Id, Who, keyring, require
from creditgov.api.ratelimit import public_rate
from creditgov.complaints import access, service
from creditgov.complaints.schemas import AssignIn, ComplaintIn, ObservationIn, ReplyIn
from creditgov.security.scopes import Grant, Role
from creditgov.web.i18n import api_language

router = APIRouter(tags=["complaints"])
Read = Annotated[Grant, Depends(require("complaints.read"))]
File = Annotated[Grant, Depends(require("complaints.file"))]
Assign = Annotated[Grant, Depends(require("complaints.assign"))]
Reply = Annotated[Grant, Depends(require("complaints.reply"))]
Observe = Annotated[Grant, Depends(require("complaints.observe"))]
Number = Annotated[str, Path(max_length=30, pattern=r"^TS\d{8}-\d{5,}$")]


def _answered(request: Request, response: Response, got: service.Intake) -> dict[str, Any]:
    """The intake's part of an answer; a repeated complaint answers 200, not 201."""
    if not got.created:
        response.status_code = 200
    return access.intake_answer(got, api_language(request.cookies, request.headers.get("accept-language")))


@router.post("/public/complaints", status_code=201, operation_id="complaints_file_public",
             dependencies=[Depends(public_rate)])
def file_public(request: Request, response: Response, body: ComplaintIn, session: DB, who: Who) -> dict[str, Any]:
    """File a complaint as the public (no sign-in). Keep the query code: it is shown once.
    The same complaint with the same contact sent again today while it is open answers
    the first (200) with a new query code that replaces the earlier one."""
    actor = who.actor if who.role is not Role.PUBLIC else "public"
    got = service.take(session, keyring(request), body, channel="public", actor=actor)
    c = got.complaint
    return {"number": c.number, "query_code": got.code, "due_on": c.due_on.isoformat(),
            **_answered(request, response, got)}


@router.get("/public/complaints/{number}", operation_id="complaints_status", dependencies=[Depends(public_rate)])
def public_status(number: Number, session: DB, code: Annotated[str, Query(min_length=4, max_length=20)]) -> dict[str, Any]:
    return access.public_status(service.by_number(session, number, code))


@router.post("/complaints", status_code=201, operation_id="complaints_file_office")
def file_office(request: Request, response: Response, body: ComplaintIn, session: DB, grant: File) -> dict[str, Any]:
    """A complaint taken by the office (at the counter or passed on by another system);
    the same one again as `POST /public/complaints` answers it."""
    got = service.take(session, keyring(request), body, channel="api", actor=grant.principal.actor)
    return {**access.as_dict(keyring(request), got.complaint), "query_code": got.code,
            **_answered(request, response, got)}


@router.post("/supervisor/observations", status_code=201, operation_id="complaints_observe")
def observe(request: Request, response: Response, body: ObservationIn, session: DB, grant: Observe) -> dict[str, Any]:
    """A special supervisor files an observation: a complaint marked with its source;
    the same one again today while it is open answers the first (200, a new query code)."""
    got = service.take_observation(session, keyring(request), body, supervisor=grant.principal.actor,
                                   supervisor_name=grant.principal.display_name)
    c = got.complaint
    return {"number": c.number, "query_code": got.code, "due_on": c.due_on.isoformat(), "channel": "supervisor",
            **_answered(request, response, got)}


@router.get("/supervisor/observations", operation_id="complaints_observations")
def observations(session: DB, grant: Observe) -> list[dict[str, Any]]:
    """The supervisor's own observations with their status and reply."""
    return access.observations(session, grant)


@router.get("/complaints", operation_id="complaints_list")
def list_complaints(request: Request, session: DB, grant: Read,
                    status: Annotated[str | None, Query(pattern="^(received|assigned|replied)$")] = None
                    ) -> list[dict[str, Any]]:
    kr = keyring(request)
    return [access.as_dict(kr, c) for c in access.listing(session, grant, status=status)]


@router.get("/complaints/stats", operation_id="complaints_stats")
def complaint_stats(session: DB, grant: Read, since: dt.date | None = None,
                    until: dt.date | None = None) -> list[dict[str, Any]]:
    rows = service.stats(session, since=since, until=until)
    if not access.in_scope_all(grant):
        rows = [r for r in rows if r["department"] == grant.principal.department_code]
    return rows


@router.get("/complaints/{complaint_id}", operation_id="complaints_get")
def read_complaint(request: Request, complaint_id: Id, session: DB, grant: Read) -> dict[str, Any]:
    """The complaint with the complainant's name and contact (an audited personal read)."""
    return access.read_full(session, keyring(request), grant, complaint_id)


@router.post("/complaints/{complaint_id}/assign", operation_id="complaints_assign")
def assign(request: Request, complaint_id: Id, body: AssignIn, session: DB, grant: Assign) -> dict[str, Any]:
    c = service.assign(session, complaint_id, department=body.department, note=body.note,
                       actor=grant.principal.actor)
    return access.as_dict(keyring(request), c)


@router.post("/complaints/{complaint_id}/reply", operation_id="complaints_reply")
def reply(request: Request, complaint_id: Id, body: ReplyIn, session: DB, grant: Reply) -> dict[str, Any]:
    access.one(session, grant, complaint_id)
    c = service.reply(session, keyring(request), complaint_id, outcome=body.outcome, text=body.reply,
                      actor=grant.principal.actor)
    return access.as_dict(keyring(request), c)
