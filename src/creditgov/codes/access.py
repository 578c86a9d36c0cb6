"""Read logic the credit code's edges share: the bundle the verification page loads
once (trust list, revocation lists, words), and a subject's outstanding codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.codes import revocation, service
from creditgov.codes.models import IssuedCode
from creditgov.codes.trust import entries, epoch, pinned_root
from creditgov.core import clock
from creditgov.security.crypto import KeyRing


def bundle(session: Session, ring: KeyRing) -> dict[str, Any]:
    """Everything the page needs to verify offline: every trusted key, the province's
    signed trust list as imported (`trust_list`: the page takes other regions' keys
    only from it, after checking its signature against the root pinned in the page
    itself), this region's signed revocation list and those imported (the page checks
    their signatures), and the words for what codes state. Nothing about any subject."""
    root = pinned_root(session)
    return {"generated_at": epoch(clock.now()), "keys": entries(session),
            "root": root.public_key if root else None,
            "trust_list": _parsed(root.list_text) if root is not None and root.list_text else None,
            "revocations": [d for d in (revocation.own_list(session, ring, actor="web:codes"),
                                        *[_parsed(t) for t in revocation.imported_documents(session)]) if d],
            "labels": {k: {c: list(v) for c, v in d.items()} for k, d in service.labels().items()}}


def page_config(session: Session) -> dict[str, Any]:
    """What the verification page pins in its own markup, apart from the bundle it
    fetches: the province root's public key (the trust list must verify against it)
    and this region's own public keys (trusted from the moment they are made, so not
    in any list the province signed yet)."""
    root = pinned_root(session)
    own = [{k: e[k] for k in ("kid", "issuer", "issuer_name", "public_key", "trust_until")}
           for e in entries(session) if e["origin"] == "own"]
    return {"root": root.public_key if root else "", "own_keys": own}


def _parsed(text: str) -> Any:
    import json

    return json.loads(text)


def outstanding(session: Session, subject_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(IssuedCode).where(IssuedCode.subject_id == subject_id)
                           .order_by(IssuedCode.id.desc()).limit(20)).scalars()
    now = clock.now()
    return [{"code_id": r.code_id, "grade": r.grade, "band": r.band, "issued_at": r.issued_at,
             "expires_at": r.expires_at, "revoked": r.revoked_at is not None, "reason": r.revoke_reason,
             "expired": r.expires_at <= now} for r in rows]


def current(session: Session, subject_id: int) -> IssuedCode | None:
    """The subject's newest code still valid here (not expired, not revoked)."""
    return session.execute(select(IssuedCode).where(
        IssuedCode.subject_id == subject_id, IssuedCode.revoked_at.is_(None), IssuedCode.expires_at > clock.now(),
        IssuedCode.text.is_not(None)).order_by(IssuedCode.id.desc()).limit(1)).scalar_one_or_none()
