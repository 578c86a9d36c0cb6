"""The application factory: the REST API under /api/v1, the web pages at the root,
vendored static assets under /static.

The API is a mounted sub-application so its OpenAPI document (/api/v1/openapi.json)
describes only the API, with stable operation ids taken from the route functions'
names; the pages share the same dependencies, grants and services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditgov import __version__, bootstrap
from creditgov.api import docs, problems, ratelimit, request_keys
from creditgov.api.deps import AppContext
from creditgov.core import db, schema, settings
from creditgov.core.errors import ConfigError
from creditgov.security import keys
from creditgov.web.i18n import LanguageMiddleware

API_PREFIX = "/api/v1"
DESCRIPTION = """CreditGov 基层信用智治平台 REST API.

Sign in with `POST /auth/login` (browser session cookie + CSRF token echoed in the
`X-CSRF-Token` header on unsafe requests) or send `Authorization: Bearer <token>`
with an API token issued to a department's or bank's account. Every answer is limited
to the caller's data scope; every read of a personal file is audited with its
purpose. Errors are `application/problem+json` (RFC 9457).

Any POST, PUT, PATCH or DELETE may carry `Idempotency-Key: <1–100 visible ASCII
characters>` (at least 16 without signing in; a UUID is best): the same request sent
again with the same key within 24 hours is answered with the first answer (same status
and body, header `Idempotent-Replayed: true`) instead of being done twice. The same key
with another method, path or body is refused (422, code `security.request.key_reused`);
while the first is still running, 409 (`security.request.in_progress`): retry in a
moment. A refused (4xx) or failed (5xx) first request keeps nothing: send it again,
corrected. An answer that sets a cookie (sign-in) is never kept.
"""


# Every script, style, font and image from the platform's own origin (the vendored
# htmx, ECharts and Swagger UI included); no inline script or style attribute, no eval,
# no plugin, no framing; data: images for the charts' and Swagger UI's icons.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A year, without includeSubDomains: the county's other services on sibling names are
# not this platform's to bind to HTTPS. Browsers ignore it on plain HTTP.
HSTS = "max-age=31536000"


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every response (cheaper
    than Starlette's `@app.middleware("http")`, which wraps each response in a task)."""

    HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
               (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode()),
               (b"strict-transport-security", HSTS.encode())]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        vendor = scope["path"].startswith("/static/vendor/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in names]
                if vendor:
                    extra.append((b"cache-control", b"public, max-age=86400"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _operation_id(route: APIRoute) -> str:
    return route.name


def build_api(ctx: AppContext) -> FastAPI:
    bootstrap.wire()
    api = FastAPI(title="CreditGov API", version=__version__, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None,
                  generate_unique_id_function=_operation_id, dependencies=[Depends(request_keys.request_key)])
    api.state.ctx = ctx
    api.state.public_limiter = ratelimit.from_env()
    for r in bootstrap.api_routers():
        api.include_router(r)
    docs.install(api)  # Swagger UI from the package, not a CDN
    problems.install(api)
    request_keys.install(api)
    return api


def create_app(db_url: str | None = None, key_file: str | Path | None = None, *,
               secure_cookies: bool = True) -> FastAPI:
    """The whole application over one store. Fails early when the store is not
    initialised or the key is not the store's own, rather than on the first request."""
    s = settings.resolve(db_url, str(key_file) if key_file else None)
    if not schema.is_initialised(s.db_url):
        raise ConfigError(f"database {s.db_url} is not initialised: run `creditgov init` first")
    ring = keys.open_ring(s.db_url, keys.source_for(s), actor="system:server")
    ctx = AppContext(url=s.db_url, keyring=ring, secure_cookies=secure_cookies)
    api = build_api(ctx)
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A served store checkpoints SQLite's WAL in the background, not on requests.
        checkpoints = db.BackgroundCheckpoints(ctx.url).start()
        try:
            yield
        finally:
            checkpoints.stop()

    app = FastAPI(title="CreditGov", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan, dependencies=[Depends(request_keys.request_key)])
    app.state.ctx = ctx
    app.state.public_limiter = api.state.public_limiter
    app.mount(API_PREFIX, api)
    static = Path(str(resources.files("creditgov.web").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        # Browsers ask for /favicon.ico on every page without a link (PDFs, JSON); one icon.
        return RedirectResponse("/static/img/favicon.svg", status_code=301)

    for router in bootstrap.page_routers():
        app.include_router(router)
    problems.install(app)
    request_keys.install(app)

    # A request sent again with its key (an API Idempotency-Key, a page form's key) is
    # answered from the first's kept answer: inside the security headers, outside the 500s.
    app.add_middleware(request_keys.RequestKeys)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LanguageMiddleware)  # outermost: the language is set before anything runs
    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker process (`creditgov serve`)."""
    import os

    return create_app(os.environ.get("CREDITGOV_DB"), os.environ.get("CREDITGOV_KEY_FILE"),
                      secure_cookies=os.environ.get("CREDITGOV_SECURE_COOKIES", "1") != "0")
