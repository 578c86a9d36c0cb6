"""API routes of credit points and the points supermarket. Thin: the rules are in
`points.ledger` and `points.shop`, the shapes in `points.access`.

Who does what: a subject reads its own balance and history and redeems for itself; the
credit office's counter (and a grid worker for residents of the grid) redeems for a
subject present there. Redeeming needs an `Idempotency-Key` header: a retried request
with the same key answers the first redemption (200) instead of making another (201).
A shop's own accounts confirm its codes; the office confirms at its counter.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from creditgov.api.deps import DB, Id, Who, require
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.points import access, boards, ledger, merchants, shop
from creditgov.points.models import Redemption
from creditgov.points.schemas import (
    AwardIn,
    CandidateNoteIn,
    CodeIn,
    DecisionIn,
    OfferIn,
    OptInIn,
    RedeemIn,
    SelectionIn,
    ShopIn,
)
from creditgov.security import service as audit
from creditgov.security.scopes import Grant, Role, Scope

router = APIRouter(tags=["points"])
PointsRead = Annotated[Grant, Depends(require("points.read"))]
PointsRedeem = Annotated[Grant, Depends(require("points.redeem"))]
PointsConfirm = Annotated[Grant, Depends(require("points.confirm"))]
PointsAward = Annotated[Grant, Depends(require("points.award"))]
PointsApprove = Annotated[Grant, Depends(require("points.approve"))]
OffersRead = Annotated[Grant, Depends(require("offers.read"))]
ShopsManage = Annotated[Grant, Depends(require("shops.manage"))]
PointsOwn = Annotated[Grant, Depends(require("points.own"))]
AwardsManage = Annotated[Grant, Depends(require("awards.manage"))]
AwardsComment = Annotated[Grant, Depends(require("awards.comment"))]
SelectionCode = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=100)]


def _own_subject(grant: Grant, session: DB, subject_id: int | None) -> int:
    """The subject a redemption or cancellation is for: a subject acts for itself; staff
    name one in their scope."""
    if grant.scope is Scope.SELF:
        own = grant.principal.subject_id
        if own is None or (subject_id is not None and subject_id != own):
            raise NotFound("subject not found in your data scope")
        return own
    if subject_id is None:
        raise InvalidInput("name the subject (subject_id) the redemption is for")
    return grant.require_subject(session, subject_id).id


@router.get("/points/subjects/{subject_id}", operation_id="points_balance")
def points_balance(subject_id: Id, grant: PointsRead, session: DB,
                   before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """Balance and history (newest first; `before` pages on). Another person's reading
    of a subject's points goes to the audit chain."""
    grant.require_subject(session, subject_id)
    if grant.scope is not Scope.SELF:
        audit.append(session, action="points.read", actor=grant.principal.actor, subject_id=subject_id,
                     purpose="points")
    return access.summary(session, subject_id, limit=limit, before=before)


@router.get("/points/offers", operation_id="points_offers")
def points_offers(grant: OffersRead, session: DB) -> list[dict[str, Any]]:
    """Offers valid today; for a subject, each says why it may not redeem it (or null)."""
    return access.offers(session, subject_id=grant.principal.subject_id if grant.principal.role is Role.SUBJECT
                         else None)


@router.get("/points/shops", operation_id="points_shops")
def points_shops(grant: OffersRead, session: DB) -> list[dict[str, Any]]:
    return access.shops(session)


@router.post("/points/shops", status_code=201, operation_id="points_shop_add")
def points_shop_add(body: ShopIn, grant: ShopsManage, session: DB) -> dict[str, Any]:
    s = shop.add_shop(session, body, actor=grant.principal.actor)
    return {"id": s.id, "code": s.code}


@router.post("/points/offers", status_code=201, operation_id="points_offer_add")
def points_offer_add(body: OfferIn, grant: ShopsManage, session: DB) -> dict[str, Any]:
    o = shop.add_offer(session, body, actor=grant.principal.actor)
    return {"id": o.id}


