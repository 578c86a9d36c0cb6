"""Lists flowing down from the upper platform: imported, kept apart from local ones
(origin 'upper', with their source) and changed only by a later import.

Split out of `service.py`; an import records each entry's steps through the same step
machinery as the local procedure.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import load_yaml_model
from creditgov.ingest.pipeline import CompiledSpec
from creditgov.ingest.readers import read_rows
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.lists.models import CreditList, ListEntry
from creditgov.lists.schemas import UpperListSpec
from creditgov.lists.service import record_step
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Subject

# The notes an upper platform's entry is written with (kept as written; a page says them
# in its language: the workflows' `say_reason`, whose shapes are made from these).
IMPORTED = "from {source} ({file})"   # imported from the platform's file
SENT = "from {source} (exchange)"     # sent by the exchange
REMOVED = "removed by {source}"       # taken off by the platform, which gave no reason


@dataclass
class ImportResult:
    read: int = 0
    added: int = 0
    exited: int = 0
    duplicates: int = 0
    filtered: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "added": self.added, "exited": self.exited, "duplicates": self.duplicates,
                "filtered": self.filtered, "rejected": self.rejected, "reasons": dict(self.reasons)}


def _resolve_ids(session: Session, keyring: KeyRing, vals: dict[str, str]) -> int:
    uscc = vals.get("uscc", "").strip().upper()
    rid = vals.get("resident_id", "").strip().upper()
    if uscc:
        if not looks_like_uscc(uscc):
            raise RowError(f"invalid unified social credit code {uscc!r}")
        sid = session.execute(select(Subject.id).where(Subject.uscc == uscc)).scalar()
    elif rid:
        if not looks_like_resident_id(rid):
            raise RowError("invalid resident ID number")
        sid = session.execute(select(Subject.id).where(
            Subject.resident_id_index.in_(keyring.lookup_indexes(rid)))).scalar()
    else:
        raise RowError("no credit code or ID number")
    if sid is None:
        raise RowError("subject not registered in the county")
    return int(sid)


def _date(vals: dict[str, str], name: str, *, required: bool) -> dt.date | None:
    v = vals.get(name, "").strip()
    if not v:
        if required:
            raise RowError(f"missing {name}")
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise RowError(f"{name} {v!r} is not a date (add a `date` step)") from None


def import_upper(session: Session, keyring: KeyRing, *, spec_path: Path, file: Path,
                 actor: str | None = None) -> ImportResult:
    """Lists flowing down from the upper platform, kept apart from local ones: origin
    'upper' with their source, published as the platform published them (its own
    identifying unit ran the procedure), and taken off only when the platform says so
    (`exited_on` in a later file). Re-importing the same file adds nothing."""
    actor = actor or audit.default_actor()
    spec = load_yaml_model(UpperListSpec, spec_path)
    compiled = CompiledSpec(cast(SourceSpec, spec))
    res = ImportResult()
    known = {r.code for r in session.execute(select(CreditList)).scalars()}
    for _line, raw in read_rows(cast(SourceSpec, spec), file):
        res.read += 1
        try:
            vals = compiled.apply(raw)
            if not compiled.keep(vals):
                res.filtered += 1
                continue
            code = vals["list_code"].strip()
            code = spec.list_map.get(code, code)
            if code not in known:
                raise RowError(f"unknown list {code!r} (map it with list_map)")
            sid = _resolve_ids(session, keyring, vals)
            published = cast(dt.date, _date(vals, "published_on", required=True))
            expires = _date(vals, "expires_on", required=False)
            exited = _date(vals, "exited_on", required=False)
            decision = vals.get("decision_no", "").strip() or None
            key = f"upper:{spec.source}:{decision or published.isoformat()}"
            entry = session.execute(select(ListEntry).where(
                ListEntry.list_code == code, ListEntry.subject_id == sid, ListEntry.origin == "upper",
                ListEntry.evidence_key == key)).scalar_one_or_none()
            if entry is None:
                entry = ListEntry(
                    list_code=code, subject_id=sid, status="published", origin="upper", source=spec.source,
                    basis=vals.get("basis") or None, decision_no=decision,
                    identifying_unit=vals.get("identifying_unit") or None, criterion="upper",
                    evidence_key=key, proposed_on=None, published_on=published, expires_on=expires,
                    created_at=clock.now())
                session.add(entry)
                session.flush()
                record_step(session, entry, "import", "published", actor=actor, on=published,
                            note=IMPORTED.format(source=spec.source, file=file.name), detail={"source": spec.source})
                res.added += 1
            elif not (exited and entry.status == "published"):
                res.duplicates += 1
            if exited and entry.status == "published":
                entry.exited_on, entry.exit_kind = exited, "upper"
                entry.exit_reason = vals.get("exit_reason") or REMOVED.format(source=spec.source)
                record_step(session, entry, "exit", "exited", actor=actor, on=exited, note=entry.exit_reason,
                            detail={"kind": "upper", "source": spec.source})
                res.exited += 1
        except RowError as exc:
            res.rejected += 1
            res.reasons[str(exc)] += 1
    audit.append(session, action="lists.import_upper", actor=actor,
                 detail={"source": spec.source, "spec": spec.name, "file": file.name, **res.as_dict()})
    return res


def apply_upper_entry(session: Session, *, list_code: str, subject_id: int, source: str, ref: str,
                      published_on: dt.date, expires_on: dt.date | None = None, exited_on: dt.date | None = None,
                      decision_no: str | None = None, basis: str | None = None,
                      identifying_unit: str | None = None, exit_reason: str | None = None,
                      actor: str | None = None) -> tuple[ListEntry, str]:
    """One entry of the upper platform's lists arriving by the exchange (a package, not
    a file): the same rules as `import_upper` — origin 'upper', published as the
    platform published it, taken off only when the platform says so. `ref` is the
    platform's own name for the entry, so applying it again changes nothing. Answers
    the entry and what happened: added, exited, or unchanged."""
    actor = actor or audit.default_actor()
    if session.get(CreditList, list_code) is None:
        raise RowError(f"unknown list {list_code!r}")
    key = f"upper:{source}:{ref}"[:80]
    entry = session.execute(select(ListEntry).where(
        ListEntry.list_code == list_code, ListEntry.subject_id == subject_id, ListEntry.origin == "upper",
        ListEntry.evidence_key == key)).scalar_one_or_none()
    outcome = "unchanged"
    if entry is None:
        entry = ListEntry(list_code=list_code, subject_id=subject_id, status="published", origin="upper",
                          source=source, basis=basis, decision_no=decision_no, identifying_unit=identifying_unit,
                          criterion="upper", evidence_key=key, proposed_on=None, published_on=published_on,
                          expires_on=expires_on, created_at=clock.now())
        session.add(entry)
        session.flush()
        record_step(session, entry, "import", "published", actor=actor, on=published_on,
                    note=SENT.format(source=source), detail={"source": source, "ref": ref})
        outcome = "added"
    if exited_on and entry.status == "published":
        entry.exited_on, entry.exit_kind = exited_on, "upper"
        entry.exit_reason = exit_reason or REMOVED.format(source=source)
        record_step(session, entry, "exit", "exited", actor=actor, on=exited_on, note=entry.exit_reason,
                    detail={"kind": "upper", "source": source})
        outcome = "exited"
    return entry, outcome
