"""The complaints pages.

- `/public/complaints/new`: anyone files a complaint (rate-limited like every public
  page; no sign-in); the answer — `/public/complaints/received`, after a redirect —
  shows the number and a query code, once.
- `/public/complaints/status`: the complainant follows it with number and query code.
- `/complaints`: the office's and departments' desk — the list with deadlines, the
  statistics by department, and the counter form (an office user enters a complaint);
  the list as `/complaints/export.xlsx` or `.csv` (the reader's complaints under the
  page's status filter, all of them, audited; issue 19).
- `/complaints/{id}`: one complaint (an audited read of the complainant's details),
  with assignment (office) and the reply (office or the assigned department).
- `/supervisor`: a special supervisor (特约监督员) files observations, which enter the
  complaint procedure marked with their source, and follows its own.

Every form that files answers with a redirect to a page (POST-redirect-GET), so a
refresh does not send it again; a submission sent twice all the same (a second click,
the back button) answers the complaint the first one filed (`service.take`) with a
fresh query code that replaces the one given before, and the page says so — after a
double click the browser shows the second answer, whose code is the one that works. The
query code rides to that page in a short-lived cookie of its own path, shown once when
it matches the complaint (checked against its hash) and then cleared: it never goes
into an address. A special supervisor's page shows no query code (its observations are
followed there), so its repeats keep the code as it was."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx, keyring
from creditgov.catalog.models import Department
from creditgov.complaints import access, service
from creditgov.complaints.schemas import ComplaintIn, ObservationIn
from creditgov.core.errors import Conflict, InvalidInput, NotFound, status_of
from creditgov.security import service as audit
from creditgov.security.scopes import Grant, Role, authorize
from creditgov.web import exports, i18n
from creditgov.web.forms import invalid_form
from creditgov.web.i18n import refusal
from creditgov.web.render import _, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]


def _limit(request: Request) -> None:
    request.app.state.public_limiter.hit(request.client.host if request.client else "unknown")


def _form_ctx(values: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
    return {"categories": service.policy().categories, "values": values or {}, "error": error,
            "policy": service.policy()}


def _errors(exc: ValidationError, *, supervisor: bool = False) -> str:
    """The form's faults in the reader's language, each field by its label on the form
    (a special supervisor's observation form names the same fields its own way)."""
    if supervisor:
        return invalid_form(exc, {"category": _("意见类别"), "respondent_name": _("所涉单位或事项"),
                                  "respondent_code": _("所涉单位统一社会信用代码（如知道）"), "content": _("监督意见"),
                                  "contact": _("联系方式：手机号或电子邮箱（可不填）")})
    return invalid_form(exc, {"category": _("投诉类别"), "respondent_name": _("被投诉单位名称"),
                              "respondent_code": _("被投诉单位统一社会信用代码（如知道）"), "content": _("投诉内容"),
                              "complainant_name": _("投诉人姓名（可不填）"),
                              "contact": _("联系方式：手机号或电子邮箱（可不填）")})


def _take(request: Request, session: DB, *, channel: str, actor: str, values: dict[str, Any]) -> service.Intake:
    data = ComplaintIn.model_validate({k: (v or None) if k in ("respondent_code", "complainant_name", "contact")
                                       else v for k, v in values.items()})
    return service.take(session, keyring(request), data, channel=channel, actor=actor)


CODE_COOKIE = "complaint_code"
RECEIVED = "/public/complaints/received"
NUMBER = r"^TS\d{8}-\d{5,}$"


def _hand_code(request: Request, resp: Response, got: service.Intake, path: str) -> Response:
    """A query code — a new complaint's, or the fresh one a repeated complaint got — to
    the page the redirect goes to, in a cookie of that page's path alone, for a few
    minutes (the code is not kept in the clear)."""
    if got.code is not None:
        resp.set_cookie(CODE_COOKIE, f"{got.complaint.number}.{got.code}", max_age=600, path=path, httponly=True,
                        samesite="strict", secure=ctx(request).secure_cookies)
    return resp


def _code_handed(request: Request, session: Session, number: str) -> tuple[Any, str] | None:
    """(the complaint, its query code) when the cookie holds this complaint's true code."""
    held, _dot, code = request.cookies.get(CODE_COOKIE, "").partition(".")
    if held != number or not code:
        return None
    try:
        return service.by_number(session, number, code), code
    except NotFound:
        return None


def _shown_once(request: Request, resp: Response, path: str) -> Response:
    if CODE_COOKIE in request.cookies:
        resp.delete_cookie(CODE_COOKIE, path=path, httponly=True, samesite="strict",
                           secure=ctx(request).secure_cookies)
    return resp


@router.get("/public/complaints/new")
def public_form(request: Request, who: Who) -> Response:
    _limit(request)
    return render(request, "complaint_public.html", _form_ctx())


@router.post("/public/complaints/new")
async def public_file(request: Request, who: Who, session: DB, category: Short, respondent_name: Short,
                      content: Text, respondent_code: Short = "", complainant_name: Short = "",
                      contact: Short = "") -> Response:
    _limit(request)
    await check_csrf(request, who)
    values = {"category": category, "respondent_name": respondent_name, "respondent_code": respondent_code,
              "content": content, "complainant_name": complainant_name, "contact": contact}
    try:
        got = _take(request, session, channel="public",
                    actor="public" if who.role is Role.PUBLIC else who.actor, values=values)
    except ValidationError as exc:
        return render(request, "complaint_public.html", _form_ctx(values, _errors(exc)), status=422)
    except InvalidInput as exc:
        session.rollback()
        return render(request, "complaint_public.html", _form_ctx(values, refusal(exc)), status=status_of(exc))
    again = "" if got.created else "&again=1"
    resp = RedirectResponse(f"/public/complaints/received?number={got.complaint.number}{again}", status_code=303)
    return _hand_code(request, resp, got, RECEIVED)


@router.get(RECEIVED)
def public_received(request: Request, who: Who, session: DB,
                    number: Annotated[str, Query(max_length=30, pattern=NUMBER)],
                    again: Annotated[bool, Query()] = False) -> Response:
    """The answer to the public form: the number; the query code and the deadline
    once, to the browser that filed it; for the same complaint sent again, that it came
    before, and the new query code that replaces the earlier one."""
    _limit(request)
    handed = _code_handed(request, session, number)
    c, code = handed if handed else (None, None)
    resp = render(request, "complaint_received.html", {"number": number, "c": c, "code": code, "again": again})
    return _shown_once(request, resp, RECEIVED)


@router.get("/public/complaints/status")
def public_status(request: Request, who: Who, session: DB,
                  number: Annotated[str, Query(max_length=30)] = "",
                  code: Annotated[str, Query(max_length=20)] = "") -> Response:
    _limit(request)
    found, error = None, None
    if number and code:
        try:
            found = access.public_status(service.by_number(session, number, code))
        except NotFound:
            error = "not_found"
    return render(request, "complaint_status.html", {"found": found, "error": error, "number": number},
                  status=404 if error else 200)


def _stats(session: Session, grant: Grant) -> list[dict[str, Any]]:
    """The statistics by department as the reader may see them: a department its own."""
    stats = service.stats(session)
    if not access.in_scope_all(grant):
        stats = [r for r in stats if r["department"] == grant.principal.department_code]
    return stats


def _desk(request: Request, session: DB, who: Who, *, status: str | None = None, error: str | None = None,
          values: dict[str, Any] | None = None, filed: str | None = None, again: bool = False) -> Response:
    grant = authorize(who, "complaints.read")
    rows = [access.as_dict(keyring(request), c) for c in access.listing(session, grant, status=status)]
    stats = _stats(session, grant)
    can_file = who.role in (Role.CREDIT_OFFICE, Role.DEPARTMENT)
    handed = _code_handed(request, session, filed) if filed else None
    resp = render(request, "complaints.html", {**_form_ctx(values, error), "rows": rows, "stats": stats,
                                               "status": status, "can_file": can_file, "filed": filed,
                                               "again": again, "code": handed[1] if handed else None},
                  status=422 if error else 200)
    return _shown_once(request, resp, "/complaints")


@router.get("/complaints")
def desk(request: Request, who: Who, session: DB,
         status: Annotated[str | None, Query(pattern="^(received|assigned|replied)$")] = None,
         filed: Annotated[str | None, Query(max_length=30, pattern=NUMBER)] = None,
         again: Annotated[bool, Query()] = False) -> Response:
    """The desk; after the counter form of an officer who may not read the new complaint
    yet (a department's, before assignment), the number it filed (`filed`)."""
    return _desk(request, session, who, status=status, filed=filed, again=again)


@router.get("/complaints/export.{fmt}")
def desk_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern=exports.FMT)],
                status: Annotated[str | None, Query(pattern="^(received|assigned|replied)$")] = None) -> Response:
    grant = authorize(who, "complaints.read")
    lang = i18n.page_language(request.cookies)
    rows = list(access.export_rows(access.listing(session, grant, status=status, limit=None), lang=lang))
    audit.append(session, action="complaints.export", actor=who.actor,
                 detail={"format": fmt, "status": status, "rows": len(rows)})
    session.commit()  # the entry is written before the file goes out
    return exports.stream(fmt, filename=f"complaints{'-' + status if status else ''}",
                          title="投诉处理" if lang == "zh" else "Complaints", header=access.HEADER[lang],
                          rows=iter(rows), count=len(rows))


