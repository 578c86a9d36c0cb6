"""API routes for credit lists and their entries. Thin: reads through
`lists.queries`, with entries restricted to the subjects in the caller's scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from creditgov.api.deps import DB, Id, require
from creditgov.core import labels
from creditgov.lists import queries as lists_queries
from creditgov.security.scopes import Grant
from creditgov.subjects.models import Subject

router = APIRouter(tags=["lists"])
ListsRead = Annotated[Grant, Depends(require("lists.read"))]


@router.get("/lists", operation_id="lists_list")
def lists_list(grant: ListsRead, session: DB) -> list[dict[str, Any]]:
    """List definitions (red, black, key-attention, …) with entry counts by status."""
    counts = lists_queries.counts_by_list(session)
    return [labels.annotate({**lists_queries.dump_definition(d), "counts": counts.get(d.code, {})}, code="list",
                            kind="list_kind", identifying_unit="department")
            for d in lists_queries.definitions(session)]


@router.get("/lists/entries", operation_id="lists_entries")
def lists_entries(grant: ListsRead, session: DB,
                  list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None,
                  status: Annotated[str | None, Query(max_length=12)] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """List entries of subjects in your scope, newest first."""
    rows = lists_queries.entries(session, list_code=list_code, status=status, limit=limit)
    ids = {e.subject_id for e in rows}
    visible = set(session.execute(select(Subject.id).where(Subject.id.in_(ids), grant.subject_clause())).scalars()) \
        if ids else set()
    return [labels.annotate(lists_queries.entry_dict(e), list="list", status="list_status",
                            identifying_unit="department", origin="list_origin")
            for e in rows if e.subject_id in visible]


@router.get("/lists/entries/{entry_id}", operation_id="lists_entry")
def lists_entry(entry_id: Id, grant: ListsRead, session: DB) -> dict[str, Any]:
    """One entry with the history of its procedure."""
    d = lists_queries.entry_detail(session, entry_id)
    grant.require_subject(session, d["subject_id"])
    return labels.annotate(d, list="list", status="list_status", identifying_unit="department", origin="list_origin")
