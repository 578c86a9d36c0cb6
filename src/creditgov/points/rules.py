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


# (row id, sha256 of its text) -> the parsed copy. Loaded copies are rows that are
# only ever added, so a row's id and digest name one text for good.
_LOADED: dict[tuple[int, str], RulesFile] = {}
_T = PointsRules.__table__.c
_NEWEST = select(_T.id, _T.content_hash).order_by(_T.id.desc()).limit(1)
#: The newest loaded copy's id and digest as scalar subqueries, for a statement that
#: reads them beside other things (a redemption reads them with its offer).
NEWEST_ID = select(_T.id).order_by(_T.id.desc()).limit(1).scalar_subquery()
NEWEST_HASH = select(_T.content_hash).order_by(_T.id.desc()).limit(1).scalar_subquery()


def rules(session: Session) -> RulesFile:
    """The rules in force: the newest loaded copy, else the shipped defaults. Asked on
    every redemption, so the newest row is looked up by id and digest alone and its
    text read and parsed only the first time it is seen (the shipped file: once per
    change of the file, `PolicyFile.shipped`)."""
    newest = session.execute(_NEWEST).first()
    return in_force(session, None if newest is None else int(newest[0]), None if newest is None else str(newest[1]))


def in_force(session: Session, newest_id: int | None, newest_hash: str | None) -> RulesFile:
    """The rules in force, given the newest loaded copy's id and digest (None: none loaded)."""
    if newest_id is None or newest_hash is None:
        return RULES.shipped()
    key = (newest_id, newest_hash)
    doc = _LOADED.get(key)
    if doc is None:
        row = session.get(PointsRules, key[0])
        assert row is not None  # rows are never deleted
        doc = RULES.parsed(row.text, f"points rules {row.version} (loaded {row.loaded_at:%Y-%m-%d})")
        if len(_LOADED) > 64:
            _LOADED.clear()
        _LOADED[key] = doc
    return doc


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
