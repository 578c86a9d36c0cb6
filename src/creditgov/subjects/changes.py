"""Correcting a subject's data and merging duplicates, with four eyes (主体纠错与合并).

The same rule as manual entry (`ingest/manual.py`): an officer proposes with a reason;
a second person — never the proposer — approves, and only then is anything changed, or
rejects with a reason; every step is on the audit chain.

- A correction names the fields it changes: name, identifier (checked like an ingested
  one, GB 32100 / GB 11643, and refused if another subject holds it: that is a merge),
  region (a region code), industry, established_on, address and kind attributes (merged
  into the subject's; an empty value removes one). The values it replaced are kept
  (encrypted, as the proposal is) so the history shows before and after.
- A merge retires a duplicate into a survivor of the same kind of identifier: every row
  naming the duplicate moves to the survivor (`subjects.merge`), listed in the change,
  the duplicate's status becomes `merged`. Records keep their own history untouched.
- An undo of an applied merge puts back exactly what moved, or is refused with the
  rows that stop it; a later merge of either subject must be undone first.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_id
from creditgov.subjects import merge as mover
from creditgov.subjects.identifiers import clean_resident_id, clean_uscc
from creditgov.subjects.models import Region, Subject, SubjectChange

FIELDS = ("name", "identifier", "region", "industry", "established_on", "address", "attributes")
TEXT_MAX = 2000


def _subject(session: Session, subject_id: int) -> Subject:
    s = session.get(Subject, subject_id)
    if s is None:
        raise NotFound(f"subject {subject_id} not found")
    return s


def _personal(s: Subject) -> bool:
    return s.resident_id_index is not None


def _reason(text: str, what: str) -> str:
    why = (text or "").strip()
    if not why:
        raise InvalidInput(f"{what} needs a reason")
    return why[:TEXT_MAX]


def _clean(session: Session, keyring: KeyRing, s: Subject, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The proposed values, checked now as ingestion would check them."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s) {sorted(unknown)}; allowed: {', '.join(FIELDS)}")
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if k == "attributes":
            if not isinstance(v, Mapping) or not v:
                raise InvalidInput("attributes must be a non-empty mapping of name to value")
            out[k] = {str(a)[:60]: ("" if x is None else str(x).strip()[:TEXT_MAX]) for a, x in v.items()}
            continue
        val = ("" if v is None else str(v)).strip()
        if len(val) > TEXT_MAX:
            raise InvalidInput(f"{k} is longer than {TEXT_MAX} characters")
        if k == "name" and not val:
            raise InvalidInput("a subject's name cannot be empty")
        if k == "identifier":
            val = clean_resident_id(val) if _personal(s) else clean_uscc(val.upper())
            other = (select(Subject.id).where(Subject.resident_id_index.in_(keyring.lookup_indexes(val)))
                     if _personal(s) else select(Subject.id).where(Subject.uscc == val))
            held = session.execute(other.where(Subject.id != s.id)).scalar()
            if held is not None:
                raise Conflict(f"subject {held} already holds this identifier: merge the duplicate instead")
        if k == "region" and val and session.execute(select(Region.id).where(Region.code == val)).scalar() is None:
            raise InvalidInput(f"unknown region code {val!r}")
        if k == "established_on" and val:
            try:
                val = dt.date.fromisoformat(val).isoformat()
            except ValueError:
                raise InvalidInput(f"established_on {val!r} is not a date (YYYY-MM-DD)") from None
        out[k] = val
    if not out:
        raise InvalidInput("a correction names at least one field")
    return out


def propose_correction(session: Session, keyring: KeyRing, *, subject_id: int, fields: Mapping[str, Any],
                       reason: str, actor: str | None = None) -> SubjectChange:
    actor = actor or audit.default_actor()
    s = _subject(session, subject_id)
    if s.status == "merged":
        raise Conflict(f"subject {subject_id} was merged into another: correct the survivor")
    why = _reason(reason, "a correction")
    vals = _clean(session, keyring, s, fields)
    c = SubjectChange(kind="correction", target_id=s.id, payload=keyring.encrypt(json.dumps(vals, ensure_ascii=False)),
                      moved=[], kept=[], created=[], reason=why, status="proposed", proposed_by=actor,
                      proposed_at=clock.now())
    session.add(c)
    session.flush()
    audit.append(session, action="subject.correction.propose", actor=actor, subject_id=s.id,
                 detail={"change": c.id, "fields": sorted(vals)})
    return c


def propose_merge(session: Session, *, survivor_id: int, duplicate_id: int, reason: str,
                  actor: str | None = None) -> SubjectChange:
    actor = actor or audit.default_actor()
    if survivor_id == duplicate_id:
        raise InvalidInput("a subject cannot be merged into itself")
    keep, dup = _subject(session, survivor_id), _subject(session, duplicate_id)
    for x in (keep, dup):
        if x.status == "merged":
            raise Conflict(f"subject {x.id} was already merged into another")
    if _personal(keep) != _personal(dup):
        raise InvalidInput("a person and an organisation cannot be merged: their identifiers differ in kind")
    why = _reason(reason, "a merge")
    c = SubjectChange(kind="merge", target_id=keep.id, duplicate_id=dup.id, moved=[], kept=[], created=[],
                      reason=why, status="proposed", proposed_by=actor, proposed_at=clock.now())
    session.add(c)
    session.flush()
    audit.append(session, action="subject.merge.propose", actor=actor, subject_id=keep.id,
                 detail={"change": c.id, "survivor": keep.id, "duplicate": dup.id})
    return c


def _get(session: Session, change_id: int) -> SubjectChange:
    c = session.execute(select(SubjectChange).where(SubjectChange.id == change_id).with_for_update()) \
        .scalar_one_or_none()
    if c is None:
        raise NotFound(f"subject change {change_id} not found")
    return c


def _apply_correction(session: Session, keyring: KeyRing, c: SubjectChange) -> None:
    s = _subject(session, c.target_id)
    vals: dict[str, Any] = json.loads(keyring.decrypt(c.payload or "{}"))
    vals = _clean(session, keyring, s, vals)  # checked again: the store may have moved since the proposal
    region_code = None
    if s.region_id is not None:
        region_code = session.execute(select(Region.code).where(Region.id == s.region_id)).scalar()
    ident = s.uscc or (keyring.decrypt(s.resident_id) if s.resident_id else None)
    before = {"name": s.name, "identifier": ident, "region": region_code, "industry": s.industry,
              "established_on": s.established_on.isoformat() if s.established_on else None,
              "address": s.address, "attributes": dict(s.attributes or {})}
    c.before = keyring.encrypt(json.dumps({k: before[k] for k in vals}, ensure_ascii=False))
    for k, v in vals.items():
        if k == "name":
            s.name = v
        elif k == "identifier":
            if _personal(s):
                s.resident_id, s.resident_id_index = keyring.encrypt(v), keyring.blind_index(v)
                s.resident_id_masked = mask_id(v)
            else:
                s.uscc = v
        elif k == "region":
            s.region_id = session.execute(select(Region.id).where(Region.code == v)).scalar() if v else None
        elif k == "established_on":
            s.established_on = dt.date.fromisoformat(v) if v else None
        elif k == "attributes":
            attrs = dict(s.attributes or {})
            for a, x in v.items():
                if x == "":
                    attrs.pop(a, None)
                else:
                    attrs[a] = x
            s.attributes = attrs
        else:
            setattr(s, k, v or None)
    s.updated_at = clock.now()


def _apply_merge(session: Session, c: SubjectChange) -> None:
    assert c.duplicate_id is not None
    keep, dup = _subject(session, c.target_id), _subject(session, c.duplicate_id)
    for x in (keep, dup):
        if x.status == "merged":
            raise Conflict(f"subject {x.id} was merged into another since the proposal")
    out = mover.move(session, duplicate=dup.id, survivor=keep.id)
    c.moved, c.kept, c.created = out["moved"], out["kept"], out["created"]
    c.before = json.dumps({"duplicate_status": dup.status})
    dup.status, dup.updated_at = "merged", clock.now()


def decide(session: Session, keyring: KeyRing, change_id: int, *, approve: bool, note: str = "",
           actor: str | None = None) -> SubjectChange:
    """The second person's decision; approval applies the change in the same transaction."""
    actor = actor or audit.default_actor()
    c = _get(session, change_id)
    if c.status != "proposed":
        raise Conflict(f"subject change {change_id} was already {c.status}")
    if actor == c.proposed_by:
        raise Conflict("a subject change is approved or rejected by a second person, not the one who proposed it")
    if not approve and not note.strip():
        raise InvalidInput("rejecting a subject change needs a reason")
    if approve:
        if c.kind == "correction":
            _apply_correction(session, keyring, c)
        else:
            _apply_merge(session, c)
    c.status, c.decided_by, c.decided_at = ("approved" if approve else "rejected"), actor, clock.now()
    c.note = note.strip()[:TEXT_MAX] or None
    session.flush()
    audit.append(session, action=f"subject.{c.kind}.{c.status}", actor=actor, subject_id=c.target_id,
                 detail={"change": c.id, "duplicate": c.duplicate_id, "moved": len(c.moved), "kept": len(c.kept),
                         "created": len(c.created)})
    return c


