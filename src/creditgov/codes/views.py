"""API routes of the credit code (under /api/v1). Thin: `codes.service` issues and
verifies, `codes.revocation` revokes and signs the list. Verification and the
revocation list are public (rate-limited): a code is shown to whoever checks it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from creditgov.api.deps import DB, keyring, require
from creditgov.api.ratelimit import public_rate
from creditgov.codes import qr, revocation, service
from creditgov.codes.models import REVOKE_REASONS
from creditgov.codes.schemas import IssueIn, VerifyIn
from creditgov.core.errors import InvalidInput
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant

router = APIRouter(tags=["codes"])
Ring = Annotated[KeyRing, Depends(keyring)]


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="manual", pattern="^(" + "|".join(REVOKE_REASONS) + ")$")


@router.post("/codes", status_code=201, operation_id="codes_issue")
def codes_issue(body: IssueIn, grant: Annotated[Grant, Depends(require("code.issue"))], session: DB,
                ring: Ring) -> dict[str, Any]:
    """Issue a subject's credit code: the text, its QR as SVG, and what it states."""
    grant.require_subject(session, body.subject_id)
    out = service.issue(session, ring, subject_id=body.subject_id, actor=grant.principal.actor)
    return {"code": out.text, "code_id": out.code_id, "issued_at": out.issued_at.isoformat() + "Z",
            "expires_at": out.expires_at.isoformat() + "Z", "states": out.states, "svg": qr.svg(out.text)}


@router.post("/codes/verify", operation_id="codes_verify", dependencies=[Depends(public_rate)])
def codes_verify(body: VerifyIn, session: DB) -> dict[str, Any]:
    """Verify a code with this platform's trust list and revocation lists only."""
    return service.verify(session, body.text)


@router.post("/codes/{code_id}/revoke", operation_id="codes_revoke")
def codes_revoke(code_id: str, body: RevokeIn, grant: Annotated[Grant, Depends(require("code.manage"))],
                 session: DB) -> dict[str, Any]:
    if not (len(code_id) == 16 and all(c in "0123456789abcdef" for c in code_id)):
        raise InvalidInput("a code id is 16 hexadecimal digits")
    row = revocation.revoke(session, code_id, reason=body.reason, actor=grant.principal.actor)
    return {"code_id": row.code_id, "reason": row.revoke_reason}


@router.post("/codes/revocations/sweep", operation_id="codes_sweep")
def codes_sweep(grant: Annotated[Grant, Depends(require("code.manage"))], session: DB) -> dict[str, Any]:
    """Revoke outstanding codes whose subject's standing moved since they were issued."""
    return revocation.sweep(session, actor=grant.principal.actor)