@router.get("/complaints/stats.{fmt}")
def stats_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern=exports.FMT)]) -> Response:
    """The page's statistics by department (a department its own row), audited."""
    grant = authorize(who, "complaints.read")
    lang = i18n.page_language(request.cookies)
    rows = list(access.stats_rows(_stats(session, grant), lang=lang))
    audit.append(session, action="complaints.export", actor=who.actor,
                 detail={"format": fmt, "table": "stats", "rows": len(rows)})
    session.commit()
    return exports.stream(fmt, filename="complaints-by-department",
                          title="各部门办理情况" if lang == "zh" else "Complaints by department",
                          header=access.STATS_HEADER[lang], rows=iter(rows), count=len(rows))


@router.post("/complaints/counter")
async def counter(request: Request, who: Who, session: DB, category: Short, respondent_name: Short, content: Text,
                  respondent_code: Short = "", complainant_name: Short = "", contact: Short = "") -> Response:
    authorize(who, "complaints.file")
    await check_csrf(request, who)
    values = {"category": category, "respondent_name": respondent_name, "respondent_code": respondent_code,
              "content": content, "complainant_name": complainant_name, "contact": contact}
    try:
        got = _take(request, session, channel="counter", actor=who.actor, values=values)
    except ValidationError as exc:
        return _desk(request, session, who, error=_errors(exc), values=values)
    except InvalidInput as exc:
        session.rollback()
        return _desk(request, session, who, error=refusal(exc), values=values)
    c = got.complaint
    if access.in_scope(authorize(who, "complaints.read"), c):
        path = f"/complaints/{c.id}"
        resp = RedirectResponse(f"{path}?done={'filed' if got.created else 'resubmitted'}", status_code=303)
    else:  # a department's officer does not read a complaint before it is assigned to its department
        path = "/complaints"
        resp = RedirectResponse(f"{path}?filed={c.number}{'' if got.created else '&again=1'}", status_code=303)
    return _hand_code(request, resp, got, path)