def undo_merge(session: Session, change_id: int, *, reason: str, actor: str | None = None) -> SubjectChange:
    """Put back what an applied merge moved, or refuse (Conflict) naming what stops it."""
    actor = actor or audit.default_actor()
    c = _get(session, change_id)
    if c.kind != "merge":
        raise InvalidInput(f"subject change {change_id} is a {c.kind}, not a merge")
    if c.status != "approved":
        raise Conflict(f"subject change {change_id} is {c.status}: only an applied merge can be undone")
    why = _reason(reason, "an undo")
    assert c.duplicate_id is not None
    later = session.execute(select(SubjectChange.id).where(
        SubjectChange.kind == "merge", SubjectChange.status == "approved", SubjectChange.id > c.id,
        or_(SubjectChange.target_id.in_([c.target_id, c.duplicate_id]),
            SubjectChange.duplicate_id.in_([c.target_id, c.duplicate_id])))
        .order_by(SubjectChange.id.desc())).scalar()
    if later is not None:
        raise Conflict(f"merge {later} since involves these subjects: undo it first")
    problems = mover.check_undo(session, duplicate=c.duplicate_id, survivor=c.target_id, moved=c.moved,
                                created=c.created)
    # After a merge, rows naming the duplicate's identifier are filed under the survivor, and a
    # record keeps no trace of which identifier its row named: with any record filed under the
    # survivor since, an undo could leave the duplicate's records with the survivor.
    since = session.execute(select(func.count(CreditRecord.id)).where(
        CreditRecord.subject_id == c.target_id, CreditRecord.created_at > (c.decided_at or c.proposed_at))).scalar_one()
    if since:
        problems.append(f"{since} credit record(s) were filed under subject {c.target_id} since the merge, and "
                        f"some may be subject {c.duplicate_id}'s (its identifier's rows go to the survivor "
                        "after a merge): revoke the wrong ones through objection first")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise Conflict("the merge cannot be undone exactly: " + "; ".join(problems[:5]) + more)
    n = mover.put_back(session, duplicate=c.duplicate_id, survivor=c.target_id, moved=c.moved, created=c.created)
    dup = _subject(session, c.duplicate_id)
    dup.status = json.loads(c.before or "{}").get("duplicate_status", "confirmed")
    dup.updated_at = clock.now()
    c.status, c.undone_by, c.undone_at, c.undo_reason = "undone", actor, clock.now(), why
    session.flush()
    audit.append(session, action="subject.merge.undone", actor=actor, subject_id=c.target_id,
                 detail={"change": c.id, "duplicate": c.duplicate_id, "restored": n, "removed": len(c.created)})
    return c


