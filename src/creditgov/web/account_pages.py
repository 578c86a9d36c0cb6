"""The signed-in subject's own consents (授权查询): revoking one from its own page
(我的信用, `web/workflow_pages.py` lists them). Same rules as the API
(`DELETE /api/v1/consents/{id}`): the service revokes only the subject's own consent
(another's answers 404, like a missing one), and revoking twice changes nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditgov.api.deps import DB, Id, Who, check_csrf
from creditgov.security import users as user_service
from creditgov.security.scopes import authorize

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.post("/me/credit/consents/{consent_id}/revoke")
async def my_consent_revoke(request: Request, consent_id: Id, who: Who, session: DB) -> Response:
    """The subject ends a consent it gave: the organisation reads its file no more."""
    authorize(who, "consents.grant")
    await check_csrf(request, who)
    subject = authorize(who, "own.view").require_subject(session, who.subject_id or 0)
    user_service.revoke_consent(session, consent_id=consent_id, subject_id=subject.id, actor=who.actor)
    return RedirectResponse("/me/credit?done=revoked#consents", status_code=303)


__all__ = ["router"]
