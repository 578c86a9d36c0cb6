"""What the ingest edges share: the pages (`ingest/pages.py`) and the API
(`ingest/views.py`) reach batches and quarantined rows only inside the reader's scope.
The credit office and the administrator see every source; a department officer sees
the sources its own department supplies — a batch belongs to the department its spec
version names — and a batch or row of another department answers 404, like a missing
one. A quarantined row's raw values are shown with every ID number masked, as
everywhere else an ID number is shown (`security.crypto.mask_id`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from creditgov.core.errors import NotFound
from creditgov.ingest.models import Batch, QuarantinedRow, SpecVersion
from creditgov.ingest.reasons import reason_code
from creditgov.ingest.service import quarantine_raw
from creditgov.security.crypto import KeyRing, mask_id
from creditgov.security.scopes import Grant, Principal, Scope, authorize

# Spec fields whose column holds a person's ID number (an `identifier` column holds
# credit codes too: a value with a letter among its first 17 characters is one).
PERSONAL_FIELDS = ("resident_id", "person_id", "identifier")
_ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def unit_of(grant: Grant) -> str | None:
    """The department a grant keeps the reader to (None: every source)."""
    if grant.scope is Scope.ALL:
        return None
    if grant.scope is Scope.DEPARTMENT and grant.principal.department_code:
        return grant.principal.department_code
    raise NotFound("no department on this account", code="ingest.account.no_department")


def traces(who: Principal) -> Callable[[str | None], bool]:
    """Whether the reader may see where a record was read from (its batch, spec version
    and line) on a subject's file: the rows of the sources the reader may trace here —
    every source for the office, its own department's for a department officer (the
    batches `batches` shows it), none for anyone else."""
    if not who.can("ingest.read"):
        return lambda department: False
    grant = authorize(who, "ingest.read")
    if grant.scope is Scope.ALL:
        return lambda department: True
    unit = grant.principal.department_code if grant.scope is Scope.DEPARTMENT else None
    return lambda department: unit is not None and department == unit


def _spec_doc(text: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


def spec_versions_of(session: Session, department: str) -> list[int]:
    """The spec versions naming `department` as their supplier. The text is searched
    for the department's code first, then each candidate's YAML read to be sure."""
    rows = session.execute(select(SpecVersion.id, SpecVersion.text).where(SpecVersion.text.contains(department, autoescape=True)))
    return [i for i, text in rows if _spec_doc(text).get("department") == department]


def _batch_clause(session: Session, unit: str | None) -> ColumnElement[bool]:
    if unit is None:
        return true()
    return Batch.spec_version_id.in_(spec_versions_of(session, unit))


def batches(session: Session, unit: str | None, *, limit: int = 200) -> list[Batch]:
    """The newest batches in scope."""
    q = select(Batch).where(_batch_clause(session, unit)).order_by(Batch.id.desc()).limit(limit)
    return list(session.execute(q).scalars())


def batch_in_scope(session: Session, unit: str | None, batch_id: int) -> Batch:
    """The batch, or 404 when it is missing or another department's."""
    b = session.execute(select(Batch).where(Batch.id == batch_id, _batch_clause(session, unit))).scalar()
    if b is None:
        raise NotFound(f"batch {batch_id} not found", code="ingest.batch.not_found", params={"id": batch_id})
    return b


def quarantine(session: Session, unit: str | None, *, source: str | None = None, batch_id: int | None = None,
               status: str = "open", limit: int = 500) -> list[QuarantinedRow]:
    """Quarantined rows in scope, oldest first (in the order of their files)."""
    q = select(QuarantinedRow)
    if unit is not None:
        q = q.where(QuarantinedRow.batch_id.in_(select(Batch.id).where(_batch_clause(session, unit))))
    if status != "all":
        q = q.where(QuarantinedRow.status == status)
    if source:
        q = q.where(QuarantinedRow.source == source)
    if batch_id is not None:
        q = q.where(QuarantinedRow.batch_id == batch_id)
    return list(session.execute(q.order_by(QuarantinedRow.id).limit(limit)).scalars())


def quarantine_sources(session: Session, unit: str | None) -> list[str]:
    """The sources with quarantined rows in scope (the quarantine page's filter)."""
    q = select(QuarantinedRow.source).distinct()
    if unit is not None:
        q = q.where(QuarantinedRow.batch_id.in_(select(Batch.id).where(_batch_clause(session, unit))))
    return sorted(str(s) for s in session.execute(q).scalars())


def count_open(session: Session, unit: str | None) -> int:
    q = select(func.count()).select_from(QuarantinedRow).where(QuarantinedRow.status == "open")
    if unit is not None:
        q = q.where(QuarantinedRow.batch_id.in_(select(Batch.id).where(_batch_clause(session, unit))))
    return int(session.execute(q).scalar_one())


def reason_counts(session: Session, batch_id: int) -> list[tuple[str, int]]:
    """A batch's rejected rows by the category of their reason (`reasons.reason_code`),
    most rows first: what to correct before sending the rows again."""
    by: dict[str, int] = {}
    for reason, n in session.execute(select(QuarantinedRow.reason, func.count()).where(
            QuarantinedRow.batch_id == batch_id).group_by(QuarantinedRow.reason)):
        code = reason_code(reason)
        by[code] = by.get(code, 0) + int(n)
    return sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))


def personal_columns(session: Session, spec_version_ids: set[int]) -> dict[int, set[str]]:
    """Per spec version, the source's columns that hold a person's ID number."""
    out: dict[int, set[str]] = {}
    for i, text in session.execute(select(SpecVersion.id, SpecVersion.text).where(
            SpecVersion.id.in_(spec_version_ids))):
        cols = _spec_doc(text).get("columns") or {}
        out[i] = {str(c) for f, c in cols.items() if f in PERSONAL_FIELDS} if isinstance(cols, dict) else set()
    return out


def _masked(value: Any, personal: bool) -> str:
    v = "" if value is None else str(value)
    if personal and v.strip() and not any(c.isalpha() for c in v.strip()[:17]):
        return mask_id(v.strip())  # a mistyped ID number is still 17 digits of a person's
    return _ID_SHAPE.sub(lambda m: mask_id(m.group(1)), v)


def shown_reason(text: str | None) -> str:
    """A quarantined row's stored reason with anything shaped like an ID number masked (a
    credit code column may hold one: the reason quotes the value it refused)."""
    return _masked(text, False)


def shown_raw(keyring: KeyRing, row: QuarantinedRow, personal: set[str]) -> list[tuple[str, str]]:
    """A quarantined row's raw values as (column, value), every ID number masked: the
    columns the spec maps to an ID number whatever they hold, and anything shaped like
    one in the other columns."""
    raw = quarantine_raw(keyring, row)  # an undecodable line's error is its reason already
    return [(str(k), _masked(v, str(k) in personal)) for k, v in raw.items() if k != "__error__"]


def departments_of(session: Session, spec_version_ids: set[int]) -> dict[int, str]:
    """The department each spec version names (for the office's list of batches)."""
    rows = session.execute(select(SpecVersion.id, SpecVersion.text).where(SpecVersion.id.in_(spec_version_ids)))
    return {i: str(_spec_doc(text).get("department") or "") for i, text in rows}
