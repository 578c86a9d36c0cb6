"""Ingestion pages (数据归集): `/ingest`, the batches; `/ingest/batches/{id}`, one batch with
the rows it rejected; `/ingest/quarantine`, the rows refused, each with its reason in
words and its raw values (ID numbers masked). A source is named as the alerts and a
subject's file name it (`alerts.words.source_titles`: its spec's title, else its
department and kind of data); a reason by its category and, where the stored text has a
known shape, its detail in the page's language (`reasons.reason_detail`), else the
stored text folded away. The credit office sees every source, a
department officer its own department's (`ingest/access.py`; another's answers 404).
`/ingest` also carries the form a department sends its file with (`POST /ingest/upload`:
one of its own sources, chosen by name, and the file; ingested at once by
`ingest/uploads.py`, then the batch's page, or the refusal in words on the form).

Manual entry pages (人工录入), `/entries`: an officer enters a record (or registers a
subject) with a reason and evidence files, choosing the catalogue item by its name; a
second person — the credit office — approves or rejects it; approved, it has gone
through ingestion (`ingest/manual.py`, whose rules the API and the CLI share)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts.words import source_titles
from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import labels
from creditgov.core.errors import CreditGovError, InvalidInput, NotFound, status_of
from creditgov.ingest import access, manual, uploads
from creditgov.ingest.models import Batch
from creditgov.ingest.reasons import reason_code, reason_detail
from creditgov.security.scopes import Principal, authorize
from creditgov.web import i18n
from creditgov.web.i18n import refusal
from creditgov.web.render import render
from creditgov.workflows.access import MAX_UPLOAD_BYTES, UPLOAD_FORM_LIMITS, saved_uploads
from creditgov.workflows.materials import files_dir_for

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=manual.TEXT_MAX)]
Uploads = Annotated[list[UploadFile] | None, File()]
SHOWN = 500  # quarantined rows on one page


def _unit(who: Principal, permission: str) -> str | None:
    """The department the reader is kept to (None: every department)."""
    return access.unit_of(authorize(who, permission))


# ----------------------------------------------------------------------------- batches and quarantine


def _names(session: Session, sources: set[str]) -> dict[str, str]:
    """Sources by their names in the page's language (a source without one: its code)."""
    found = source_titles(session, {s for s in sources if s}, i18n.current.get())
    return {s: found.get(s) or s for s in sources}


def _rows(request: Request, session: Session, rows: list[Any], sources: frozenset[str] = frozenset()
          ) -> dict[str, Any]:
    """Quarantined rows as the pages show them: the reason's category (its words come
    from the label catalogue), its detail in the page's language where its shape is
    known, the stored text otherwise (ID numbers masked in both), the source by its name
    (and those of `sources` too) and the raw values with ID numbers masked."""
    ring = ctx(request).keyring
    lang = i18n.current.get()
    specs = {b.id: b.spec_version_id for b in session.execute(
        select(Batch).where(Batch.id.in_({r.batch_id for r in rows}))).scalars()}
    personal = access.personal_columns(session, set(specs.values()))
    stored = {r.id: access.shown_reason(r.reason) for r in rows}
    return {"rows": rows, "categories": {r.id: reason_code(r.reason) for r in rows},
            "details": {i: reason_detail(text, lang) for i, text in stored.items()}, "stored": stored,
            "source_names": _names(session, {r.source for r in rows} | sources),
            "raw": {r.id: access.shown_raw(ring, r, personal.get(specs.get(r.batch_id, 0), set())) for r in rows}}


