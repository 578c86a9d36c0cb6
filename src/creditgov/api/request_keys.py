"""Requests sent again, at the HTTP edge: the API's `Idempotency-Key` header and the
pages' hidden form key, both answered by `security.request_keys` (the rules and the
table; this module reads HTTP and replays).

Three parts, because a claim must know the route and the answer is known only once it
has been sent:

- `RequestKeys`, a pure ASGI middleware on the application (around the pages and the
  mounted API), watches every state-changing request's answer. When the request claimed
  a key, it keeps the answer before the last byte goes out — so a client that has its
  answer finds it kept — or gives the key up: an answer of 400 or more (a refusal did
  nothing; the copy runs, corrected), an exception, an answer that sets a cookie (it
  may carry a secret, and a second sign-in is a sign-in), one marked `dont_keep` (an
  error page's redirect to the sign-in), one over `MAX_KEPT` bytes.
- `request_key`, a dependency of every route of both applications (given at their
  construction), claims the key after the route is found and its body read, before
  anything of the route runs: an API request's `Idempotency-Key` (except on a route that
  declares that header itself and handles its own key, as a points redemption does),
  a page form's `form_key` field (drawn into every POST form by `web/render.py`). The
  API compares method, path and body; a page form only its method and path — it is the
  same drawn form whatever its fields say now, and its first answer stands.
- `Replay`, raised by the dependency when the key's first answer is kept, answered by
  the handler `install` registers: that status, content type, redirect and body, with
  `Idempotent-Replayed: true`.

A copy that arrives while the first is still running is refused at once on the API
(409 `security.request.in_progress`: retry in a moment); a page waits up to `PAGE_WAIT`
seconds for the first and answers its redirect, since a double click's browser shows
the second answer only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditgov.api.deps import SESSION_COOKIE, bearer_token, ctx, sqlite_turn
from creditgov.core import db
from creditgov.core.errors import Conflict
from creditgov.security import request_keys as keys
from creditgov.security.crypto import KeyRing

T = TypeVar("T")
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
FORM_FIELD = "form_key"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEPT = 1 << 20     # bytes of an answer kept; a longer answer gives its key up
PAGE_WAIT = 10.0       # seconds a page's second submission waits for the first's answer
_SCOPE = "creditgov.request_key"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
log = logging.getLogger("creditgov.api")


@dataclass
class _Pending:
    """One state-changing request's claim, shared by the dependency and the middleware."""

    url: str = ""
    keyring: KeyRing | None = None
    claim_id: int | None = None
    keep: bool = True
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: list[bytes] = field(default_factory=list)
    size: int = 0


class Replay(Exception):  # noqa: N818 - not an error: the kept answer on its way back
    def __init__(self, answer: keys.Answer) -> None:
        super().__init__("replayed")
        self.answer = answer


def dont_keep(request: Request) -> None:
    """This request's answer is not to be kept under its key (a redirect to the sign-in
    is a refusal, not the form's result): the key is given up, a copy runs again."""
    pending = request.scope.get(_SCOPE)
    if isinstance(pending, _Pending):
        pending.keep = False


async def _in_store(url: str, unit: Callable[[Session], T]) -> T:
    """One unit of work on the store from a request: on SQLite in this process's turn
    (`api.deps.sqlite_turn`), in the thread pool so no database wait blocks the loop."""
    def run() -> T:
        with db.session_scope(url) as s:
            return unit(s)

    if url.startswith("sqlite"):
        async with sqlite_turn():
            return await run_in_threadpool(run)
    return await run_in_threadpool(run)


