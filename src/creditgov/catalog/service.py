"""The catalogue and data requests: loading, querying, and the approval check."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog import departments, publication
from creditgov.catalog.models import CatalogItem, DataRequest, Department
from creditgov.catalog.requests import record_event
from creditgov.catalog.schemas import CatalogFile, DataRequestFile
from creditgov.core.config import PolicyFile, load_yaml_model
from creditgov.core.errors import ConfigError, NotFound
from creditgov.security import service as audit

EVALUATION_CLASSES = frozenset({"public", "shared", "restricted"})
PUBLICATION_CLASSES = frozenset({"public"})


CATALOG = PolicyFile(CatalogFile, "creditgov.catalog", "data/catalog.yaml")


def default_catalog_text() -> str:
    return CATALOG.text()


def read_catalog(path: Path | None = None) -> CatalogFile:
    return CATALOG.load(path)


def load_catalog(session: Session, *, path: Path | None = None, actor: str | None = None) -> dict[str, int | str]:
    """Upsert departments and items from a catalogue file (the shipped one by default)."""
    cat = read_catalog(path)
    try:
        resolved = publication.resolve_all(cat)
    except ValueError as exc:
        raise ConfigError(f"{path or 'catalog.yaml (shipped)'}: publication: {exc}") from None
    for d in cat.departments:
        session.merge(Department(code=d.code, name_zh=d.name_zh, name_en=d.name_en))
    session.flush()
    for it in cat.items:
        pub = resolved[it.code]
        session.merge(CatalogItem(
            code=it.code, name_zh=it.name_zh, name_en=it.name_en, polarity=it.polarity,
            severity=it.severity, department_code=it.department, legal_basis=it.legal_basis,
            data_class=it.data_class, value_kind=it.value_kind, unit=it.unit,
            min_publication_months=pub.min_months, max_publication_months=pub.max_months,
            published=pub.published, publication=pub.as_json(), catalog_version=cat.version,
            bureau=cat.bureau_of(it),
            rating=None if it.rating is None else it.rating.model_dump(mode="json"),
        ))
    session.flush()
    audit.append(session, action="catalog.load", actor=actor,
                 detail={"version": cat.version, "items": len(cat.items), "departments": len(cat.departments)})
    return {"version": cat.version, "items": len(cat.items), "departments": len(cat.departments)}


def load_requests(session: Session, *, path: Path, actor: str | None = None) -> dict[str, int]:
    doc = load_yaml_model(DataRequestFile, path)
    items = {c for (c,) in session.execute(select(CatalogItem.code))}
    existing = {(r.item_code, r.department_code): r for r in session.execute(select(DataRequest)).scalars()}
    for n, r in enumerate(doc.requests):
        if r.item not in items:
            raise ConfigError(f"{path}: requests[{n}]: unknown catalogue item {r.item!r}")
        departments.require(session, r.department, where=f"{path}: requests[{n}]")
        row = existing.get((r.item, r.department))
        before = None if row is None else (row.status, row.requested_on, row.decided_on, row.note)
        if row is None:
            row = DataRequest(item_code=r.item, department_code=r.department)
            session.add(row)
        row.status, row.requested_on, row.decided_on, row.note = r.status, r.requested_on, r.decided_on, r.note
        if before != (row.status, row.requested_on, row.decided_on, row.note):
            # An import is a step in the request's history like a decision made here
            # (catalog/requests.py); an unchanged row adds nothing.
            session.flush()
            record_event(session, row, action="imported", from_status=before[0] if before else None,
                         reason=r.note, actor=actor or audit.default_actor())
    session.flush()
    counts = {"requested": len(doc.requests),
              "approved": sum(r.status == "approved" for r in doc.requests),
              "rejected": sum(r.status == "rejected" for r in doc.requests)}
    audit.append(session, action="catalog.requests.load", actor=actor, detail={"file": path.name, **counts})
    return counts


def items(session: Session) -> list[CatalogItem]:
    return list(session.execute(select(CatalogItem).order_by(CatalogItem.code)).scalars())


def item(session: Session, code: str) -> CatalogItem:
    row = session.get(CatalogItem, code)
    if row is None:
        raise NotFound(f"catalogue item {code!r} not found")
    return row


def requests(session: Session) -> list[DataRequest]:
    q = select(DataRequest).order_by(DataRequest.department_code, DataRequest.item_code)
    return list(session.execute(q).scalars())


def request_status(session: Session) -> dict[tuple[str, str], str]:
    q = select(DataRequest.item_code, DataRequest.department_code, DataRequest.status)
    return {(i, d): s for i, d, s in session.execute(q)}


def usable_for_evaluation(item: CatalogItem) -> bool:
    """Secret-class items never enter evaluation (the founding paper)."""
    return item.data_class in EVALUATION_CLASSES


def publishable(item: CatalogItem) -> bool:
    """Public pages may show the item: public data class, and published at all under
    the publication rules (warnings and 通报批评 are not)."""
    return item.data_class in PUBLICATION_CLASSES and bool(item.published)


def publication_table(session: Session) -> list[dict[str, object]]:
    """Every item's publication as resolved at load: published or not, period,
    deadlines, and which rule decided each aspect (and which were overruled)."""
    return [{"item": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "data_class": i.data_class,
             **(i.publication or {"published": i.published, "min_months": i.min_publication_months,
                                  "max_months": i.max_publication_months})}
            for i in items(session)]
