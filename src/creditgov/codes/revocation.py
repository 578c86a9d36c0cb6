"""Revocation: outstanding codes made invalid when the subject's standing moves away
from what they state, and the signed revocation list verifiers take offline.

The list is a list of revoked code ids (not a status bitstring): codes live a day, so
the list only ever holds the revoked codes not yet expired — a few ids — and a code
id says nothing about who the code was for. Each region signs its own list with its
active signing key; another region imports it (`code revocations --import`), checks
it against the trust list, and serves it to its verification page with its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from creditgov.codes import documents, keys
from creditgov.codes.models import ImportedRevocations, IssuedCode
from creditgov.codes.trust import epoch, trusted
from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.scoring import bands
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.workflows.models import RepairApplication


def revoke(session: Session, code_id: str, *, reason: str, actor: str) -> IssuedCode:
    row = session.execute(select(IssuedCode).where(IssuedCode.code_id == code_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no code {code_id!r} was issued here")
    if row.revoked_at is not None:
        raise Conflict(f"code {code_id} is already revoked")
    row.revoked_at, row.revoke_reason = clock.now(), reason
    session.flush()
    audit.append(session, action="code.revoke", actor=actor, subject_id=row.subject_id,
                 detail={"code_id": code_id, "reason": reason})
    return row


def _why(session: Session, code: IssuedCode) -> str | None:
    """Why an outstanding code no longer holds, or None."""
    from creditgov.codes.service import standing

    now = standing(session, code.subject_id)
    if code.band is not None and (now.band is None or bands.rank(now.band) > bands.rank(code.band)):
        return "grade_drop"
    listed = select(ListEntryEvent.id).join(ListEntry, ListEntry.id == ListEntryEvent.entry_id).where(
        ListEntry.subject_id == code.subject_id, ListEntryEvent.to_status == "published",
        ListEntryEvent.at >= code.issued_at)
    if session.execute(select(exists(listed))).scalar():
        return "list_entry"
    repaired = select(RepairApplication.id).where(
        RepairApplication.subject_id == code.subject_id, RepairApplication.status == "approved",
        RepairApplication.updated_at >= code.issued_at)
    if session.execute(select(exists(repaired))).scalar():
        return "repair"
    return None


def sweep(session: Session, *, actor: str) -> dict[str, Any]:
    """Revoke every outstanding code whose subject's grade dropped, who entered a list,
    or whose repair was approved since it was issued. Safe to run twice."""
    now = clock.now()
    outstanding = session.execute(select(IssuedCode).where(IssuedCode.revoked_at.is_(None),
                                                           IssuedCode.expires_at > now)).scalars().all()
    out: dict[str, int] = {}
    for code in outstanding:
        why = _why(session, code)
        if why is not None:
            revoke(session, code.code_id, reason=why, actor=actor)
            out[why] = out.get(why, 0) + 1
    return {"checked": len(outstanding), "revoked": out}


def own_list(session: Session, ring: KeyRing, *, actor: str) -> dict[str, Any] | None:
    """This region's signed list of revoked codes not yet expired (None before this
    region has a signing key: it has issued nothing to revoke)."""
    if keys.active(session) is None:
        return None
    signer = keys.signer(session, ring, actor=actor)
    now = clock.now()
    ids = sorted(session.execute(select(IssuedCode.code_id).where(
        IssuedCode.revoked_at.is_not(None), IssuedCode.expires_at > now)).scalars())
    payload = {"issuer": signer.issuer, "issued_at": epoch(now), "revoked": ids}
    return documents.sign(documents.REVOCATIONS, payload, signer.key, kid=signer.kid)


def import_list(session: Session, text: str, *, actor: str) -> dict[str, Any]:
    """Keep another region's signed revocation list, checked against the trust list.
    The list already held changes nothing (`unchanged`); an older one is refused.
    Both `code revocations --import` and the exchange (`code.revocations` items) come here."""
    doc, raw, sig, payload = documents.parse(text, documents.REVOCATIONS)
    kid = doc.get("kid")
    t = trusted(session).get(kid) if isinstance(kid, str) else None
    if t is None:
        raise InvalidInput(f"the revocation list is signed by key {kid!r}, which is not in the trust list")
    documents.check(raw, sig, t.key, "the revocation list")
    issued, ids = payload.get("issued_at"), payload.get("revoked")
    issuer: str = t.issuer
    if payload.get("issuer") != issuer:
        raise InvalidInput(f"the list speaks for {payload.get('issuer')!r} but is signed by a key of {issuer!r}")
    if not isinstance(issued, int) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidInput("the revocation list is malformed")
    if t.origin == "own":
        raise Conflict("this is this region's own list")
    row = session.execute(select(ImportedRevocations).where(ImportedRevocations.issuer == issuer)
                          ).scalar_one_or_none()
    if row is not None and row.issued_at > issued:
        raise Conflict("this revocation list is older than the one held")
    if row is not None and row.issued_at == issued and (row.document == text or set(ids) <= set(row.revoked)):
        # the list held, or one signed the same second naming no code the held one does
        # not: nothing changes (a same-second list that revokes a new code applies)
        return {"issuer": issuer, "revoked": len(ids), "issued_at": issued, "unchanged": True}
    if row is None:
        row = ImportedRevocations(issuer=issuer, kid=t.kid, issued_at=issued, revoked=ids, document=text,
                                  imported_at=clock.now())
        session.add(row)
    else:
        row.kid, row.issued_at, row.revoked, row.document, row.imported_at = t.kid, issued, ids, text, clock.now()
    session.flush()
    out = {"issuer": issuer, "revoked": len(ids), "issued_at": issued}
    audit.append(session, action="code.revocations.import", actor=actor, detail=out)
    return out


def revoked_ids(session: Session) -> dict[str, set[str]]:
    """Revoked code ids by issuer: our own (from the table) and those imported."""
    from creditgov.codes.models import CodeSigningKey

    out: dict[str, set[str]] = {}
    mine = {r for r in session.execute(select(CodeSigningKey.issuer)).scalars()}
    ids = set(session.execute(select(IssuedCode.code_id).where(IssuedCode.revoked_at.is_not(None))).scalars())
    for issuer in mine:
        out.setdefault(issuer, set()).update(ids)
    for row in session.execute(select(ImportedRevocations)).scalars():
        out.setdefault(row.issuer, set()).update(row.revoked)
    return out


def revocations_made(session: Session) -> int:
    """How many codes this region has revoked, ever: it only grows, so the exchange
    sends this region's list again exactly when it has grown."""
    return int(session.execute(select(func.count()).select_from(IssuedCode)
                               .where(IssuedCode.revoked_at.is_not(None))).scalar_one())


def imported(session: Session) -> list[ImportedRevocations]:
    """Other regions' lists held here, by issuer (the exchange passes them on)."""
    return list(session.execute(select(ImportedRevocations).order_by(ImportedRevocations.issuer)).scalars())


def imported_documents(session: Session) -> list[str]:
    return list(session.execute(select(ImportedRevocations.document).order_by(ImportedRevocations.issuer)).scalars())
