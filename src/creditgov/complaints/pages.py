"""The complaints pages.

- `/public/complaints/new`: anyone files a complaint (rate-limited like every public
  page; no sign-in); the answer shows the number and a query code, once.
- `/public/complaints/status`: the complainant follows it with number and query code.
- `/complaints`: the office's and departments' desk — the list with deadlines, the
  statistics by department, and the counter form (an office user enters a complaint);
  the list as `/complaints/export.xlsx` or `.csv` (the reader's complaints under the
  page's status filter, all of them, audited; issue 19).
- `/complaints/{id}`: one complaint (an audited read of the complainant's details),
  with assignment (office) and the reply (office or the assigned department).
- `/supervisor`: a special supervisor (特约监督员) files observations, which enter the
  complaint procedure marked with their source, and follows its own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, keyring
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


def _take(request: Request, session: DB, *, channel: str, actor: str, values: dict[str, Any]) -> tuple[Any, str]:
    data = ComplaintIn.model_validate({k: (v or None) if k in ("respondent_code", "complainant_name", "contact")
                                       else v for k, v in values.items()})
    return service.file_complaint(session, keyring(request), data, channel=channel, actor=actor)


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
        c, code = _take(request, session, channel="public",
                        actor="public" if who.role is Role.PUBLIC else who.actor, values=values)
    except ValidationError as exc:
        return render(request, "complaint_public.html", _form_ctx(values, _errors(exc)), status=422)
    except InvalidInput as exc:
        session.rollback()
        return render(request, "complaint_public.html", _form_ctx(values, refusal(exc)), status=status_of(exc))
    return render(request, "complaint_received.html", {"c": c, "code": code}, status=201)


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
          values: dict[str, Any] | None = None, code: str = "") -> Response:
    grant = authorize(who, "complaints.read")
    rows = [access.as_dict(keyring(request), c) for c in access.listing(session, grant, status=status)]
    stats = _stats(session, grant)
    can_file = who.role in (Role.CREDIT_OFFICE, Role.DEPARTMENT)
    return render(request, "complaints.html", {**_form_ctx(values, error), "rows": rows, "stats": stats,
                                               "status": status, "can_file": can_file, "code": code},
                  status=422 if error else 200)


@router.get("/complaints")
def desk(request: Request, who: Who, session: DB,
         status: Annotated[str | None, Query(pattern="^(received|assigned|replied)$")] = None) -> Response:
    return _desk(request, session, who, status=status)


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
        c, code = _take(request, session, channel="counter", actor=who.actor, values=values)
    except ValidationError as exc:
        return _desk(request, session, who, error=_errors(exc), values=values)
    except InvalidInput as exc:
        session.rollback()
        return _desk(request, session, who, error=refusal(exc), values=values)
    return render(request, "complaint_received.html", {"c": c, "code": code, "counter": True}, status=201)


def _detail(request: Request, session: DB, who: Who, complaint_id: int, *, error: str | None = None,
            status: int = 200) -> Response:
    grant = authorize(who, "complaints.read")
    c = access.read_full(session, keyring(request), grant, complaint_id)
    departments = session.query(Department).order_by(Department.code).all()
    can_assign = who.role is Role.CREDIT_OFFICE
    can_reply = who.role in (Role.CREDIT_OFFICE, Role.DEPARTMENT)
    return render(request, "complaint.html", {"c": c, "departments": departments, "can_assign": can_assign,
                                              "can_reply": can_reply, "error": error},
                  status=status)


@router.get("/complaints/{complaint_id}")
def detail(request: Request, complaint_id: Id, who: Who, session: DB) -> Response:
    return _detail(request, session, who, complaint_id)


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
        return _detail(request, session, who, complaint_id, error=refusal(exc), status=status_of(exc))
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
        session.rollback()
        return _detail(request, session, who, complaint_id, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/complaints/{complaint_id}?done=replied", status_code=303)


# ------------------------------------------------------------------ special supervisors
def _supervisor(request: Request, session: DB, who: Who, *, done: Any = None, error: str | None = None,
                values: dict[str, Any] | None = None, status: int = 200) -> Response:
    grant = authorize(who, "complaints.observe")
    return render(request, "complaint_supervisor.html", {
        **_form_ctx(values, error), "rows": access.observations(session, grant), "done": done}, status=status)


@router.get("/supervisor")
def supervisor_page(request: Request, who: Who, session: DB) -> Response:
    """A special supervisor's page: file an observation, follow its own observations.
    What it reads of subjects is the public pages' (`/public/...`)."""
    return _supervisor(request, session, who)


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
        c, _code = service.file_observation(session, keyring(request), data, supervisor=who.actor,
                                            supervisor_name=who.display_name)
    except ValidationError as exc:
        return _supervisor(request, session, who, error=_errors(exc, supervisor=True), values=values, status=422)
    except InvalidInput as exc:
        session.rollback()
        return _supervisor(request, session, who, error=refusal(exc), values=values, status=status_of(exc))
    return _supervisor(request, session, who, done=c, status=201)
