"""What every route shares: the store, the key ring, who is asking, and their grant.

A route declares `grant: Grant = Depends(require("subjects.read"))` and receives the
data scope for that permission, or the request ends as 401/403 before the route
runs. The unit of work is committed when the route function returns and before the
response is sent (`scope="function"`), so an audit entry for a read is on disk
before the reader sees the data.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from creditgov.core import db
from creditgov.security import users as user_service
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import (
    PUBLIC,
    Forbidden,
    Grant,
    Principal,
    Unauthenticated,
    authorize,
)

# Ids in paths: bounded, so a huge number is a 422 and never reaches the database driver.
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
SESSION_COOKIE = "cg_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class AppContext:
    """Set once by the app factory; read by every dependency."""

    url: str
    keyring: KeyRing
    secure_cookies: bool = True


def ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


# SQLite allows one writer, and the store opens every transaction with BEGIN IMMEDIATE;
# threads that collide fall into SQLite's busy handler, which sleeps in growing steps
# (up to 100 ms each) and turns a queue of a few milliseconds into seconds of tail
# latency. Queuing on a lock in the process instead wakes the next request at once;
# with the GIL the requests would not have run in parallel anyway. PostgreSQL needs no
# such lock.
_sqlite_lock = threading.Lock()


def get_session(request: Request) -> Iterator[Session]:
    url = ctx(request).url
    if not url.startswith("sqlite"):
        with db.session_scope(url) as s:
            yield s
        return
    with _sqlite_lock, db.session_scope(url) as s:
        yield s


DB = Annotated[Session, Depends(get_session, scope="function")]


def keyring(request: Request) -> KeyRing:
    return ctx(request).keyring


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


async def _form_csrf(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        v = form.get(CSRF_FIELD)
        return v if isinstance(v, str) else None
    return None


async def csrf_value(request: Request) -> str | None:
    """The CSRF token a browser sent: a header for htmx/fetch, a field for forms."""
    return request.headers.get(CSRF_HEADER) or await _form_csrf(request)


def principal(request: Request, session: DB) -> Principal:
    """Who is asking: a bearer token wins, then the session cookie, else the public.
    Cached on the request so pages and their dependencies resolve it once."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = _bearer(request)
    p: Principal
    if token:
        p = user_service.resolve_token(session, token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                p = user_service.resolve_session(session, cookie)
            except Unauthenticated:
                p = PUBLIC
        else:
            p = PUBLIC
    request.state.principal = p
    return p


Who = Annotated[Principal, Depends(principal)]


async def check_csrf(request: Request, who: Principal) -> None:
    """Browser sessions must echo their CSRF token on every state-changing request;
    bearer tokens are not sent automatically by browsers and need none."""
    if request.method in SAFE_METHODS or who.via != "session":
        return
    sent = await csrf_value(request)
    if not sent or not who.csrf_token or not hmac.compare_digest(sent, who.csrf_token):
        raise Forbidden("CSRF token missing or wrong: reload the page and try again")


def require(permission: str) -> Callable[..., object]:
    """A dependency granting `permission` (and checking CSRF for unsafe methods)."""

    async def dep(request: Request, who: Who) -> Grant:
        grant = authorize(who, permission)
        await check_csrf(request, who)
        return grant

    dep.__name__ = f"require_{permission.replace('.', '_')}"
    return dep


def grant_of(permission: str) -> object:
    return Depends(require(permission))
