"""Back-office pages: the information catalogue (信息目录), the audit log (审计日志) with its
hash chain checked, and user, token and permission administration (用户与权限). The rules
of every page module are in `web/pages.py`. (Ingestion's batches and quarantine are the
ingest domain's own pages, `ingest/pages.py`.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf
from creditgov.catalog import service as catalog_service
from creditgov.core.errors import CreditGovError, status_of
from creditgov.reports import overview
from creditgov.security import attempts, mfa, passwords
from creditgov.security import service as audit
from creditgov.security import users as user_service
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import PERMISSIONS, ROLE_LABELS, Role, authorize
from creditgov.web import i18n
from creditgov.web.i18n import refusal
from creditgov.web.render import SCOPE_LABELS, _, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# ----------------------------------------------------------------------------- catalogue, audit


@router.get("/catalog")
def catalog_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "catalog.read")
    return render(request, "catalog.html", {"items": catalog_service.items(session),
                                            "requests": catalog_service.requests(session)})


@router.get("/audit")
def audit_page(request: Request, who: Who, session: DB,
               subject_id: Annotated[str | None, Query(max_length=12)] = None,
               action: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    authorize(who, "audit.read")
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)
    sid = int(subject_id) if subject_id and subject_id.isdigit() else None
    if sid is not None:
        q = q.where(AuditEntry.subject_id == sid)
    if action:
        q = q.where(AuditEntry.action == action)
    return render(request, "audit.html", {"entries": list(session.execute(q).scalars()), "chain": audit.verify(session),
                                          "subject_id": sid, "action": action})


# ----------------------------------------------------------------------------- administration


def _admin_context(session: Session, **extra: Any) -> dict[str, Any]:
    toks: dict[int, list[Any]] = {}
    for t in user_service.tokens(session):
        toks.setdefault(t.user_id, []).append(t)
    role_labels = {r.value: i18n.pick(*ROLE_LABELS[r]) for r in Role}
    matrix = {perm: {r.value: s for r, s in roles.items()} for perm, roles in PERMISSIONS.items()}
    users = user_service.users(session)
    locked = {u.id for u in users if attempts.lock_ends(session, u.username) is not None}
    return {"users": users, "locked": locked, "tokens": toks, "role_labels": role_labels,
            "regions": overview.region_tree(session), "matrix": matrix,
            "scope_labels": {s: _(label) for s, label in SCOPE_LABELS.items()}, **extra}


@router.get("/admin/users")
def admin_users(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "users.manage")
    return render(request, "admin_users.html", _admin_context(session))


@router.post("/admin/users")
async def admin_users_create(request: Request, who: Who, session: DB, username: Annotated[str, Form(max_length=80)],
                             role: Annotated[str, Form(max_length=30)],
                             display_name: Annotated[str, Form(max_length=200)] = "",
                             password: Annotated[str, Form(max_length=200)] = "",
                             region_code: Annotated[str, Form(max_length=40)] = "",
                             department_code: Annotated[str, Form(max_length=50)] = "",
                             organisation: Annotated[str, Form(max_length=80)] = "",
                             subject_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    try:
        u = user_service.create_user(
            session, username=username.strip(), password=password or None, role=role, display_name=display_name,
            region_code=region_code or None, department_code=department_code or None,
            organisation=organisation or None, subject_id=int(subject_id) if subject_id.isdigit() else None,
            actor=grant.principal.actor)
    except CreditGovError as exc:
        session.rollback()
        typed = {"username": username, "display_name": display_name, "role": role, "region_code": region_code,
                 "department_code": department_code, "organisation": organisation, "subject_id": subject_id}
        return render(request, "admin_users.html", _admin_context(session, error=refusal(exc), values=typed),
                      status=status_of(exc))  # the form again as typed, the password chosen again
    return render(request, "admin_users.html", _admin_context(session, flash=_("已创建用户 %(u)s。", u=u.username)))


@router.post("/admin/users/{user_id}/tokens")
async def admin_token_issue(request: Request, user_id: Id, who: Who, session: DB,
                            name: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    plain, _tok = user_service.issue_token(session, user_id=user_id, name=name, actor=grant.principal.actor)
    msg = _("新令牌（只显示一次，请妥善保存）：%(t)s", t=plain)
    return render(request, "admin_users.html", _admin_context(session, flash=msg))


@router.post("/admin/users/{user_id}/password")
async def admin_password_reset(request: Request, user_id: Id, who: Who, session: DB) -> Response:
    """A random temporary password, shown once; the holder chooses a new one at sign-in."""
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    u = user_service.get_user(session, user_id)
    temporary = passwords.reset(session, user=u, actor=grant.principal.actor)
    msg = _("%(u)s 的临时密码（只显示一次，下次登录须修改）：%(p)s", u=u.username, p=temporary)
    return render(request, "admin_users.html", _admin_context(session, flash=msg))


@router.post("/admin/users/{user_id}/unlock")
async def admin_unlock(request: Request, user_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    u = user_service.get_user(session, user_id)
    attempts.unlock(session, username=u.username, actor=grant.principal.actor)
    return render(request, "admin_users.html", _admin_context(session, flash=_("已解除 %(u)s 的登录锁定。", u=u.username)))


@router.post("/admin/users/{user_id}/second-factor/reset")
async def admin_second_factor_reset(request: Request, user_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    u = user_service.get_user(session, user_id)
    mfa.reset(session, u, actor=grant.principal.actor)
    msg = _("已移除 %(u)s 的手机认证器，其下次登录时须重新设置。", u=u.username)
    return render(request, "admin_users.html", _admin_context(session, flash=msg))


__all__ = ["router"]
