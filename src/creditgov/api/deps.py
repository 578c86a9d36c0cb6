"""What every route shares: the store, the key ring, who is asking, and their grant.

A route declares `grant: Grant = Depends(require("subjects.read"))` and receives the
data scope for that permission, or the request ends as 401/403 before the route
runs. The unit of work is committed when the route function returns and before the
response is sent (`scope="function"`), so an audit entry for a read is on disk
before the reader sees the data.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from creditgov.core import db, labels
from creditgov.security import signin
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

F = TypeVar("F", bound=Callable[..., Any])
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
    return request.app.state.ctx


# SQLite allows one writer, and the store opens every transaction with BEGIN IMMEDIATE,
# so within a process requests take turns on an asyncio lock held from the session's
# creation to its commit. Waiting on it costs no thread, and the next request wakes at
# once (SQLite's own busy handler sleeps in growing steps, up to 100 ms each). The
# session is created and committed on the event loop: neither can wait on a database
# lock (the write lock is already held at commit, and WAL checkpoints run in the
# background), so only the route itself goes to the thread pool. PostgreSQL needs no
# lock, and its commit is a network round trip, so it runs in the thread pool.
_sqlite_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


APPEND_ONLY_ATTR = "creditgov_append_only"


def append_only(endpoint: F) -> F:
    """Marks a route whose unit of work only reads and then appends (an audited read,
    a credit check). On SQLite its session reads outside a transaction and takes the
    write lock at its first write (`core.db.append_only_session_factory`), and the
    route commits as soon as it returns, so the lock is held for the appends alone
    and other server processes are not kept waiting. The audit entry is still
    committed before the response is sent.

    On SQLite the route runs on the event loop itself: its reads never wait on a lock
    (WAL), the process's SQLite requests take turns anyway (`sqlite_turn`), and a
    hop to the thread pool and back cost more than the check. On PostgreSQL, whose
    every statement is a network round trip, it runs in the thread pool."""

    def run(*args: Any, **kwargs: Any) -> Any:
        out = endpoint(*args, **kwargs)
        for v in kwargs.values():
            if isinstance(v, Session):
                v.commit()
        return out

    @functools.wraps(endpoint)
    async def route(*args: Any, **kwargs: Any) -> Any:
        session = next((v for v in kwargs.values() if isinstance(v, Session)), None)
        if session is not None and session.get_bind().dialect.name == "sqlite":
            return run(*args, **kwargs)
        return await run_in_threadpool(run, *args, **kwargs)

    setattr(route, APPEND_ONLY_ATTR, True)
    return route  # type: ignore[return-value]  # an async wrapper of F, which FastAPI reads through functools.wraps


def sqlite_turn() -> asyncio.Lock:
    """This event loop's turn on the SQLite store (see above): whatever opens a write
    transaction from a request — the route's session, a request key's claim — holds it."""
    loop = asyncio.get_running_loop()
    lock = _sqlite_locks.get(loop)
    if lock is None:
        lock = _sqlite_locks[loop] = asyncio.Lock()
    return lock


async def get_session(request: Request) -> AsyncIterator[Session]:
    url = ctx(request).url
    labels.use_store(url)  # the label catalogue names this store's regions for the request
    if not url.startswith("sqlite"):
        session = db.session_factory(url)()
        try:
            yield session
            await run_in_threadpool(session.commit)
        except BaseException:
            await run_in_threadpool(session.rollback)
            raise
        finally:
            await run_in_threadpool(session.close)
        return
    endpoint = request.scope.get("endpoint")
    async with sqlite_turn():
        with db.session_scope(url, append_only=getattr(endpoint, APPEND_ONLY_ATTR, False)) as session:
            yield session


DB = Annotated[Session, Depends(get_session, scope="function")]


def keyring(request: Request) -> KeyRing:
    return ctx(request).keyring


def client_address(request: Request) -> str:
    """The client's address as the sign-in's rate limits key it."""
    return (request.client.host if request.client else None) or "unknown"


def bearer_token(request: Request) -> str | None:
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


def _resolve(session: Session, token: str | None, cookie: str | None) -> Principal:
    """Look the caller up, then commit what the lookup wrote (a token's last use, a
    session's sliding expiry) at once: on SQLite that write holds the store's write
    lock, and a route that works in transactions of its own (an exchange run, a bureau
    run) would otherwise wait on its own request until the busy timeout."""
    try:
        if token:
            p = user_service.resolve_token(session, token)
        elif cookie:
            try:
                p = signin.resolve_session(session, cookie)
            except Unauthenticated:
                p = PUBLIC
        else:
            p = PUBLIC
    except Unauthenticated:
        session.commit()    # e.g. an expired session's deletion
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return p


async def principal(request: Request, session: DB) -> Principal:
    """Who is asking: a bearer token wins, then the session cookie, else the public.
    Cached on the request so pages and their dependencies resolve it once; a token
    seen in the last seconds is answered from memory, and only a lookup that needs
    the database goes to the thread pool."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    cookie = None if token else request.cookies.get(SESSION_COOKIE)
    p = user_service.cached_token(token) if token else (None if cookie else PUBLIC)
    if p is None:
        p = await run_in_threadpool(_resolve, session, token, cookie)
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

