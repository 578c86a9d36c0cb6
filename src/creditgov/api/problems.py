"""Errors at the edge: domain exceptions become RFC 9457 problem+json (API) or an
error page (browser). Domain code never imports HTTP; this table is the only
translation (Airflow's ADR: errors are translated at the route boundary)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from creditgov.api.ratelimit import RateLimited
from creditgov.core.errors import (
    ConfigError,
    Conflict,
    CreditGovError,
    IntegrityError,
    InvalidInput,
    NotFound,
)
from creditgov.security.scopes import Forbidden, Unauthenticated

PROBLEM = "application/problem+json"
log = logging.getLogger("creditgov.api")
STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404), (Conflict, 409), (InvalidInput, 422), (Unauthenticated, 401), (Forbidden, 403),
    (IntegrityError, 409), (ConfigError, 500), (CreditGovError, 400),
]


def status_of(exc: Exception) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


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


async def _render(request: Request, status: int, detail: str, **extra: Any) -> Response:
    if _wants_html(request):
        from creditgov.web.render import error_page

        return error_page(request, status, detail)
    return problem(status, detail, instance=request.url.path, **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(CreditGovError)
    async def _domain(request: Request, exc: CreditGovError) -> Response:
        if isinstance(exc, RateLimited):
            resp = await _render(request, 429, str(exc))
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        return await _render(request, status_of(exc), str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return await _render(request, 500, "internal error: the administrator can find it in the server log")

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
