"""The public side (信用公示查询, 红黑名单, 推荐名单, 公示牌) and the verification of a credit
report by its serial (what the report's QR code opens). Every route here sees what the
public sees, whoever is signed in, and counts against the client's rate limit; the
firm page reads the file through `subjects.access.read_file` with the public grant,
as the public API does. The rules of every page module are in `web/pages.py`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Id, Who, ctx
from creditgov.core.errors import NotFound
from creditgov.lists import queries as lists_service
from creditgov.points import boards, merchants, screen
from creditgov.reports import overview, recommend
from creditgov.reports import service as report_service
from creditgov.security.scopes import PUBLIC, Grant, authorize
from creditgov.subjects import search as subject_search
from creditgov.subjects.access import read_file
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# ----------------------------------------------------------------------------- public side


def _public_grant(request: Request) -> Grant:
    """Every public page counts against the client's rate limit and sees what the
    public sees, whoever is signed in (the signed-in principal only shapes the chrome)."""
    request.app.state.public_limiter.hit(request.client.host if request.client else "unknown")
    return authorize(PUBLIC, "public.query")


PER_PAGE = 30  # rows of the public search and of the public lists per page
Page = Annotated[int, Query(ge=1, le=100000)]


def _pages(total: int, page: int) -> dict[str, int]:
    """The pager of a list of `total` rows, `PER_PAGE` a page: a page past the last is the last."""
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    return {"page": page, "pages": pages, "total": total, "first": (page - 1) * PER_PAGE + 1 if total else 0,
            "last": min(page * PER_PAGE, total)}


def _search(request: Request, session: DB, q: str, page: int) -> dict[str, Any]:
    """One page of the public search (firms only: the public grant), with its pager."""
    grant = _public_grant(request)
    scope, ring = grant.subject_clause(), ctx(request).keyring
    result = subject_search.search(session, ring, scope=scope, q=q, limit=PER_PAGE, offset=(page - 1) * PER_PAGE,
                                   mask_people=True)
    pager = _pages(result.total, page)
    if pager["page"] != page:  # asked past the last page: the last one
        result = subject_search.search(session, ring, scope=scope, q=q, limit=PER_PAGE,
                                       offset=(pager["page"] - 1) * PER_PAGE, mask_people=True)
    return {"result": result, "pager": pager, "q": q}


@router.get("/public")
def public_page(request: Request, who: Who, session: DB, q: Annotated[str | None, Query(max_length=100)] = None,
                page: Page = 1) -> Response:
    if q and len(q.strip()) >= 2:
        return render(request, "public_query.html", _search(request, session, q, page))
    _public_grant(request)
    return render(request, "public_query.html", {"q": q, "result": None})


@router.get("/public/results")
def public_results(request: Request, who: Who, session: DB, q: Annotated[str, Query(min_length=2, max_length=100)],
                   page: Page = 1) -> Response:
    return render(request, "_public_rows.html", _search(request, session, q, page))


@router.get("/public/firms/{subject_id}")
def public_firm_page(request: Request, subject_id: Id, who: Who, session: DB) -> Response:
    grant = _public_grant(request)
    f = read_file(session, ctx(request).keyring, grant, subject_id, "public query")
    return render(request, "public_firm.html", {"f": f})


@router.get("/public/lists")
def public_lists_page(request: Request, who: Who, session: DB,
                      list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None,
                      page: Page = 1) -> Response:
    """Every entry in force, `PER_PAGE` a page (the pager says how many in all)."""
    _public_grant(request)
    codes = [d.code for d in lists_service.definitions(session)]
    pager = _pages(overview.published_count(session, list_code=list_code), page)
    entries = overview.published_entries(session, list_code=list_code, limit=PER_PAGE,
                                         offset=(pager["page"] - 1) * PER_PAGE)
    return render(request, "public_lists.html", {"entries": entries, "codes": codes, "list_code": list_code,
                                                 "pager": pager})


@router.get("/public/recommended/{code}")
def public_recommended_page(request: Request, code: Annotated[str, Path(max_length=80, pattern=r"^[a-z][a-z0-9-]*$")],
                            who: Who, session: DB) -> Response:
    _public_grant(request)
    return render(request, "public_recommended.html", {"r": recommend.recommended(session, code)})


@router.get("/public/boards")
def public_boards_page(request: Request, who: Who, session: DB,
                       region: Annotated[str | None, Query(max_length=40)] = None,
                       model: Annotated[str | None, Query(max_length=80)] = None,
                       kind: Annotated[str | None, Query(max_length=20)] = None,
                       page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    """A street's or grid's board: one ranking per model and subject kind, paged (the
    rules are in `points.boards`)."""
    _public_grant(request)
    b = boards.board(session, region_code=region or None, model=model or None, kind=kind or None, page=page)
    open_rounds = [merchants.selection_out(session, s) for s in merchants.selections(session) if s.status == "open"]
    return render(request, "public_board.html", {"b": b, "regions": boards.regions(session),
                                                 "selections": open_rounds})


@router.get("/public/selections/{code}")
def public_selection_page(request: Request, code: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
                          who: Who, session: DB) -> Response:
    """A credit-merchant selection as the public sees it: candidates, the period, the
    decision (objections counted, their texts for the office only)."""
    _public_grant(request)
    return render(request, "public_selection.html",
                  {"sel": merchants.selection_out(session, merchants.get(session, code))})


@router.get("/public/screen")
def public_screen_page(request: Request, who: Who, session: DB) -> Response:
    """The public big screen: charts of public figures only, no sign-in (the figures
    go out as a JSON block, drawn by a static script; the API has them as
    `/api/v1/public/screen`)."""
    _public_grant(request)
    return render(request, "public_screen.html", {"s": screen.figures(session)})


@router.get("/verify/{serial}")
def verify_page(request: Request, serial: str, who: Who, session: DB) -> Response:
    _public_grant(request)
    try:
        v = report_service.verify(session, serial)
    except NotFound:
        return render(request, "verify.html", {"v": None}, status=404)
    return render(request, "verify.html", {"v": v})


__all__ = ["router"]
