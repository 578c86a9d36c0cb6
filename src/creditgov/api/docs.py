"""The API's interactive documentation (Swagger UI) served from the package.

Why not FastAPI's built-in page: it loads Swagger UI from a CDN, unsigned, so every
reader of /api/v1/docs ran whatever that CDN served with the platform's origin, and it
starts Swagger UI from an inline script, which the Content-Security-Policy forbids.
Here the page loads the copy checked in under `web/static/vendor/` (swagger-ui-dist,
see docs/web.md) and starts it from `web/static/js/api-docs.js`; the validator badge,
which would send the API's description to an outside service, is off.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

SWAGGER_UI = "5.35.0"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CreditGov API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/vendor/swagger-ui-{version}.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="/static/vendor/swagger-ui-bundle-{version}.js"></script>
<script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


def install(api: FastAPI, path: str = "/docs") -> None:
    """The docs page at `path` of the API application (FastAPI's own `docs_url` off)."""
    assert api.docs_url is None, "FastAPI's CDN docs page must be off"

    @api.get(path, include_in_schema=False, response_class=HTMLResponse)
    def api_docs(request: Request) -> HTMLResponse:
        openapi = request.scope.get("root_path", "").rstrip("/") + (api.openapi_url or "/openapi.json")
        return HTMLResponse(PAGE.format(version=SWAGGER_UI, openapi=openapi))