@router.get("/points/settlement", operation_id="points_settlement")
def points_settlement(grant: ShopsManage, session: DB,
                      month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> list[dict[str, Any]]:
    """Per shop, the redemptions settled in the month: the monthly settlement."""
    return shop.settlement(session, month=month)


@router.post("/points/redemptions", status_code=201, operation_id="points_redeem")
def points_redeem(body: RedeemIn, key: IdempotencyKey, grant: PointsRedeem, session: DB,
                  response: Response) -> dict[str, Any]:
    sid = _own_subject(grant, session, body.subject_id)
    r, created = shop.redeem(session, subject_id=sid, offer_id=body.offer_id, key=key, actor=grant.principal.actor)
    if not created:
        response.status_code = 200
    return access.redemption_out(r)


@router.post("/points/redemptions/confirm", operation_id="points_confirm")
def points_confirm(body: CodeIn, grant: PointsConfirm, session: DB, who: Who) -> dict[str, Any]:
    """The shop hands the goods over and confirms the code: settled."""
    shop_subject = None
    if grant.scope is Scope.SELF:
        if who.subject_id is None:
            raise NotFound("no redemption has this code")
        shop_subject = who.subject_id
    return access.redemption_out(shop.confirm(session, code=body.code, actor=who.actor,
                                              shop_subject_id=shop_subject))


@router.post("/points/redemptions/{redemption_id}/cancel", operation_id="points_cancel")
def points_cancel(redemption_id: Id, grant: PointsRedeem, session: DB) -> dict[str, Any]:
    r = session.get(Redemption, redemption_id)
    if r is None:
        raise NotFound(f"redemption {redemption_id} not found")
    sid = _own_subject(grant, session, r.subject_id if grant.scope is not Scope.SELF else None)
    return access.redemption_out(shop.cancel(session, redemption_id, actor=grant.principal.actor, subject_id=sid))


@router.post("/points/awards", status_code=201, operation_id="points_award",
             responses={200: {"description": "The same proposal was already waiting: that one, not a second"}})
def points_award(body: AwardIn, grant: PointsAward, session: DB, response: Response) -> dict[str, Any]:
    """Propose a manual award; it is credited when a second person approves it. Sent
    again while the first waits (a retry), it answers the first with 200."""
    grant.require_subject(session, body.subject_id)
    a, new = ledger.propose_award(session, subject_id=body.subject_id, points=body.points, reason=body.reason,
                                  actor=grant.principal.actor)
    if not new:
        response.status_code = 200
    return {"id": a.id, "status": a.status}


@router.post("/points/awards/{award_id}/approve", operation_id="points_award_approve")
def points_award_approve(award_id: Id, grant: PointsApprove, session: DB) -> dict[str, Any]:
    a = ledger.decide_award(session, award_id, approve=True, actor=grant.principal.actor)
    return {"id": a.id, "status": a.status, "entry_id": a.entry_id}


@router.post("/points/awards/{award_id}/reject", operation_id="points_award_reject")
def points_award_reject(award_id: Id, grant: PointsApprove, session: DB) -> dict[str, Any]:
    a = ledger.decide_award(session, award_id, approve=False, actor=grant.principal.actor)
    return {"id": a.id, "status": a.status}


# ------------------------------------------------------------------ the public boards: a resident's choice
@router.put("/points/board-opt-in", operation_id="points_board_opt_in")
def points_board_opt_in(body: OptInIn, grant: PointsOwn, session: DB, who: Who) -> dict[str, Any]:
    """A resident chooses to appear on the public boards (name masked) or not."""
    sid = grant.require_subject(session, who.subject_id or 0).id
    row = boards.set_opt_in(session, subject_id=sid, opted_in=body.opted_in, actor=who.actor)
    return {"subject_id": sid, "opted_in": row.opted_in}


# ------------------------------------------------------------------ the credit-merchant selection
@router.get("/points/selections", operation_id="points_selections")
def points_selections(grant: AwardsComment, session: DB) -> list[dict[str, Any]]:
    return [merchants.selection_out(session, s) for s in merchants.selections(session)]


@router.post("/points/selections", status_code=201, operation_id="points_selection_open")
def points_selection_open(body: SelectionIn, grant: AwardsManage, session: DB) -> dict[str, Any]:
    """Open a round: candidates drawn by the criteria, the public period counted in working days."""
    sel = merchants.open_selection(session, code=body.code, title=body.title, actor=grant.principal.actor)
    return merchants.selection_out(session, sel, public=False)


@router.get("/points/selections/{code}", operation_id="points_selection")
def points_selection(code: SelectionCode, grant: AwardsComment, session: DB) -> dict[str, Any]:
    """A round; the office also reads the nominations' and objections' texts."""
    office = grant.principal.role in (Role.CREDIT_OFFICE,)
    return merchants.selection_out(session, merchants.get(session, code), public=not office)


@router.post("/points/selections/{code}/nominations", status_code=201, operation_id="points_selection_nominate")
def points_selection_nominate(code: SelectionCode, body: CandidateNoteIn, grant: AwardsComment,
                              session: DB) -> dict[str, Any]:
    c = merchants.nominate(session, code=code, subject_id=body.subject_id, text=body.text,
                           actor=grant.principal.actor)
    return {"candidate": c.id, "subject_id": c.subject_id, "status": c.status}


@router.post("/points/selections/{code}/objections", status_code=201, operation_id="points_selection_object")
def points_selection_object(code: SelectionCode, body: CandidateNoteIn, grant: AwardsComment,
                            session: DB) -> dict[str, Any]:
    o = merchants.object_to(session, code=code, subject_id=body.subject_id, text=body.text,
                            actor=grant.principal.actor)
    return {"objection": o.id}


@router.post("/points/selections/{code}/decision", operation_id="points_selection_decide")
def points_selection_decide(code: SelectionCode, body: DecisionIn, grant: AwardsManage,
                            session: DB) -> dict[str, Any]:
    """The credit office decides once the public period has passed; awards become records."""
    return merchants.decide(session, code=code, decision_no=body.decision_no, reject=body.reject,
                            actor=grant.principal.actor)