def merged_into(session: Session) -> dict[int, int]:
    """Each merged duplicate's survivor (through chains: a survivor merged in turn), for
    ingestion to file new rows of a duplicate's identifier under its survivor."""
    direct = {int(d): int(t) for d, t in session.execute(select(SubjectChange.duplicate_id, SubjectChange.target_id)
                                                            .where(SubjectChange.kind == "merge",
                                                                   SubjectChange.status == "approved"))}
    out = {}
    for d, t in direct.items():
        seen = {d}
        while t in direct and t not in seen:
            seen.add(t)
            t = direct[t]
        out[d] = t
    return out


def changes(session: Session, *, status: str | None = None, subject_id: int | None = None,
            limit: int = 200) -> list[SubjectChange]:
    q = select(SubjectChange).order_by(SubjectChange.id.desc()).limit(limit)
    if status:
        q = q.where(SubjectChange.status == status)
    if subject_id is not None:
        q = q.where(or_(SubjectChange.target_id == subject_id, SubjectChange.duplicate_id == subject_id))
    return list(session.execute(q).scalars())


def _shown(vals: dict[str, Any]) -> dict[str, Any]:
    ident = vals.get("identifier")
    if isinstance(ident, str) and ident[:17].isdigit():
        vals["identifier"] = mask_id(ident)
    return vals


def change_dict(keyring: KeyRing, c: SubjectChange) -> dict[str, Any]:
    """A change as shown: ID numbers masked; times in China Standard Time."""
    def cst(t: dt.datetime | None) -> str | None:
        return clock.to_cst(t).isoformat() if t else None
    fields = _shown(json.loads(keyring.decrypt(c.payload))) if c.payload else {}
    before = _shown(json.loads(keyring.decrypt(c.before))) if c.before and c.kind == "correction" else {}
    return {"id": c.id, "kind": c.kind, "subject_id": c.target_id, "duplicate_id": c.duplicate_id,
            "fields": fields, "before": before, "reason": c.reason, "status": c.status,
            "proposed_by": c.proposed_by, "proposed_at": cst(c.proposed_at), "decided_by": c.decided_by,
            "decided_at": cst(c.decided_at), "note": c.note, "undone_by": c.undone_by, "undone_at": cst(c.undone_at),
            "undo_reason": c.undo_reason, "moved": len(c.moved), "kept": len(c.kept), "created": len(c.created),
            "moved_by_table": _by_table(c.moved)}


def _by_table(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in rows:
        out[m["table"]] = out.get(m["table"], 0) + 1
    return dict(sorted(out.items()))
