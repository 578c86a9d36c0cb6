"""The service-hall window pages: a staff mode of the query and objection pages.

- `/hall`: the window's desk — open a counter session for a visitor who signs in on
  the counter device (ID number and its own password; its user name when the subject
  has several accounts; its authenticator code when it has one), and the staff member's
  own sessions still open.
- `/hall/sessions/{id}`: the visitor's own credit report, read for it, with a form per
  record to object on its behalf, the session's time-out, and the button that ends it.

Every step is on the audit chain with the staff member and the visitor
(`hall.service`). A session timed out sends staff back to the desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditgov.api.deps import DB, Id, Who, check_csrf, client_address, keyring
from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound, status_of
from creditgov.hall import service
from creditgov.hall.models import CounterSession
from creditgov.security.attempts import TooManyAttempts
from creditgov.security.scopes import Unauthenticated, authorize
from creditgov.web.i18n import refusal
from creditgov.web.render import _, render
from creditgov.workflows.models import OBJECTION_OPEN

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Short = Annotated[str, Form(max_length=200)]


def _cst(moment: Any) -> str:
    return clock.to_cst(moment).strftime("%Y-%m-%d %H:%M")


def _desk(request: Request, session: DB, who: Who, *, done: str | None = None, error: str | None = None,
          values: dict[str, str] | None = None, status: int = 200) -> Response:
    authorize(who, "hall.serve")
    rows = [{"id": cs.id, "visitor": cs.visitor, "window": cs.window, "opened": _cst(cs.opened_at),
             "ends": _cst(service.ends_at(cs))} for cs in service.open_sessions(session, staff=who.actor)]
    return render(request, "hall.html", {"rows": rows, "done": done, "error": error, "values": values or {},
                                         "policy": service.policy()}, status=status)


@router.get("/hall")
def desk(request: Request, who: Who, session: DB,
         done: Annotated[str | None, Query(pattern="^(ended|timeout)$")] = None) -> Response:
    return _desk(request, session, who, done=done)


@router.post("/hall/sessions")
async def open_session(request: Request, who: Who, session: DB, id_number: Annotated[str, Form(max_length=30)],
                       password: Annotated[str, Form(max_length=200)], username: Short = "", code: Short = "",
                       window: Annotated[str, Form(max_length=40)] = "") -> Response:
    authorize(who, "hall.serve")
    await check_csrf(request, who)
    values = {"id_number": id_number, "username": username, "window": window}
    try:
        cs = service.open_session(session, keyring(request), staff=who.actor, id_number=id_number, password=password,
                                  client=client_address(request), username=username or None, code=code or None,
                                  window=window or None)
    except Unauthenticated:
        # the failure stays recorded (lock-out): no rollback
        return _desk(request, session, who, error=_("证件号码或密码错误。"), values=values, status=401)
    except TooManyAttempts as exc:
        return _desk(request, session, who, values=values, status=429,
                     error=_("失败次数过多，请 %(m)s 分钟后再试。", m=(exc.retry_after + 59) // 60))
    except InvalidInput as exc:
        session.rollback()
        return _desk(request, session, who, error=refusal(exc), values=values, status=status_of(exc))
    return RedirectResponse(f"/hall/sessions/{cs.id}", status_code=303)


def _live(session: DB, who: Who, session_id: int) -> CounterSession | Response:
    authorize(who, "hall.serve")
    try:
        return service.live(session, session_id, staff=who.actor)
    except service.CounterClosed:
        return RedirectResponse("/hall?done=timeout", status_code=303)   # the time-out is committed


def _session_page(request: Request, session: DB, cs: CounterSession, *, done: str | None = None,
                  error: str | None = None, status: int = 200) -> Response:
    v = service.report(session, keyring(request), cs)
    open_objections = {o["record_id"]: o for o in v["objections"] if o["status"] in OBJECTION_OPEN}
    rows = [{**r, "open_objection": open_objections.get(r["id"]),
             "can_object": r["status"] == "active" and r["is_current"]} for r in v["file"]["records"]]
    return render(request, "hall_session.html", {
        "cs": cs, "v": v, "f": v["file"], "rows": rows, "done": done, "error": error,
        "opened": _cst(cs.opened_at), "ends": _cst(service.ends_at(cs))}, status=status)


@router.get("/hall/sessions/{session_id}")
def session_page(request: Request, session_id: Id, who: Who, session: DB,
                 done: Annotated[str | None, Query(pattern="^filed$")] = None) -> Response:
    cs = _live(session, who, session_id)
    return cs if isinstance(cs, Response) else _session_page(request, session, cs, done=done)


@router.post("/hall/sessions/{session_id}/objections")
async def object_to(request: Request, session_id: Id, who: Who, session: DB,
                    record_id: Annotated[list[int], Form(max_length=20)],
                    reason: Annotated[str, Form(max_length=2000)]) -> Response:
    authorize(who, "hall.serve")
    await check_csrf(request, who)
    cs = _live(session, who, session_id)
    if isinstance(cs, Response):
        return cs
    try:
        service.object_to(session, cs, record_ids=record_id, reason=reason)
    except (InvalidInput, NotFound) as exc:
        session.rollback()
        again = _live(session, who, session_id)  # the session may have timed out meanwhile
        if isinstance(again, Response):
            return again
        return _session_page(request, session, again, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/hall/sessions/{cs.id}?done=filed", status_code=303)


@router.post("/hall/sessions/{session_id}/end")
async def end(request: Request, session_id: Id, who: Who, session: DB) -> Response:
    authorize(who, "hall.serve")
    await check_csrf(request, who)
    cs = _live(session, who, session_id)
    if isinstance(cs, Response):
        return cs
    service.end(session, cs)
    return RedirectResponse("/hall?done=ended", status_code=303)
