"""The bureau export's rules: consents to bureaus, what a run carries, numbering,
writing, writing again and acknowledgement — for the command, and any other caller.

What a run carries is the whole of what may go to the bureau on its date (全量): every
current, in-force (`active`) record of a confirmed subject whose catalogue item is
marked for bureaus (public or shared class only), when

- the item's term needs no consent and the record is published that day (public class,
  a kind the publication rules publish, inside its publication period) — information
  the law makes public (the catalogue's `bureau_sharing` cites the rule): basis `law`;
- otherwise, the subject's consent to this bureau is in force that day (a revoked one
  is not, from the day of revocation: the next run leaves out what only it allowed):
  basis `consent`.

The bureau replaces what it holds from this platform with the newest run, so a consent
revoked, a record repaired or revoked, a publication ended all leave the next file.

A run is made in one transaction (its number, its bytes, its subjects, the audit entry)
and written after it commits; a run that could not be written stays pending and is
written before any newer one, so runs reach the bureau in order."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.bureaus import policy as bureau_policy
from creditgov.bureaus.exporters import DeliveryError, RunFile
from creditgov.bureaus.models import BureauRun, BureauRunSubject
from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem, Department
from creditgov.catalog.schemas import BUREAU_CLASSES
from creditgov.core import clock, db
from creditgov.core.errors import Conflict, IntegrityError, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security import users
from creditgov.security.accounts import AccessConsent
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject

STATUSES = ("pending", "written", "acknowledged")

# ----------------------------------------------------------------------------- consents


def grant_consent(session: Session, *, subject_id: int, bureau: str, days: int | None = None,
                  actor: str) -> AccessConsent:
    """The subject authorises the bureau to receive its credit information (授权报送):
    a security consent naming `bureau:<code>` and the bureau's purpose, until revoked
    (or for `days`)."""
    b = bureau_policy.bureau(bureau)
    return users.grant_consent(session, subject_id=subject_id, organisation=bureau_policy.organisation(bureau),
                               purpose=b.purpose, days=days, actor=actor)


def revoke_consent(session: Session, *, consent_id: int, subject_id: int | None = None,
                   actor: str) -> AccessConsent:
    """End a consent to a bureau from today: the next run leaves the subject out. The
    subject's own page revokes it like any consent (security's `revoke_consent`)."""
    c = session.get(AccessConsent, consent_id)
    if c is None or not c.organisation.startswith(bureau_policy.ORG_PREFIX):
        raise NotFound(f"no consent to a credit bureau with id {consent_id}")
    return users.revoke_consent(session, consent_id=consent_id, subject_id=subject_id, actor=actor)


def consents_in_force(session: Session, bureau: str, on: dt.date) -> dict[int, AccessConsent]:
    """Subject id -> its consent to the bureau in force on `on` (the latest granted)."""
    q = (select(AccessConsent).where(
        AccessConsent.organisation == bureau_policy.organisation(bureau), AccessConsent.in_force_on(on))
        .order_by(AccessConsent.id))
    return {c.subject_id: c for c in session.execute(q).scalars()}


# ----------------------------------------------------------------------------- what a run carries


def shareable_items(session: Session) -> dict[str, CatalogItem]:
    """The catalogue items marked for bureaus, of a class that may leave at all."""
    rows = session.execute(select(CatalogItem).where(CatalogItem.data_class.in_(sorted(BUREAU_CLASSES)))
                           .order_by(CatalogItem.code)).scalars()
    return {it.code: it for it in rows if isinstance(it.bureau, dict)}


def _published(item: CatalogItem, rec: CreditRecord, on: dt.date) -> bool:
    return (catalog_service.publishable(item)
            and (rec.published_from is None or rec.published_from <= on)
            and (rec.published_until is None or rec.published_until >= on))


def _s(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, Decimal):
        return format(v, "f")
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def select_rows(session: Session, keyring: KeyRing, *, bureau: str, on: dt.date
                ) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The run's rows in a fixed order (subject, then record); per subject how many
    records went and on what footing; the catalogue terms the rows name, with their
    citations (the manifest carries them once, each row names its term)."""
    items = shareable_items(session)
    consents = consents_in_force(session, bureau, on)
    departments = {d.code: d.name_zh for d in session.execute(select(Department)).scalars()}
    q = (select(CreditRecord, Subject).join(Subject, Subject.id == CreditRecord.subject_id)
         .where(CreditRecord.is_current.is_(True), CreditRecord.status == "active",
                CreditRecord.item_code.in_(sorted(items)), Subject.status == "confirmed")
         .order_by(CreditRecord.subject_id, CreditRecord.id))
    rows: list[dict[str, Any]] = []
    per_subject: dict[int, dict[str, Any]] = {}
    cited: dict[str, dict[str, Any]] = {}
    for rec, subj in session.execute(q).tuples():
        item = items[rec.item_code]
        terms = item.bureau or {}
        consent = None
        if terms.get("consent_required") is False and _published(item, rec, on):
            basis = "law"  # needs no consent, whether or not one was given
        elif subj.id in consents:
            basis, consent = "consent", consents[subj.id]
        else:
            continue
        rows.append({
            "line": str(len(rows) + 1), "subject_kind": subj.kind, "subject_name": subj.name, "uscc": subj.uscc,
            "resident_id": keyring.decrypt(subj.resident_id) if subj.resident_id else None,
            "item": rec.item_code, "item_name": item.name_zh, "polarity": item.polarity, "severity": item.severity,
            "department": rec.department_code, "department_name": departments.get(rec.department_code),
            "occurred_on": _s(rec.occurred_on), "decided_on": _s(rec.decided_on), "value": _s(rec.value),
            "unit": item.unit, "grade": rec.grade, "text": rec.text, "document_no": rec.document_no,
            "record_key": rec.natural_key, "record_version": str(rec.version), "basis": basis,
            "term": terms.get("term"),
            "consent_id": str(consent.id) if consent else None,
            "consent_granted_on": _s(consent.granted_on) if consent else None})
        cited.setdefault(str(terms.get("term")), {"consent_required": terms.get("consent_required"),
                                                  "citation": terms.get("citation")})
        seen = per_subject.setdefault(subj.id, {"records": 0, "bases": set()})
        seen["records"] += 1
        seen["bases"].add(basis)
    return rows, per_subject, dict(sorted(cited.items()))