def _detail(request: Request, session: DB, who: Who, complaint_id: int, *, error: str | None = None,
            status: int = 200, values: dict[str, Any] | None = None, done: str | None = None) -> Response:
    grant = authorize(who, "complaints.read")
    c = access.read_full(session, keyring(request), grant, complaint_id)
    departments = session.query(Department).order_by(Department.code).all()
    can_assign = who.role is Role.CREDIT_OFFICE
    can_reply = who.role in (Role.CREDIT_OFFICE, Role.DEPARTMENT)
    handed = _code_handed(request, session, c["number"]) if done in ("filed", "resubmitted") else None
    resp = render(request, "complaint.html", {"c": c, "departments": departments, "can_assign": can_assign,
                                              "can_reply": can_reply, "error": error, "values": values or {},
                                              "done": done, "code": handed[1] if handed else None},
                  status=status)
    return _shown_once(request, resp, f"/complaints/{complaint_id}")


@router.get("/complaints/{complaint_id}")
def detail(request: Request, complaint_id: Id, who: Who, session: DB,
           done: Annotated[str | None, Query(pattern="^(filed|resubmitted|assigned|replied)$")] = None) -> Response:
    return _detail(request, session, who, complaint_id, done=done)


@router.post("/complaints/{complaint_id}/assign")
async def assign(request: Request, complaint_id: Id, who: Who, session: DB,
                 department: Annotated[str, Form(max_length=50)], note: Text = "") -> Response:
    grant = authorize(who, "complaints.assign")
    await check_csrf(request, who)
    access.one(session, grant, complaint_id)
    try:
        service.assign(session, complaint_id, department=department, note=note, actor=who.actor)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        return _detail(request, session, who, complaint_id, error=refusal(exc), status=status_of(exc),
                       values={"department": department, "note": note})
    return RedirectResponse(f"/complaints/{complaint_id}?done=assigned", status_code=303)