class RequestKeys:
    """The middleware (see the module docstring): keeps a claimed request's answer or
    gives its key up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        pending = scope[_SCOPE] = _Pending()

        async def watch(message: Message) -> None:
            if pending.claim_id is not None:
                if message["type"] == "http.response.start":
                    pending.status = int(message["status"])
                    for k, v in message.get("headers", []):
                        name = k.decode("latin-1").lower()
                        if name == "set-cookie":
                            pending.keep = False
                        pending.headers.setdefault(name, v.decode("latin-1"))
                elif message["type"] == "http.response.body":
                    chunk = message.get("body", b"")
                    pending.size += len(chunk)
                    if pending.size > MAX_KEPT:
                        pending.keep, pending.body = False, []
                    elif pending.keep:
                        pending.body.append(chunk)
                    if not message.get("more_body", False):
                        await _settle(pending)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except BaseException:
            pending.keep = False
            await _settle(pending)
            raise
        if pending.claim_id is not None:  # the application ended without a whole answer
            pending.keep = False
            await _settle(pending)


async def _settle(pending: _Pending) -> None:
    """Keep the answer under its key, or give the key up (once; shielded, so a client
    gone away does not leave the key claimed)."""
    claim_id, pending.claim_id = pending.claim_id, None
    if claim_id is None or pending.keyring is None:
        return
    ring = pending.keyring
    keep = pending.keep and pending.status < 400
    answer = keys.Answer(status=pending.status, content_type=pending.headers.get("content-type"),
                         location=pending.headers.get("location"), body=b"".join(pending.body))
    with anyio.CancelScope(shield=True):
        try:
            if keep:
                await _in_store(pending.url, lambda s: keys.finish(s, ring, claim_id, answer))
                return
        except Exception:
            log.exception("the answer of request key %s could not be kept; giving the key up", claim_id)
        try:
            await _in_store(pending.url, lambda s: keys.release(s, claim_id))
        except Exception:
            log.exception("request key %s could not be given up; it expires in 24 hours", claim_id)


def _own_key(route: Any) -> bool:
    """Whether the route reads `Idempotency-Key` itself (a points redemption: its key is
    kept with the redemption, for good): then the header is the route's, not ours. A
    walk of a few parameters, asked only of requests that send the header."""
    todo = [route.dependant] if route is not None and hasattr(route, "dependant") else []
    while todo:
        d = todo.pop()
        if any((p.alias or p.name).lower() == HEADER.lower() for p in d.header_params):
            return True
        todo.extend(d.dependencies)
    return False


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(_FORMS)


async def _form_key(request: Request) -> str | None:
    if not _is_form(request):
        return None
    value = (await request.form()).get(FORM_FIELD)
    return value if isinstance(value, str) else None


async def _body_sha256(request: Request) -> str:
    """The body's SHA-256; a form's over its fields and files as parsed, so a multipart
    body sent again with another boundary is the same body."""
    if not _is_form(request):
        return hashlib.sha256(await request.body()).hexdigest()
    h = hashlib.sha256()
    for name, value in (await request.form()).multi_items():
        if isinstance(value, UploadFile):
            h.update(json.dumps(["file", name, value.filename, value.content_type]).encode())
            while chunk := await value.read(1 << 16):
                h.update(chunk)
            await value.seek(0)
        else:
            h.update(json.dumps(["field", name, value]).encode())
    return h.hexdigest()


async def request_key(request: Request) -> None:
    """The dependency (see the module docstring): claim the request's key, or replay
    its first answer (`Replay`), or refuse it (another request's key, still running)."""
    pending = request.scope.get(_SCOPE)
    if not isinstance(pending, _Pending) or request.method not in UNSAFE:
        return
    api = request.url.path.startswith("/api/")
    key = request.headers.get(HEADER) if api else await _form_key(request)
    if key is None or (api and _own_key(request.scope.get("route"))):
        return
    token = bearer_token(request)
    caller = keys.caller_of(bearer=token, session_cookie=None if token else request.cookies.get(SESSION_COOKIE))
    keys.check_key(key, caller=caller)
    digest = await _body_sha256(request)
    app = ctx(request)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")

    def attempt(s: Session) -> int | keys.Answer:
        return keys.claim(s, app.keyring, caller=caller, key=key, method=request.method, path=path,
                          body_sha256=digest, same_body=api)

    deadline, pause = time.monotonic() + (0.0 if api else PAGE_WAIT), 0.05
    while True:
        try:
            got = await _in_store(app.url, attempt)
            break
        except Conflict as exc:
            if exc.code != "security.request.in_progress" or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
    if isinstance(got, keys.Answer):
        raise Replay(got)
    pending.url, pending.keyring, pending.claim_id = app.url, app.keyring, got


async def _replayed(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)  # registered for Replay alone
    a = exc.answer
    headers = {REPLAYED: "true"}
    if a.content_type:
        headers["content-type"] = a.content_type
    if a.location:
        headers["location"] = a.location
    return Response(content=a.body, status_code=a.status, headers=headers)


def install(app: FastAPI) -> None:
    """The replay's answer in one application (the pages' and the mounted API's each);
    the dependency is given to both at construction, the middleware to the outer one."""
    app.add_exception_handler(Replay, _replayed)


__all__ = ["HEADER", "REPLAYED", "FORM_FIELD", "RequestKeys", "Replay", "dont_keep", "install", "request_key"]
