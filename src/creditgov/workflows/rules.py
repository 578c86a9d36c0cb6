"""The workflow rules in force (`data/rules.yaml`, or the newest copy loaded into the
store): deadlines in working days, who reviews and takes in applications, the repair
tiers, the exchange's recipients and the notification channels. Every procedure
reads them through `rules`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog import departments
from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.security import service as audit
from creditgov.workflows.models import WorkflowRules
from creditgov.workflows.schemas import RulesFile, TierRules

RULES = PolicyFile(RulesFile, "creditgov.workflows", "data/rules.yaml")


def shipped_rules_text() -> str:
    return RULES.text()


def read_rules(path: Path | None = None) -> RulesFile:
    return RULES.load(path)


def rules(session: Session) -> RulesFile:
    """The rules in force: the newest loaded copy, else the shipped defaults."""
    row = session.execute(select(WorkflowRules).order_by(WorkflowRules.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return read_rules()
    return RULES.parsed(row.text, f"workflow rules {row.version} (loaded {row.loaded_at:%Y-%m-%d})")


def load_rules(session: Session, *, path: Path, actor: str | None = None) -> dict[str, Any]:
    """Validate a rules file against the schema and the catalogue, then put it in force."""
    actor = actor or audit.default_actor()
    doc = read_rules(path)
    for where, code in (("credit_office", doc.credit_office), ("objection.review_authority",
                        doc.objection.review_authority), ("repair.intake_unit", doc.repair.intake_unit)):
        departments.require(session, code, where=f"{path}: {where}")
    text = path.read_text("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    session.add(WorkflowRules(version=doc.version, text=text, content_hash=digest, loaded_at=clock.now(),
                              actor=actor))
    session.flush()
    audit.append(session, action="workflows.rules.load", actor=actor,
                 detail={"file": path.name, "version": doc.version, "sha256": digest})
    return {"version": doc.version, "sha256": digest}


def repair_commitment_type(session: Session) -> str:
    """Which commitment type a repair signs, for the commitments domain's signing door
    (wired by the composition root: `bootstrap.py`)."""
    return rules(session).repair.commitment_type


def tier_rules(r: RulesFile, tier: str | None) -> TierRules:
    return r.repair.tiers[tier or "general"]  # type: ignore[index]  # a catalogue severity, a str