# ----------------------------------------------------------------------------- runs


def _run(session: Session, bureau: str, seq: int) -> BureauRun:
    r = session.execute(select(BureauRun).where(BureauRun.bureau == bureau, BureauRun.seq == seq)
                        ).scalar_one_or_none()
    if r is None:
        raise NotFound(f"bureau {bureau!r} has no run {seq}")
    return r


def make_run(session: Session, keyring: KeyRing, *, bureau: str, base: Path, actor: str) -> BureauRun:
    """Number the bureau's next run and store its bytes, subjects and audit entry (one
    transaction: a run number is taken only with its run, so there is no gap)."""
    b = bureau_policy.bureau(bureau)
    exp = bureau_policy.exporter(bureau, base=base)
    on, created = clock.today(), clock.now()
    rows, per_subject, terms = select_rows(session, keyring, bureau=bureau, on=on)
    seq = int(session.execute(select(func.coalesce(func.max(BureauRun.seq), 0))
                              .where(BureauRun.bureau == bureau)).scalar_one()) + 1
    content = exp.render(rows)
    sha = hashlib.sha256(content).hexdigest()
    name = exp.file_name(seq)
    manifest = {"format": exp.format_name(), "bureau": bureau, "bureau_name": b.name_zh, "run": seq, "file": name,
                "records": len(rows), "subjects": len(per_subject), "bytes": len(content), "sha256": sha,
                "as_of": on.isoformat(), "created_at": clock.iso(created), "terms": terms}
    run = BureauRun(bureau=bureau, seq=seq, exporter=b.exporter, file_name=name, records=len(rows),
                    subjects=len(per_subject), sha256=sha, size=len(content),
                    content=keyring.encrypt(content.decode("utf-8")), manifest=manifest, as_of=on,
                    status="pending", created_at=created, created_by=actor, writes=0)
    session.add(run)
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict(f"bureau {bureau!r}: run {seq} was taken by another export at the same time; "
                       "export again") from exc
    for sid, seen in per_subject.items():
        bases = seen["bases"]
        session.add(BureauRunSubject(run_id=run.id, subject_id=sid, records=seen["records"],
                                     basis=next(iter(bases)) if len(bases) == 1 else "both"))
    session.flush()
    audit.append(session, action="bureau.export", actor=actor,
                 detail={"bureau": bureau, "run": seq, "file": name, "records": len(rows),
                         "subjects": len(per_subject), "sha256": sha,
                         "by_consent": sum(1 for r in rows if r["basis"] == "consent"),
                         "by_law": sum(1 for r in rows if r["basis"] == "law")})
    return run


def deliver(url: str, keyring: KeyRing, *, bureau: str, seq: int, base: Path, actor: str) -> dict[str, Any]:
    """Write a stored run through the bureau's exporter (again, for a run written
    before: the same bytes). Outside any transaction while writing."""
    with db.session_scope(url) as s:
        r = _run(s, bureau, seq)
        content = keyring.decrypt(r.content).encode("utf-8")
        if hashlib.sha256(content).hexdigest() != r.sha256:
            raise IntegrityError(f"bureau {bureau!r} run {seq}: stored bytes do not match their SHA-256")
        file = RunFile(bureau=bureau, seq=seq, file_name=r.file_name, content=content, manifest=dict(r.manifest))
    exp = bureau_policy.exporter(bureau, base=base)
    try:
        location = exp.deliver(file)
    except DeliveryError as exc:
        with db.session_scope(url) as s:
            _run(s, bureau, seq).last_error = str(exc)[:500]
        raise
    with db.session_scope(url) as s:
        export_run = _run(s, bureau, seq)
        again = export_run.writes > 0
        export_run.writes += 1
        export_run.written_at, export_run.location, export_run.last_error = clock.now(), location, None
        if export_run.status == "pending":
            export_run.status = "written"
        audit.append(s, action="bureau.write", actor=actor,
                     detail={"bureau": bureau, "run": seq, "location": location, "sha256": export_run.sha256,
                             "again": again})
        return run_dict(export_run)


