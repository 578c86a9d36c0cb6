"""Subject pages: the search (主体查询, with its htmx partial for live search; filtered
by kind, region and colour code — the dashboard's colour counters link to it — with
each subject's colour as the dashboard counts it, `subjects.access.find`) and the
credit file (一户一档) with its scores explained in words and as a waterfall
(`scoring.narrative`), its lists, its relationships two links deep
(`subjects.access.read_relations`) and the measures that apply to it. The file is read
through `subjects.access.read_file`, the same masking as the API; the rules of every
page module are in `web/pages.py`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from creditgov.alerts import colours
from creditgov.alerts.words import source_titles
from creditgov.api.deps import DB, Id, Who, ctx
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.ingest import access as ingest_access
from creditgov.measures import service as measures_service
from creditgov.records import received
from creditgov.reports import overview
from creditgov.scoring import access as scoring_access
from creditgov.scoring import bands, narrative
from creditgov.scoring import service as scoring_service
from creditgov.security.scopes import Grant, Principal, Scope, authorize, default_purpose
from creditgov.subjects import search as subject_search
from creditgov.subjects.access import COLOURS, find, read_file, read_relations
from creditgov.subjects.links import LIMIT as RELATIONS_LIMIT
from creditgov.subjects.models import Subject
from creditgov.subjects.schemas import kinds as subject_kinds
from creditgov.web import i18n
from creditgov.web.render import render, scope_label
from creditgov.workflows.access import repair_desk

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# ----------------------------------------------------------------------------- subjects and the credit file


def _search(request: Request, who: Principal, session: Session, q: str | None, kind: str | None,
            region: str | None, colour: str | None) -> tuple[Grant, subject_search.SearchResult]:
    """The list through the grant, as the API's (`subjects.access.find`): `colour` the
    dashboard's counters link with (`/subjects?colour=red`), counted the same way."""
    grant = authorize(who, "subjects.search")
    result = find(session, ctx(request).keyring, grant, q=q, kind=kind or None, region=region or None,
                  colour=colour or None, limit=50)
    return grant, result


Colour = Annotated[str | None, Query(max_length=20)]


@router.get("/subjects")
def subjects_page(request: Request, who: Who, session: DB, q: Annotated[str | None, Query(max_length=100)] = None,
                  kind: Annotated[str | None, Query(max_length=30)] = None,
                  region: Annotated[str | None, Query(max_length=40)] = None, colour: Colour = None) -> Response:
    grant, result = _search(request, who, session, q, kind, region, colour)
    regions = overview.region_tree(session) if who.can("regions.read") else []
    return render(request, "subjects.html", {"q": q, "kind": kind, "region": region, "colour": colour,
                                             "result": result, "kinds": sorted(subject_kinds()),
                                             "colours": COLOURS, "regions": regions,
                                             "scope_label": scope_label(grant)})


@router.get("/subjects/results")
def subjects_results(request: Request, who: Who, session: DB,
                     q: Annotated[str | None, Query(max_length=100)] = None,
                     kind: Annotated[str | None, Query(max_length=30)] = None,
                     region: Annotated[str | None, Query(max_length=40)] = None, colour: Colour = None) -> Response:
    """The htmx partial behind live search."""
    _grant, result = _search(request, who, session, q, kind, region, colour)
    return render(request, "_subject_rows.html", {"result": result})


def _measures_for(session: Session, subject: Subject) -> list[dict[str, Any]]:
    """Measures that apply to the subject in every scenario, today. A read: unlike a
    credit check, nothing is recorded."""
    return [{**m, "scenario": i18n.pick(sc.name_zh, sc.name_en)}
            for sc, m in measures_service.measures_today(session, subject_id=subject.id, kind=subject.kind)]


def _first_ref(scores: list[dict[str, Any]]) -> str | None:
    """The model whose explanation the file opens with: the one the subject's colour
    code comes from (the specialised schemes, then the county's general ones: the
    colour codes' precedence), not the first by name — a firm's public credit
    evaluation before the supervision grading that combines it with ratings."""
    if not scores:
        return None
    order = {m: i for i, m in enumerate(colours.settings().precedence)}
    return str(min(scores, key=lambda sc: (order.get(sc["model"], len(order)), sc["model"]))["ref"])


@router.get("/subjects/{subject_id}")
def subject_page(request: Request, subject_id: Id, who: Who, session: DB,
                 model: Annotated[str | None, Query(max_length=120)] = None,
                 purpose: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    grant = authorize(who, "subjects.read")
    f = read_file(session, ctx(request).keyring, grant, subject_id, purpose)
    subject = session.get(Subject, subject_id)
    assert subject is not None
    scores = overview.subject_scores(session, subject_id)
    explanation = waterfall = explain_error = None
    ref = model or _first_ref(scores)
    if ref:
        try:
            e = scoring_service.explain_subject(session, ctx(request).keyring, str(subject_id), ref=ref,
                                                actor=who.actor, purpose=purpose or default_purpose(who))
            _row, m = scoring_service.get(session, f"{e.model}@{e.version}")
            explanation = narrative.narrate(session, scoring_access.explanation_for(session, grant, e.as_dict()), m,
                                            i18n.current.get())
            waterfall = explanation["waterfall"]
        except (InvalidInput, NotFound) as exc:
            explain_error = (str(exc) if i18n.current.get() == "en"
                             else f"无法按模型「{ref}」解释该主体：模型不存在或不适用于该主体。")
    scenarios = measures_service.scenarios(session) if who.can("check.run") else []
    lang = i18n.current.get()
    sources = source_titles(session, {str(r["provenance"]["source"]) for r in f["records"]
                                      if r["provenance"]["source"]}, lang)
    return render(request, "subject.html", {
        # Where each record came from, by the source's name; its batch and line for the
        # rows of the sources the reader may trace (`ingest.access.traces`).
        "source_names": sources, "traces": ingest_access.traces(who),
        "f": f, "relations": read_relations(session, grant, subject_id), "relations_limit": RELATIONS_LIMIT,
        "scores": scores, "explanation": explanation, "waterfall": waterfall, "explain_error": explain_error,
        "lists": overview.list_entries_of(session, subject_id) if grant.scope is not Scope.PUBLISHED else [],
        "upper_evaluations": received.evaluations(session, subject_id) if grant.scope is not Scope.PUBLISHED else [],
        "received_inspections": received.inspections(session, subject_id)
        if grant.scope is not Scope.PUBLISHED else [],
        "band_labels": bands.LABELS,
        "measures": _measures_for(session, subject) if who.can("measures.read") else [],
        "readers": f["readers"] if grant.shows_readers else None,
        "can_check": who.can("check.run") and authorize(who, "check.run").in_scope(session, subject_id),
        "can_report": who.can("report.download") and authorize(who, "report.download").in_scope(session, subject_id),
        # the negative records whose repair the reader registers conditions for or applies for at the window
        "repair_desk": repair_desk(who, f["records"]),
        "scenarios": scenarios})


__all__ = ["router"]