@router.post("/complaints/{complaint_id}/reply")
async def reply(request: Request, complaint_id: Id, who: Who, session: DB,
                outcome: Annotated[str, Form(pattern="^(substantiated|unsubstantiated|not_accepted)$")],
                text: Text) -> Response:
    grant = authorize(who, "complaints.reply")
    await check_csrf(request, who)
    access.one(session, grant, complaint_id)
    try:
        service.reply(session, keyring(request), complaint_id, outcome=outcome, text=text, actor=who.actor)
    except (Conflict, InvalidInput) as exc:
        session.rollback()  # what was typed stays in the form, to be sent again once the refusal is met
        return _detail(request, session, who, complaint_id, error=refusal(exc), status=status_of(exc),
                       values={"outcome": outcome, "text": text})
    return RedirectResponse(f"/complaints/{complaint_id}?done=replied", status_code=303)


# ------------------------------------------------------------------ special supervisors
def _supervisor(request: Request, session: DB, who: Who, *, done: int | None = None, again: bool = False,
                error: str | None = None, values: dict[str, Any] | None = None, status: int = 200) -> Response:
    grant = authorize(who, "complaints.observe")
    rows = access.observations(session, grant)
    filed = next((o for o in rows if o["id"] == done), None)   # its own observations only
    return render(request, "complaint_supervisor.html", {
        **_form_ctx(values, error), "rows": rows, "done": filed, "again": again}, status=status)


@router.get("/supervisor")
def supervisor_page(request: Request, who: Who, session: DB,
                    filed: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    again: Annotated[bool, Query()] = False) -> Response:
    """A special supervisor's page: file an observation, follow its own observations.
    What it reads of subjects is the public pages' (`/public/...`)."""
    return _supervisor(request, session, who, done=filed, again=again)


@router.post("/supervisor/observations")
async def supervisor_file(request: Request, who: Who, session: DB, category: Short, respondent_name: Short,
                          content: Text, respondent_code: Short = "", contact: Short = "") -> Response:
    authorize(who, "complaints.observe")
    await check_csrf(request, who)
    values = {"category": category, "respondent_name": respondent_name, "respondent_code": respondent_code,
              "content": content, "contact": contact}
    try:
        data = ObservationIn.model_validate({k: (v or None) if k in ("respondent_code", "contact") else v
                                             for k, v in values.items()})
        got = service.take_observation(session, keyring(request), data, supervisor=who.actor,
                                       supervisor_name=who.display_name, reissue=False)
    except ValidationError as exc:
        return _supervisor(request, session, who, error=_errors(exc, supervisor=True), values=values, status=422)
    except InvalidInput as exc:
        session.rollback()
        return _supervisor(request, session, who, error=refusal(exc), values=values, status=status_of(exc))
    again = "" if got.created else "&again=1"
    return RedirectResponse(f"/supervisor?filed={got.complaint.id}{again}", status_code=303)
