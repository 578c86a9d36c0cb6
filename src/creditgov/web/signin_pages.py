"""The steps of signing in after the password, and the account's own security page:
the authenticator's code (登录验证码), choosing a new password (修改密码), and setting
up an authenticator app (双因素认证) with its recovery codes. The rules are the
services' (`security/signin.py`, `passwords.py`, `mfa.py`), the same as the API's
`/auth/*`; these pages only ask and show. A session with a step left is sent here by
the login form and by any page it tries (`render.error_page`); each step passes the
original `next` on to the following one."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, SESSION_COOKIE, Who, check_csrf, client_address, ctx
from creditgov.core.errors import InvalidInput
from creditgov.security import mfa, signin
from creditgov.security.accounts import User
from creditgov.security.attempts import TooManyAttempts
from creditgov.security.policy import policy
from creditgov.security.scopes import Principal, Unauthenticated
from creditgov.web.i18n import refusal
from creditgov.web.render import _, render, safe_next, step_page

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
NextQ = Annotated[str | None, Query(max_length=300)]
NextF = Annotated[str, Form(max_length=300)]
CsrfF = Annotated[str, Form(max_length=100)]


def _onward(who: Principal, nxt: str | None) -> Response:
    """To the next step left, or to where the visitor was going."""
    target = safe_next(nxt)
    if who.pending:
        target = f"{step_page(who.pending)}?next={quote(target)}"
    return RedirectResponse(target, status_code=303)


def _session(request: Request, who: Principal, allowed: set[str | None]) -> str | None:
    """The session cookie when this page is for `who` now, else None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if who.via != "session" or not cookie or who.pending not in allowed:
        return None
    return cookie


def _elsewhere(who: Principal, nxt: str | None) -> Response:
    if not who.signed_in:
        return RedirectResponse("/login", status_code=303)
    return _onward(who, nxt)


# ----------------------------------------------------------------------------- the code


@router.get("/login/code")
def code_page(request: Request, who: Who, next: NextQ = None, error: str | None = None, status: int = 200
              ) -> Response:
    if _session(request, who, {"code"}) is None:
        return _elsewhere(who, next)
    return render(request, "login_code.html", {"next": safe_next(next), "error": error}, status=status)


@router.post("/login/code")
async def code_submit(request: Request, who: Who, session: DB, code: Annotated[str, Form(max_length=40)],
                      csrf_token: CsrfF, next: NextF = "/") -> Response:
    cookie = _session(request, who, {"code"})
    if cookie is None:
        return _elsewhere(who, next)
    await check_csrf(request, who)
    try:
        after = signin.second_factor(session, ctx(request).keyring, cookie=cookie, code=code,
                                     client=client_address(request))
    except Unauthenticated:
        return code_page(request, who, next, error=_("验证码错误，请输入认证器上最新的验证码或一个恢复码。"), status=401)
    except TooManyAttempts as exc:  # the session was ended with the lock-out
        return render(request, "login_code.html", {"next": safe_next(next), "ended": True, "error": _(
            "失败次数过多，本次登录已结束，请 %(m)s 分钟后重新登录。", m=(exc.retry_after + 59) // 60)}, status=429)
    return _onward(after, next)


# ----------------------------------------------------------------------------- the password


@router.get("/account/password")
def password_page(request: Request, who: Who, next: NextQ = None, error: str | None = None, status: int = 200
                  ) -> Response:
    if _session(request, who, {"password", None}) is None:
        return _elsewhere(who, next)
    rules = policy().passwords
    return render(request, "account_password.html", {
        "next": safe_next(next), "error": error, "forced": who.pending == "password",
        "min_length": rules.rules_for(who.role)[0]}, status=status)


@router.post("/account/password")
async def password_submit(request: Request, who: Who, session: DB,
                          old_password: Annotated[str, Form(max_length=200)],
                          new_password: Annotated[str, Form(max_length=200)],
                          new_password2: Annotated[str, Form(max_length=200)], csrf_token: CsrfF,
                          next: NextF = "/") -> Response:
    cookie = _session(request, who, {"password", None})
    if cookie is None or who.user_id is None:
        return _elsewhere(who, next)
    await check_csrf(request, who)
    if new_password != new_password2:
        return password_page(request, who, next, error=_("两次输入的新密码不一致。"), status=422)
    try:
        signin.change_password(session, cookie=cookie, user_id=who.user_id, old_password=old_password,
                               new_password=new_password, client=client_address(request))
    except Unauthenticated:
        return password_page(request, who, next, error=_("当前密码错误。"), status=401)
    except InvalidInput as exc:
        return password_page(request, who, next, error=refusal(exc), status=422)
    except TooManyAttempts as exc:
        return password_page(request, who, next, status=429,
                             error=_("失败次数过多，请 %(m)s 分钟后再试。", m=(exc.retry_after + 59) // 60))
    return _onward(signin.resolve_session(session, cookie), next)


# ----------------------------------------------------------------------------- the authenticator app


def _account(session: Session, cookie: str) -> User:
    return signin.account_of(session, cookie)


@router.get("/account/second-factor")
def second_factor_page(request: Request, who: Who, session: DB, next: NextQ = None) -> Response:
    cookie = _session(request, who, {"enrol", None})
    if cookie is None:
        return _elsewhere(who, next)
    user = _account(session, cookie)
    return render(request, "account_second_factor.html", {
        "stage": "intro", "next": safe_next(next), "forced": who.pending == "enrol",
        "enrolled": mfa.enrolled(user), "required": mfa.required(user),
        "codes_left": mfa.recovery_codes_left(session, user) if mfa.enrolled(user) else 0})


@router.post("/account/second-factor/begin")
async def second_factor_begin(request: Request, who: Who, session: DB, csrf_token: CsrfF, next: NextF = "/"
                              ) -> Response:
    cookie = _session(request, who, {"enrol", None})
    if cookie is None:
        return _elsewhere(who, next)
    await check_csrf(request, who)
    e = mfa.begin(session, ctx(request).keyring, _account(session, cookie))
    return _enrol_page(request, who, e, next)


def _enrol_page(request: Request, who: Principal, e: mfa.Enrolment | None, nxt: str, error: str | None = None,
                status: int = 200) -> Response:
    return render(request, "account_second_factor.html", {
        "stage": "enrol", "next": safe_next(nxt), "forced": who.pending == "enrol", "error": error,
        "secret": e.secret if e else None, "uri": e.uri if e else None, "qr_svg": e.qr_svg if e else None},
        status=status)


@router.post("/account/second-factor/confirm")
async def second_factor_confirm(request: Request, who: Who, session: DB, code: Annotated[str, Form(max_length=40)],
                                csrf_token: CsrfF, next: NextF = "/") -> Response:
    cookie = _session(request, who, {"enrol", None})
    if cookie is None:
        return _elsewhere(who, next)
    await check_csrf(request, who)
    try:
        codes = mfa.confirm(session, ctx(request).keyring, _account(session, cookie), code)
    except InvalidInput:
        # The key stays pending; it was shown once, so the visitor starts again if it was lost.
        return _enrol_page(request, who, None, next, status=422,
                           error=_("验证码不正确：请确认手机时间准确，并输入最新的验证码；如未保存密钥，请重新开始。"))
    signin.mark_verified(session, cookie, client=client_address(request))
    after = signin.resolve_session(session, cookie)
    target = safe_next(next)
    if after.pending:
        target = f"{step_page(after.pending)}?next={quote(target)}"
    return render(request, "account_second_factor.html", {"stage": "codes", "codes": codes, "continue_to": target},
                  who=after)


__all__ = ["router"]