def _sendable(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The sources the reader may send files of, for the upload form: each by its name in
    the page's language with its department (a spec's title does not name it; a source
    without a title is named by its department and kind already), with the file it takes."""
    if not who.can("ingest.upload"):
        return []
    specs = uploads.sendable(session, _unit(who, "ingest.upload"))
    names = _names(session, {spec.name for spec, _ in specs})
    lang = i18n.current.get()

    def named(spec: Any) -> str:
        dept, name = labels.label("department", spec.department, lang), names[spec.name]
        return name if dept in name else f"{dept} · {name}"

    return [{"source": spec.name, "department": spec.department, "name": named(spec),
             "format": uploads.FORMAT_NAMES[spec.format], "source_format": spec.format,
             "suffixes": uploads.SUFFIXES[spec.format], "encoding": uploads.ENCODING_NAMES.get(spec.encoding, spec.encoding),
             "columns": sorted(set(spec.columns.values()) | set(spec.attributes.values()))}
            for spec, _ in specs]


def _ingest_context(session: Session, who: Principal, **extra: Any) -> dict[str, Any]:
    unit = access.unit_of(authorize(who, "ingest.read"))
    batches = access.batches(session, unit, limit=200)
    sendable = _sendable(session, who)
    return {"batches": batches, "unit": unit, "open_quarantine": access.count_open(session, unit),
            "source_names": _names(session, {b.source for b in batches}),
            "departments": access.departments_of(session, {b.spec_version_id for b in batches}),
            "can_quarantine": who.can("quarantine.read"), "can_upload": who.can("ingest.upload"),
            "sendable": sendable, "accept": ",".join(sorted({x for s in sendable for x in s["suffixes"]})),
            "upload_mb": uploads.upload_limit_mb(), **extra}


@router.get("/ingest")
def ingest_page(request: Request, who: Who, session: DB) -> Response:
    return render(request, "ingest.html", _ingest_context(session, who))


@router.get("/ingest/upload")
def ingest_upload_page(who: Who) -> Response:
    """The form lives on `/ingest` (a refused upload's page reloaded lands here)."""
    authorize(who, "ingest.upload")
    return RedirectResponse("/ingest#upload", status_code=303)


@router.post("/ingest/upload", max_body_size=uploads.request_ceiling(),
             form_limits={"max_files": 1, "max_fields": 10})
async def ingest_upload(request: Request, who: Who, session: DB,
                        spec: Annotated[str, Form(max_length=80)] = "",
                        file: Annotated[UploadFile | None, File()] = None) -> Response:
    """A department's file: kept and ingested now (`uploads.ingest_upload`, the same
    batch as the command line's), then its batch's page; a refusal is said on the form."""
    unit = _unit(who, "ingest.upload")
    await check_csrf(request, who)
    app = ctx(request)
    try:
        if not spec:
            raise InvalidInput("choose the source the file is of", code="ingest.upload.no_spec")
        got = await run_in_threadpool(
            uploads.ingest_upload, app.url, app.keyring, source=spec, unit=unit,
            filename=file.filename if file is not None else None,
            data=file.file if file is not None else io.BytesIO(), files_dir=files_dir_for(app.url), actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        return render(request, "ingest.html", _ingest_context(session, who, error=refusal(exc), chosen=spec),
                      status=status_of(exc))
    return RedirectResponse(f"/ingest/batches/{got['batch']}?sent=1", status_code=303)


@router.get("/ingest/batches/{batch_id}")
def batch_page(request: Request, batch_id: Id, who: Who, session: DB,
               sent: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    unit = access.unit_of(authorize(who, "ingest.read"))
    b = access.batch_in_scope(session, unit, batch_id)
    rows = access.quarantine(session, unit, batch_id=b.id, status="all", limit=SHOWN) \
        if who.can("quarantine.read") else []
    return render(request, "ingest_batch.html", {
        "b": b, "unit": unit, "source_name": _names(session, {b.source})[b.source],
        "department": access.departments_of(session, {b.spec_version_id}).get(b.spec_version_id),
        "can_quarantine": who.can("quarantine.read"), "reasons": access.reason_counts(session, b.id),
        "sent": bool(sent), **_rows(request, session, rows)})


@router.get("/ingest/quarantine")
def quarantine_page(request: Request, who: Who, session: DB, source: Annotated[str | None, Query(max_length=80)] = None,
                    status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open") -> Response:
    unit = access.unit_of(authorize(who, "quarantine.read"))
    rows = access.quarantine(session, unit, source=source or None, status=status, limit=SHOWN)
    sources = access.quarantine_sources(session, unit)
    return render(request, "quarantine.html", {
        "source": source, "status": status, "unit": unit, "sources": sources,
        **_rows(request, session, rows, frozenset(sources) | ({source} if source else set()))})


# ----------------------------------------------------------------------------- manual entry


def _items(session: Session, departments: list[str]) -> dict[str, list[str]]:
    """The catalogue items an officer may enter, by department: the form offers them by
    name in the page's language (their codes are sent)."""
    out: dict[str, list[str]] = {d: [] for d in departments}
    for dep, code in session.execute(select(CatalogItem.department_code, CatalogItem.code).where(
            CatalogItem.department_code.in_(departments)).order_by(CatalogItem.department_code, CatalogItem.code)):
        out[dep].append(code)
    return out


def _context(request: Request, session: Session, who: Principal, **extra: Any) -> dict[str, Any]:
    unit = _unit(who, "manual.read")
    ring = ctx(request).keyring
    # Only the entries the reader may see are read, and only they are decrypted.
    rows = [manual.entry_dict(ring, e) for e in manual.entries(session, department=unit)]
    can_propose = who.can("manual.propose")
    deps = [d.code for d in session.execute(select(Department).order_by(Department.code)).scalars()
            if unit is None or d.code == unit] if can_propose else []
    return {"entries": rows, "can_propose": can_propose, "can_approve": who.can("manual.approve"),
            "departments": deps, "items": _items(session, deps), "me": who.actor, "fields": manual.RECORD_FIELDS,
            **extra}


@router.get("/entries")
def entries_page(request: Request, who: Who, session: DB,
                 done: Annotated[str | None, Query(pattern="^(proposed|approved|rejected)$")] = None) -> Response:
    return render(request, "manual_entries.html", _context(request, session, who, done=done))


@router.post("/entries", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def entries_propose(request: Request, who: Who, session: DB,
                          department: Annotated[str, Form(min_length=1, max_length=50)], reason: Text,
                          identifier: Text = "", name: Text = "", item: Text = "", occurred_on: Text = "",
                          decided_on: Text = "", value: Text = "", text: Text = "", document_no: Text = "",
                          evidence: Uploads = None) -> Response:
    unit = _unit(who, "manual.propose")
    await check_csrf(request, who)
    fields = {"identifier": identifier, "name": name, "item": item, "occurred_on": occurred_on,
              "decided_on": decided_on, "value": value, "text": text, "document_no": document_no}
    try:
        if unit is not None and department != unit:
            raise NotFound(f"department {department!r} is not yours", code="ingest.manual.other_department",
                           params={"department": department})
        with saved_uploads(evidence or []) as paths:
            manual.propose(session, ctx(request).keyring, kind="record", department=department, fields=fields,
                           reason=reason, evidence=paths, files_dir=files_dir_for(ctx(request).url),
                           actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        draft = {**fields, "reason": reason, "department": department}  # the form again as typed
        return render(request, "manual_entries.html", _context(request, session, who, error=refusal(exc), draft=draft),
                      status=status_of(exc))
    return RedirectResponse("/entries?done=proposed", status_code=303)


@router.post("/entries/{entry_id}/decide")
async def entries_decide(request: Request, entry_id: Id, who: Who, session: DB,
                         decision: Annotated[str, Form(pattern="^(approve|reject)$")], note: Text = "") -> Response:
    authorize(who, "manual.approve")
    await check_csrf(request, who)
    try:
        e = manual.decide(session, ctx(request).keyring, entry_id, approve=decision == "approve", note=note,
                          actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        code = status_of(exc)
        return render(request, "manual_entries.html", _context(request, session, who, error=refusal(exc)), status=code)
    return RedirectResponse(f"/entries?done={e.status}#entry-{e.id}", status_code=303)