def export(url: str, keyring: KeyRing, *, bureau: str, actor: str, base: Path | None = None,
           run: int | None = None) -> dict[str, Any]:
    """`creditgov bureau export`: write any run left pending, then make and write the
    next one; or, with `run`, write that run again (the same bytes)."""
    bureau_policy.bureau(bureau)
    base = base or bureau_policy.export_dir(url)
    if run is not None:
        return deliver(url, keyring, bureau=bureau, seq=run, base=base, actor=actor)
    with db.session_scope(url) as s:
        pending = list(s.execute(select(BureauRun.seq).where(BureauRun.bureau == bureau,
                                                             BureauRun.status == "pending")
                                 .order_by(BureauRun.seq)).scalars())
    for seq in pending:
        deliver(url, keyring, bureau=bureau, seq=seq, base=base, actor=actor)
    with db.session_scope(url) as s:
        seq = make_run(s, keyring, bureau=bureau, base=base, actor=actor).seq
    return deliver(url, keyring, bureau=bureau, seq=seq, base=base, actor=actor)


def acknowledge(session: Session, *, bureau: str, seq: int, actor: str, ref: str | None = None) -> BureauRun:
    """The bureau confirmed it took the run (`creditgov bureau ack`). A run not yet
    written cannot be; acknowledging twice changes nothing and writes nothing."""
    bureau_policy.bureau(bureau)
    r = _run(session, bureau, seq)
    if r.status == "acknowledged":
        return r
    if r.status != "written":
        raise Conflict(f"bureau {bureau!r} run {seq} is {r.status}: it is acknowledged once written")
    r.status, r.acked_at, r.acked_by, r.ack_ref = "acknowledged", clock.now(), actor, (ref or None)
    session.flush()
    audit.append(session, action="bureau.ack", actor=actor,
                 detail={"bureau": bureau, "run": seq, "ref": ref, "sha256": r.sha256})
    return r


def runs(session: Session, *, bureau: str | None = None, limit: int = 50) -> list[BureauRun]:
    q = select(BureauRun).order_by(BureauRun.id.desc()).limit(limit)
    if bureau:
        q = q.where(BureauRun.bureau == bureau)
    return list(session.execute(q).scalars())


def run_dict(r: BureauRun) -> dict[str, Any]:
    return {"bureau": r.bureau, "run": r.seq, "status": r.status, "file": r.file_name, "records": r.records,
            "subjects": r.subjects, "sha256": r.sha256, "bytes": r.size, "as_of": r.as_of.isoformat(),
            "created_at": clock.iso(r.created_at), "created_by": r.created_by, "writes": r.writes,
            "written_at": clock.iso(r.written_at), "location": r.location, "last_error": r.last_error,
            "acked_at": clock.iso(r.acked_at), "acked_by": r.acked_by, "ack_ref": r.ack_ref}


def items_table(session: Session) -> list[dict[str, Any]]:
    """Every catalogue item marked for bureaus and its footing (`creditgov bureau items`)."""
    return [{"item": it.code, "name_zh": it.name_zh, "name_en": it.name_en, "data_class": it.data_class,
             "published": bool(it.published), **dict(it.bureau or {})} for it in shareable_items(session).values()]


def scheduled(url: str, keyring: KeyRing, *, actor: str, base: Path | None = None) -> dict[str, Any]:
    """The daily job (`bureaus/jobs.py`): for each bureau, its next run unless one was
    made today; runs left unwritten are written either way. A bureau whose exporter
    fails is reported and the others still run."""
    base = base or bureau_policy.export_dir(url)
    today = clock.today()
    out: dict[str, Any] = {}
    for code in sorted(bureau_policy.policy().bureaus):
        with db.session_scope(url) as s:
            made_today = s.execute(select(BureauRun.seq).where(BureauRun.bureau == code, BureauRun.as_of == today)
                                   .limit(1)).first() is not None
            pending = list(s.execute(select(BureauRun.seq).where(BureauRun.bureau == code,
                                                                 BureauRun.status == "pending")
                                     .order_by(BureauRun.seq)).scalars())
        try:
            if made_today:
                for seq in pending:
                    deliver(url, keyring, bureau=code, seq=seq, base=base, actor=actor)
                out[code] = {"skipped": "a run was made today", "written_again": pending}
            else:
                out[code] = export(url, keyring, bureau=code, actor=actor, base=base)
        except DeliveryError as exc:
            out[code] = {"error": str(exc)}
    return out
