"""API routes for credit reports, their verification, the public side (公示查询,
lists, boards) and the overview figures. Thin: `reports.service` builds and audits
reports, `reports.overview` holds the read models; grants decide the scope."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from creditgov.alerts import colours
from creditgov.api.deps import DB, Id, keyring, require
from creditgov.api.ratelimit import public_rate
from creditgov.core import labels, settings
from creditgov.core.errors import InvalidInput
from creditgov.points import boards, merchants, screen
from creditgov.reports import overview, recommend
from creditgov.reports import service as report_service
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import PUBLIC, Grant, Scope, authorize, default_purpose
from creditgov.subjects import search as subject_search
from creditgov.subjects.access import read_file

router = APIRouter(tags=["reports"])
public_router = APIRouter(tags=["public"], dependencies=[Depends(public_rate)])
Ring = Annotated[KeyRing, Depends(keyring)]
# The pages' language switch (web.i18n.LANG_COOKIE): a report downloaded from a page in
# English is printed in English.
REPORT_LANG_COOKIE = "cg_lang"
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}},
                                                       "description": "The report as PDF"}}


# A host name or address with an optional port: what the Host header may put into the
# verification address printed (and QR-coded) on a report.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def verify_base(request: Request) -> str:
    """The verification address for the QR code: the configured public address
    (`CREDITGOV_PUBLIC_URL`), else the address the reader used. A Host header that is
    no host name is refused rather than printed on a report (nor made into a QR code
    too long to encode)."""
    configured = settings.public_url()
    if configured:
        return configured + "/verify"
    if not _HOST.match(request.url.netloc):
        raise InvalidInput("the request's Host header is not a host name")
    return str(request.base_url).rstrip("/") + "/verify"


@router.get("/subjects/{subject_id}/report.pdf", response_class=Response, responses=PDF_RESPONSE,
            operation_id="reports_download")
def reports_download(subject_id: Id, request: Request,
                     grant: Annotated[Grant, Depends(require("report.download"))], session: DB, ring: Ring,
                     purpose: Annotated[str | None, Query(max_length=200)] = None,
                     lang: Annotated[str | None, Query(pattern="^(zh|en)$",
                                                       description="zh (default) or en")] = None) -> Response:
    """The credit report (信用报告) as PDF, in `lang`, else in the reader's page language
    (the language switch), else Chinese. Every download is stored and audited."""
    grant.require_subject(session, subject_id)
    pdf, row = report_service.issue(session, ring, subject_id=subject_id, actor=grant.principal.actor,
                                    purpose=purpose or default_purpose(grant.principal),
                                    verify_base=verify_base(request),
                                    lang=lang or request.cookies.get(REPORT_LANG_COOKIE) or "zh")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{row.serial}.pdf"',
                             "X-Report-Serial": row.serial})


@router.get("/reports/{serial}", operation_id="reports_verify")
def reports_verify(serial: str, session: DB) -> dict[str, Any]:
    """Verify a report by its serial (what the QR code opens). Public."""
    return report_service.verify(session, serial)


@router.get("/overview", operation_id="overview_get")
def overview_get(grant: Annotated[Grant, Depends(require("dashboard.view"))], session: DB,
                 level: Annotated[str | None, Query(max_length=30)] = None) -> dict[str, Any]:
    """Dashboard figures in your scope: counters, grade and colour distribution by
    region, the trend across runs and the newest records."""
    scope = grant.subject_clause()
    return {"headline": overview.headline(session, scope=scope),
            "distribution": overview.distribution(session, scope=scope, level=level,
                                                  precedence=colours.settings().precedence),
            "trend": [labels.annotate(r, model="model") for r in
                      overview.trend(session, scope=None if grant.scope is Scope.ALL else scope)],
            "recent_records": overview.recent_records(session, scope=scope, limit=10)}


# ----------------------------------------------------------------------------- public side


@public_router.get("/public/firms", operation_id="public_firms")
def public_firms(session: DB, ring: Ring,
                 q: Annotated[str, Query(min_length=2, max_length=100, description="Firm name or credit code")],
                 limit: Annotated[int, Query(ge=1, le=50)] = 20) -> dict[str, Any]:
    """公示查询: firms by name or credit code. Residents never appear."""
    grant = authorize(PUBLIC, "public.query")
    r = subject_search.search(session, ring, scope=grant.subject_clause(), q=q, limit=limit, mask_people=True)
    return {"total": r.total, "items": [{k: i[k] for k in ("id", "kind", "name", "uscc", "region_name")}
                                        for i in r.items]}


@public_router.get("/public/firms/{subject_id}", operation_id="public_firm")
def public_firm(subject_id: Id, session: DB, ring: Ring) -> dict[str, Any]:
    """A firm's published information: public-class records in their publication period."""
    grant = authorize(PUBLIC, "public.query")
    f = read_file(session, ring, grant, subject_id, "public query")
    return {k: f[k] for k in ("id", "kind", "name", "uscc", "industry", "established_on", "address", "region",
                              "records")}


@public_router.get("/public/lists", operation_id="public_lists")
def public_lists(session: DB, response: Response,
                 list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
    """Red and black list publication: entries in force, newest first, residents' names
    masked; `limit` entries from `offset`, and how many there are in all in the
    `X-Total-Count` header (page on until `offset` reaches it)."""
    response.headers["X-Total-Count"] = str(overview.published_count(session, list_code=list_code))
    return overview.published_entries(session, list_code=list_code, limit=limit, offset=offset)


@public_router.get("/public/recommended/{code}", operation_id="public_recommended")
def public_recommended(code: Annotated[str, Path(max_length=80, pattern=r"^[a-z][a-z0-9-]*$")],
                       session: DB) -> dict[str, Any]:
    """推荐名单: subjects the latest published evaluation recommends (e.g. Changxing
    homestays of 85 points and above), never one on a punitive list."""
    authorize(PUBLIC, "public.query")
    return recommend.recommended(session, code)


@public_router.get("/public/boards", operation_id="public_boards")
def public_boards(session: DB, region: Annotated[str | None, Query(max_length=40)] = None,
                  model: Annotated[str | None, Query(max_length=80)] = None,
                  kind: Annotated[str | None, Query(max_length=20)] = None,
                  page: Annotated[int, Query(ge=1, le=100000)] = 1,
                  per_page: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """公示牌 for a street or grid (default: the first street): one ranking per
    evaluation model and subject kind (`tables`; `model`/`kind` pick one, default the
    first), paged; the red and black lists in force there, the recommended subjects and
    the credit merchants awarded. Residents appear only masked and only if they opted in."""
    authorize(PUBLIC, "public.query")
    return boards.board(session, region_code=region, model=model, kind=kind, page=page, per_page=per_page)


@public_router.get("/public/screen", operation_id="public_screen")
def public_screen(session: DB) -> dict[str, Any]:
    """The public big screen's figures: published grades by street, lists in force,
    credit merchants, points redeemed — counts only, no person."""
    authorize(PUBLIC, "public.query")
    return screen.figures(session)


@public_router.get("/public/selections/{code}", operation_id="public_selection")
def public_selection(code: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
                     session: DB) -> dict[str, Any]:
    """A credit-merchant selection (诚信商户评选) as published: candidates, the public
    period, the decision. Objections are counted, their texts are not published."""
    authorize(PUBLIC, "public.query")
    return merchants.selection_out(session, merchants.get(session, code))
