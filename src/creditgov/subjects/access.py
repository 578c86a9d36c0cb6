"""Reading a credit file through a grant: the masking policy every edge applies.

The API (`subjects/views.py`, the public side of `reports/views.py`) and the pages
(the credit file, the public firm page) show a file through `read_file`, so what a
grant hides — records out of scope, readers, residents' names and links, the
attributes of a published-only view — is decided once. No HTTP types here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant, default_purpose
from creditgov.subjects import service as subject_service


def read_file(session: Session, ring: KeyRing, grant: Grant, subject_id: int, purpose: str | None) -> dict[str, Any]:
    """The credit file as this grant may see it; the read is audited by the service."""
    grant.require_subject(session, subject_id)
    f = subject_service.credit_file(session, ring, str(subject_id), actor=grant.principal.actor,
                                    purpose=purpose or default_purpose(grant.principal),
                                    mask_people=grant.masks_people)
    out = f.as_dict()
    out["records"] = grant.visible_records(out["records"])
    if not grant.shows_readers:
        out["readers"] = []
    if grant.masks_people and subject_id != grant.principal.subject_id:  # one's own name is never masked to oneself
        out["name"] = subject_service.display_name(f.subject, masked=True)
        out["links"] = [lk for lk in out["links"] if lk["direction"] == "firm"]
    if grant.scope.value == "published":
        out["resident_id"] = None
        out["attributes"] = {}
    return out


__all__ = ["read_file"]
