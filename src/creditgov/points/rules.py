"""The earning rules in force (`data/rules.yaml`, or the newest copy loaded into the
store). Every earning, cap, expiry and reservation reads them through `rules`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError
from creditgov.points.models import PointsRules
from creditgov.points.schemas import RulesFile
from creditgov.security import service as audit

RULES = PolicyFile(RulesFile, "creditgov.points", "data/rules.yaml")


def rules(session: Session) -> RulesFile:
    """The rules in force: the newest loaded copy, else the shipped defaults."""
    row = session.execute(select(PointsRules).order_by(PointsRules.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return RULES.shipped()
    return RULES.parsed(row.text, f"points rules {row.version} (loaded {row.loaded_at:%Y-%m-%d})")


def check_items(session: Session, doc: RulesFile, source: str) -> None:
    """A record rule must name a positive item of the catalogue: points for a penalty
    would reward the wrong thing, and a misspelt code would silently earn nothing."""
    polarity = dict(session.execute(select(CatalogItem.code, CatalogItem.polarity)).tuples().all())
    for n, r in enumerate(doc.records):
        if r.item not in polarity:
            raise ConfigError(f"{source}: records[{n}].item: unknown catalogue item {r.item!r}")
        if polarity[r.item] != "positive":
            raise ConfigError(f"{source}: records[{n}].item: {r.item!r} is {polarity[r.item]}, not positive")


def load_rules(session: Session, *, path: Path, actor: str) -> dict[str, Any]:
    """Validate a rules file against the schema and the catalogue, then put it in force."""
    doc = RULES.load(path)
    check_items(session, doc, str(path))
    text = path.read_text("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    session.add(PointsRules(version=doc.version, text=text, content_hash=digest, loaded_at=clock.now(), actor=actor))
    session.flush()
    audit.append(session, action="points.rules.load", actor=actor,
                 detail={"file": path.name, "version": doc.version, "sha256": digest})
    return {"version": doc.version, "sha256": digest}
