"""The subject's own points page, `/me/points`: balance, history, its redemptions with
their codes (and a QR code to show at the shop) and the offers it may redeem.

The redeem form carries an idempotency key made when the page was drawn, so pressing
the button twice (or the browser resending the form) redeems once."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from creditgov.api.deps import DB, Id, Who, check_csrf
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.points import access, shop
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Key = Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]


def _qr(code: str) -> Markup:
    """The code as an inline SVG QR symbol: our own alphabet, no markup from outside."""
    return Markup(segno.make(code, error="m").svg_inline(scale=3, dark="#1f2937"))  # noqa: S704 - generated SVG of a code we made


def _page(request: Request, session: DB, who: Who, *, done: str | None = None, error: str | None = None,
          status: int = 200) -> Response:
    grant = authorize(who, "points.own")
    subject = grant.require_subject(session, who.subject_id or 0)
    data = access.summary(session, subject.id, limit=50)
    mine = access.redemptions(session, subject.id)
    for r in mine:
        r["qr"] = _qr(r["code"]) if r["status"] == "reserved" else None
    ctx: dict[str, Any] = {"subject": subject, "data": data, "offers": access.offers(session, subject_id=subject.id),
                           "mine": mine, "key": uuid.uuid4().hex, "done": done, "error": error}
    return render(request, "points_me.html", ctx, status=status)


@router.get("/me/points")
def my_points(request: Request, who: Who, session: DB,
              done: Annotated[str | None, Query(pattern="^(redeemed|cancelled)$")] = None) -> Response:
    return _page(request, session, who, done=done)


@router.post("/me/points/redeem")
async def my_points_redeem(request: Request, who: Who, session: DB, offer_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
                           key: Key) -> Response:
    grant = authorize(who, "points.own")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    try:
        r, _created = shop.redeem(session, subject_id=subject.id, offer_id=offer_id, key=key, actor=who.actor)
    except (Conflict, InvalidInput, NotFound) as exc:
        session.rollback()
        return _page(request, session, who, error=str(exc), status=409 if isinstance(exc, Conflict) else 422)
    return RedirectResponse(f"/me/points?done=redeemed#redemption-{r.id}", status_code=303)


@router.post("/me/points/redemptions/{redemption_id}/cancel")
async def my_points_cancel(request: Request, redemption_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "points.own")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    try:
        shop.cancel(session, redemption_id, actor=who.actor, subject_id=subject.id)
    except (Conflict, NotFound) as exc:
        session.rollback()
        return _page(request, session, who, error=str(exc), status=409 if isinstance(exc, Conflict) else 404)
    return RedirectResponse("/me/points?done=cancelled", status_code=303)
