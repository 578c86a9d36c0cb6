"""The points domain's pages.

- `/me/points`, the subject's own page: balance, history, its redemptions with their
  codes (and a QR code to show at the shop), the offers it may redeem, and a resident's
  choice to appear on the public boards.
- `/points/counter`, the counter: staff redeem for a resident who signs in there with
  the resident's own user name and password (checked like a sign-in, with its lock-out)
  and a second factor the resident controls (its authenticator app, or a one-time code
  sent by SMS to its registered phone: `points.counter`), and confirm the code when the
  goods are handed over.
- `/points/confirm`, where a shop's own account (or the office) confirms a code; a shop's
  account finds it on its own page, `/me/points`.
- `/points/selections…`, the credit-merchant selection: the office opens and decides a
  round; signed-in people nominate and object in the public period.
- `/points/settlement`, the office's monthly settlement with the shops: per shop, the
  redemptions settled in a month and their points, with a total, as a page and as a
  download (Excel or CSV) to pay the shops from.

Every redeem form carries an idempotency key made when the page was drawn, so pressing
the button twice (or the browser resending the form) redeems once."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from creditgov.api.deps import DB, Id, Who, check_csrf, client_address, keyring
from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound, status_of
from creditgov.points import access, boards, counter, merchants, shop
from creditgov.points.schemas import CodeIn
from creditgov.security import service as audit
from creditgov.security import signin
from creditgov.security.attempts import TooManyAttempts
from creditgov.security.scopes import Forbidden, Role, Scope, Unauthenticated, authorize
from creditgov.web import exports, i18n
from creditgov.web.forms import invalid_form
from creditgov.web.i18n import refusal
from creditgov.web.render import _, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Key = Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]
TYPED = 200  # characters of a refused code the confirmation form shows back


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
                           "mine": mine, "key": uuid.uuid4().hex, "done": done, "error": error,
                           "personal": boards.is_personal(subject), "opted_in": boards.opted_in(session, subject.id),
                           "own_shops": access.own_shops(session, subject.id)}
    return render(request, "points_me.html", ctx, status=status)


@router.get("/me/points")
def my_points(request: Request, who: Who, session: DB,
              done: Annotated[str | None, Query(pattern="^(redeemed|cancelled|board)$")] = None) -> Response:
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
        return _page(request, session, who, error=refusal(exc), status=status_of(exc))
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
        return _page(request, session, who, error=refusal(exc), status=status_of(exc))
    return RedirectResponse("/me/points?done=cancelled", status_code=303)


@router.post("/me/points/board-opt-in")
async def my_points_board_opt_in(request: Request, who: Who, session: DB,
                                 opted_in: Annotated[str, Form(pattern="^(yes|no)$")]) -> Response:
    """A resident's choice to appear (name masked) on the public boards."""
    grant = authorize(who, "points.own")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    boards.set_opt_in(session, subject_id=subject.id, opted_in=opted_in == "yes", actor=who.actor)
    return RedirectResponse("/me/points?done=board#board-choice", status_code=303)


# ------------------------------------------------------------------ the counter
def _staff(who: Who, permission: str) -> None:
    """Counter pages are for staff: a subject redeems on its own page."""
    grant = authorize(who, permission)
    if grant.scope is Scope.SELF:
        raise Forbidden("the counter is for staff; a subject redeems on its own page, /me/points")


def _counter(request: Request, session: DB, who: Who, *, done: dict[str, Any] | None = None,
             error: str | None = None, status: int = 200, challenge: dict[str, Any] | None = None) -> Response:
    return render(request, "points_counter.html", {"offers": access.offers(session), "key": uuid.uuid4().hex,
                                                   "done": done, "error": error, "challenge": challenge},
                  status=status)


@router.get("/points/counter")
def counter_page(request: Request, who: Who, session: DB) -> Response:
    _staff(who, "points.redeem")
    return _counter(request, session, who)


