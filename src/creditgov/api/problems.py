"""Errors at the edge: domain exceptions become RFC 9457 problem+json (API) or an
error page (browser). Domain code never imports HTTP; the status of each error class
(`core.errors.status_of`, read by the pages too) is the only
translation (Airflow's ADR: errors are translated at the route boundary)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditgov.api.ratelimit import RateLimited
from creditgov.core.errors import CreditGovError, ServerFault, status_of
from creditgov.security.attempts import TooManyAttempts

PROBLEM = "application/problem+json"
log = logging.getLogger("creditgov.api")
def problem(status: int, detail: str, *, instance: str | None = None, **extra: Any) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": f"https://creditgov.local/problems/{status}", "title": title,
                            "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


async def _render(request: Request, status: int, detail: str, *, exc: CreditGovError | None = None,
                  **extra: Any) -> Response:
    code, params = (exc.code, exc.params) if exc is not None else (None, None)
    if _wants_html(request):
        from creditgov.web.render import error_page

        return error_page(request, status, detail, code=code, params=params)
    from creditgov.web import i18n

    # `title` and `detail` stay as RFC 9457 and clients know them; `message` is the
    # human text in the caller's language (session choice, else Accept-Language).
    lang = i18n.api_language(request.cookies, request.headers.get("accept-language"))
    _title, message, _original = i18n.error_text(status, detail, lang, code=code, params=params)
    extra.setdefault("message", message)
    return problem(status, detail, instance=request.url.path, **extra)


UNEXPECTED = "internal error: the administrator can find it in the server log"


class UnhandledErrors:
    """Turns an unexpected exception into a 500 answer and ends the request there.

    Why not `exception_handler(Exception)`: Starlette hands that handler to its
    outermost middleware, which sends the 500 and then raises the exception again
    (so servers can log it); uvicorn, seeing an exception after a complete answer,
    closes the connection, and the client's next request on that keep-alive
    connection was reset. Caught here, inside the application, the exception is
    logged once and goes no further. An exception after part of an answer was sent
    still propagates: that answer cannot be finished, so the connection must close."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = {"start": False, "end": False}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["start"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                sent["end"] = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if sent["end"]:  # answered in full before the error: nothing left to do
                log.exception("error after the answer on %s %s", scope.get("method"), scope.get("path"),
                              exc_info=exc)
                return
            if sent["start"]:
                raise
            request = Request(scope, receive)
            log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
            try:
                response = await _render(request, 500, UNEXPECTED)
            except Exception:  # the error page itself failed (its data is what broke): plain problem+json
                log.exception("the error page failed on %s %s", request.method, request.url.path)
                response = problem(500, UNEXPECTED, instance=request.url.path)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """The error translations and the last-resort 500 (`UnhandledErrors`) of one
    application (the pages' and the mounted API's each get their own)."""
    app.add_middleware(UnhandledErrors)

    @app.exception_handler(CreditGovError)
    async def _domain(request: Request, exc: CreditGovError) -> Response:
        if isinstance(exc, RateLimited | TooManyAttempts):
            resp = await _render(request, status_of(exc), str(exc))
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        if isinstance(exc, ServerFault):
            log.error("server fault on %s %s", request.method, request.url.path, exc_info=exc)
            return await _render(request, 500, UNEXPECTED)
        # A stable code (and nothing else of the error) lets a client say it in its own words.
        return await _render(request, status_of(exc), str(exc), exc=exc, **({"code": exc.code} if exc.code else {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return await _render(request, 422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        resp = await _render(request, exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp
