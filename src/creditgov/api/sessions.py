"""The browser session cookie: HTTP plumbing shared by the sign-in route of the API
(`security/views.py`) and the login form of the pages (`web/pages.py`), so both set
the same cookie with the same flags. It lives in the edge package because it speaks
HTTP; neither edge imports the other."""

from __future__ import annotations

from fastapi import Request, Response

from creditgov.api.deps import SESSION_COOKIE, ctx
from creditgov.security import signin


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    """HttpOnly, SameSite=Lax and Secure: browsers treat loopback as a secure origin,
    so the Secure flag holds for the demo on http://127.0.0.1 as well. The cookie lasts
    the session's absolute time-out; the idle time-out is the store's to enforce."""
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", path="/",
                        secure=ctx(request).secure_cookies, max_age=signin.session_seconds())


__all__ = ["set_session_cookie"]