@router.post("/points/counter/redeem")
async def counter_redeem(request: Request, who: Who, session: DB, username: Annotated[str, Form(max_length=100)],
                         password: Annotated[str, Form(max_length=200)],
                         offer_id: Annotated[int, Form(ge=1, le=2**31 - 1)], key: Key) -> Response:
    """First step: the resident types its own user name and password at the counter
    (checked as a sign-in, failures counted towards its lock-out); then its second
    factor is asked (`points.counter`): nothing is redeemed yet."""
    _staff(who, "points.redeem")
    grant = authorize(who, "points.redeem")
    await check_csrf(request, who)
    try:
        user = signin.authenticate(session, username=username, password=password, client=client_address(request))
    except Unauthenticated:
        return _counter(request, session, who, error=_("用户名或密码错误。"), status=401)
    except TooManyAttempts as exc:
        return _counter(request, session, who, status=429,
                        error=_("失败次数过多，请 %(m)s 分钟后再试。", m=(exc.retry_after + 59) // 60))
    if user.role != Role.SUBJECT.value or user.subject_id is None:
        return _counter(request, session, who, error=_("该账户不是信用主体本人的账户。"), status=422)
    try:
        subject = grant.require_subject(session, user.subject_id)
        ch = counter.start(session, keyring(request), user=user, subject_id=subject.id, offer_id=offer_id, key=key,
                           staff=who.actor, lang=i18n.page_language(request.cookies))
    except counter.NoSecondFactor:
        return _counter(request, session, who, status=409, error=_(
            "该居民没有身份验证器，也没有登记手机号，不能在柜台兑换：请其在本人页面兑换，或到信用办登记手机号。"))
    except NotFound as exc:
        return _counter(request, session, who, error=refusal(exc), status=404)
    return _counter(request, session, who, challenge={"token": ch.token, "factor": ch.factor, "sent_to": ch.sent_to,
                                                      "subject": subject.name, "until": ch.expires_at})


@router.post("/points/counter/verify")
async def counter_verify(request: Request, who: Who, session: DB,
                         token: Annotated[str, Form(min_length=1, max_length=2000)],
                         code: Annotated[str, Form(max_length=40)]) -> Response:
    """Second step: the resident's code (SMS or authenticator app); then staff redeem
    for that subject, within their data scope."""
    _staff(who, "points.redeem")
    grant = authorize(who, "points.redeem")
    await check_csrf(request, who)
    again = {"token": token, "factor": None, "sent_to": None, "subject": None, "until": None}
    try:
        v = counter.finish(session, keyring(request), token=token, code=code, staff=who.actor,
                           client=client_address(request))
    except Unauthenticated as exc:
        used_up = "start again" in str(exc)
        return _counter(request, session, who, status=401, challenge=None if used_up else again,
                        error=_("验证码错误，请重新开始。") if used_up else _("验证码错误，请再试一次。"))
    except TooManyAttempts as exc:
        return _counter(request, session, who, status=429,
                        error=_("失败次数过多，请 %(m)s 分钟后再试。", m=(exc.retry_after + 59) // 60))
    except (Conflict, InvalidInput):
        return _counter(request, session, who, status=409, error=_("验证码已失效，请重新开始。"))
    session.commit()  # the verified factor stays on the audit chain even if the redemption is refused
    try:
        subject = grant.require_subject(session, v.subject_id)
        r, _created = shop.redeem(session, subject_id=subject.id, offer_id=v.offer_id, key=v.key, actor=who.actor)
    except (Conflict, InvalidInput, NotFound) as exc:
        session.rollback()
        return _counter(request, session, who, error=refusal(exc), status=status_of(exc))
    audit.append(session, action="points.counter.redeem", actor=who.actor, subject_id=subject.id,
                 detail={"redemption": r.id, "signed_in_as": v.user.username, "second_factor": v.factor})
    out = {**access.redemption_out(r), "qr": _qr(r.code), "subject": subject.name,
           "balance": access.summary(session, subject.id, limit=0)["balance"]}
    return _counter(request, session, who, done=out)


def _confirm(request: Request, session: DB, who: Who, *, done: dict[str, Any] | None = None,
             error: str | None = None, typed: str = "", status: int = 200) -> Response:
    """The confirmation form; a refused code is said in the reader's words above the
    form, which keeps what was typed (at most `TYPED` characters of it)."""
    grant = authorize(who, "points.confirm")
    shops = access.own_shops(session, who.subject_id) if grant.scope is Scope.SELF and who.subject_id else []
    return render(request, "points_confirm.html", {"done": done, "error": error, "typed": typed[:TYPED],
                                                   "own_shops": shops, "self": grant.scope is Scope.SELF},
                  status=status)


@router.get("/points/confirm")
def confirm_page(request: Request, who: Who, session: DB) -> Response:
    return _confirm(request, session, who)


@router.post("/points/confirm")
async def confirm_submit(request: Request, who: Who, session: DB, code: Annotated[str, Form()] = "") -> Response:
    """A shop's own account confirms its codes; the office confirms any at its counter.
    The code is checked here (`CodeIn`), not by the form's declaration, so a code of the
    wrong length is said on the form instead of a bare 422 page."""
    grant = authorize(who, "points.confirm")
    await check_csrf(request, who)
    typed = code.strip()
    try:
        CodeIn.model_validate({"code": typed})
    except ValidationError as exc:
        return _confirm(request, session, who, typed=typed, status=422,
                        error=invalid_form(exc, {"code": _("兑换码")}))
    shop_subject = who.subject_id if grant.scope is Scope.SELF else None
    if grant.scope is Scope.SELF and shop_subject is None:
        return _confirm(request, session, who, typed=typed, status=404, error=_("没有这个兑换码。"))
    started = clock.now()
    try:
        r = shop.confirm(session, code=typed.upper(), actor=who.actor, shop_subject_id=shop_subject)
    except (Conflict, NotFound) as exc:
        session.rollback()
        return _confirm(request, session, who, typed=typed, error=refusal(exc), status=status_of(exc))
    # A code settled before this request (shown again at the counter, or a second press)
    # is said so, with when: the counter must not hand the goods over twice.
    already = r.settled_at is not None and r.settled_at < started
    return _confirm(request, session, who, done={**access.redemption_out(r), "already": already})


# ------------------------------------------------------------------ the credit-merchant selection
Code = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, Form(min_length=1, max_length=2000)]


def _selection(request: Request, session: DB, who: Who, code: str, *, error: str | None = None,
               done: str | None = None, status: int = 200) -> Response:
    grant = authorize(who, "awards.comment")
    office = grant.principal.role is Role.CREDIT_OFFICE
    sel = merchants.selection_out(session, merchants.get(session, code), public=not office)
    return render(request, "points_selection.html", {"sel": sel, "office": office, "error": error, "done": done},
                  status=status)


@router.get("/points/selections")
def selections_page(request: Request, who: Who, session: DB) -> Response:
    grant = authorize(who, "awards.comment")
    rounds = [merchants.selection_out(session, s) for s in merchants.selections(session)]
    return render(request, "points_selections.html", {"rounds": rounds,
                                                      "office": grant.principal.role is Role.CREDIT_OFFICE})


@router.post("/points/selections")
async def selections_open(request: Request, who: Who, session: DB,
                          code: Annotated[str, Form(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
                          title: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    grant = authorize(who, "awards.manage")
    await check_csrf(request, who)
    merchants.open_selection(session, code=code, title=title, actor=grant.principal.actor)
    return RedirectResponse(f"/points/selections/{code}", status_code=303)


@router.get("/points/selections/{code}")
def selection_page(request: Request, code: Code, who: Who, session: DB,
                   done: Annotated[str | None, Query(pattern="^(nominated|objected|decided)$")] = None) -> Response:
    return _selection(request, session, who, code, done=done)


async def _note(request: Request, code: str, what: str, who: Who, session: DB, subject_id: int,
                text: str) -> Response:
    grant = authorize(who, "awards.comment")
    await check_csrf(request, who)
    act = merchants.nominate if what == "nominated" else merchants.object_to
    try:
        act(session, code=code, subject_id=subject_id, text=text, actor=grant.principal.actor)
    except (Conflict, InvalidInput, NotFound) as exc:
        session.rollback()
        return _selection(request, session, who, code, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/points/selections/{code}?done={what}", status_code=303)


@router.post("/points/selections/{code}/nominate")
async def selection_nominate(request: Request, code: Code, who: Who, session: DB,
                             subject_id: Annotated[int, Form(ge=1, le=2**31 - 1)], text: Text) -> Response:
    return await _note(request, code, "nominated", who, session, subject_id, text)


@router.post("/points/selections/{code}/object")
async def selection_object(request: Request, code: Code, who: Who, session: DB,
                           subject_id: Annotated[int, Form(ge=1, le=2**31 - 1)], text: Text) -> Response:
    return await _note(request, code, "objected", who, session, subject_id, text)


@router.post("/points/selections/{code}/decision")
async def selection_decide(request: Request, code: Code, who: Who, session: DB,
                           decision_no: Annotated[str, Form(min_length=1, max_length=120)]) -> Response:
    """The office's decision: a candidate is rejected by a reason typed beside it
    (form field `reject-<subject id>`); the others are awarded."""
    grant = authorize(who, "awards.manage")
    await check_csrf(request, who)
    form = await request.form()
    reject = {int(k.removeprefix("reject-")): str(v) for k, v in form.items()
              if k.startswith("reject-") and k.removeprefix("reject-").isdigit() and str(v).strip()}
    try:
        merchants.decide(session, code=code, decision_no=decision_no, reject=reject, actor=grant.principal.actor)
    except (Conflict, InvalidInput, NotFound) as exc:
        session.rollback()
        return _selection(request, session, who, code, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/points/selections/{code}?done=decided", status_code=303)


# ------------------------------------------------------------------ the monthly settlement
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _last_month() -> str:
    return clock.add_months(clock.today().replace(day=1), -1).strftime("%Y-%m")


@router.get("/points/settlement")
def settlement_page(request: Request, who: Who, session: DB, month: Annotated[
        str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")] = None) -> Response:
    """The month's settlement with the shops (last month unless one is chosen)."""
    authorize(who, "shops.manage")
    month = month or _last_month()
    rows = shop.settlement(session, month=month)
    return render(request, "points_settlement.html", {
        "month": month, "rows": rows, "total": {"redemptions": sum(r["redemptions"] for r in rows),
                                                "points": sum(r["points"] for r in rows)}})


@router.get("/points/settlement/export.{fmt}")
def settlement_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern=exports.FMT)],
                      month: Month) -> Response:
    """The month's settlement as Excel or CSV, with its total row; audited."""
    authorize(who, "shops.manage")
    lang = i18n.page_language(request.cookies)
    found = shop.settlement(session, month=month)
    rows = access.settlement_rows(found, lang)
    audit.append(session, action="points.settlement.export", actor=who.actor,
                 detail={"format": fmt, "month": month, "shops": len(found)})
    session.commit()  # the entry is written before the file goes out
    return exports.stream(fmt, filename=f"points-settlement-{month}",
                          title=f"积分结算 {month}" if lang == "zh" else f"Points settlement {month}",
                          header=access.SETTLEMENT_HEADER[lang], rows=iter(rows), count=len(rows))
