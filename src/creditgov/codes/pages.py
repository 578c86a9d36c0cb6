"""The credit code's pages: the subject's own code (`/me/code`, refreshed on demand),
the verification page (`/codes/verify`) that checks a code in the browser itself,
pasted or read from a photo or the camera (static/scan.js),
and the public files it and other verifiers fetch: the bundle of trusted keys,
revocation lists and words the page loads once, this region's signed revocation list
and its key submission for the province."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from creditgov.api.deps import DB, Who, check_csrf, ctx
from creditgov.codes import access, qr, revocation, service, trust
from creditgov.core import clock
from creditgov.core.errors import NotFound
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _public(request: Request) -> None:
    """The public files count against the client's rate limit, as the public pages do."""
    request.app.state.public_limiter.hit(request.client.host if request.client else "unknown")


@router.get("/me/code")
def my_code(request: Request, who: Who, session: DB,
            done: str | None = Query(default=None, pattern="^refreshed$")) -> Response:
    grant = authorize(who, "code.own")
    subject = grant.require_subject(session, who.subject_id or 0)
    row = access.current(session, subject.id)
    verdict = service.verify(session, row.text) if row is not None and row.text else None
    ctx_: dict[str, object] = {"subject": subject, "row": row, "verdict": verdict, "done": done,
                               "svg": Markup(qr.svg(row.text, scale=4)) if row is not None and row.text else None}  # noqa: S704 - generated SVG of a code we signed
    return render(request, "code_me.html", ctx_)


@router.post("/me/code")
async def my_code_refresh(request: Request, who: Who, session: DB) -> Response:
    grant = authorize(who, "code.own")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    service.issue(session, ctx(request).keyring, subject_id=subject.id, actor=who.actor)
    return RedirectResponse("/me/code?done=refreshed", status_code=303)


@router.get("/codes/verify")
def verify_page(request: Request, who: Who, session: DB) -> Response:
    config = access.page_config(session)
    # The platform's clock, read when the page loads (the checks then move on with the
    # device's): a phone whose own clock is wrong, or a county that keeps its day
    # pinned, still tells a code in force from an expired one.
    now = clock.now().replace(tzinfo=dt.UTC).timestamp()
    return render(request, "code_verify.html", {"root": config["root"], "now": int(now),
                                                "own_keys": json.dumps(config["own_keys"], ensure_ascii=False)})


def _script(name: str) -> Response:
    """One of the page's own scripts, from the domain's static/ folder (the
    Content-Security-Policy allows scripts from the platform's own files only)."""
    text = resources.files("creditgov.codes").joinpath("static", name).read_text("utf-8")
    return Response(text, media_type="text/javascript; charset=utf-8",
                    headers={"cache-control": "public, max-age=3600"})


@router.get("/codes/verify.js")
def verify_script() -> Response:
    """Checks a code offline against the bundle."""
    return _script("verify.js")


@router.get("/codes/scan.js")
def scan_script() -> Response:
    """Reads a code's QR from a photo or the camera into the paste field."""
    return _script("scan.js")


def _json(doc: object) -> Response:
    return JSONResponse(doc, headers={"cache-control": "no-cache"})


@router.get("/codes/bundle.json")
def bundle(request: Request, session: DB) -> Response:
    """What the verification page loads once: trusted keys, revocation lists, words."""
    _public(request)
    return _json(access.bundle(session, ctx(request).keyring))


@router.get("/codes/revocations.json")
def revocations(request: Request, session: DB) -> Response:
    """This region's signed revocation list: the public URL other regions import."""
    _public(request)
    doc = revocation.own_list(session, ctx(request).keyring, actor="web:codes")
    if doc is None:
        raise NotFound("this region has no signing key: it has issued no codes", code="codes.revocations.no_key")
    return _json(doc)


@router.get("/codes/keys.json")
def own_keys(request: Request, session: DB) -> Response:
    """This region's public keys as a submission to the province (unsigned)."""
    _public(request)
    return _json(trust.export(session, actor="web:codes"))
