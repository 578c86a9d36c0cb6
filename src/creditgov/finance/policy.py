"""The finance policy in force (`data/fund.yaml`, or the newest copy loaded into the
store): the fund's eligibility, share, caps and claim window, the decline reasons and
how long a consent for one need lasts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.finance.models import FinancePolicy
from creditgov.finance.schemas import FinanceFile
from creditgov.security import service as audit

POLICY = PolicyFile(FinanceFile, "creditgov.finance", "data/fund.yaml")


def policy(session: Session) -> FinanceFile:
    row = session.execute(select(FinancePolicy).order_by(FinancePolicy.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return POLICY.shipped()
    return POLICY.parsed(row.text, f"finance policy {row.version} (loaded {row.loaded_at:%Y-%m-%d})")


def load_policy(session: Session, *, path: Path, actor: str) -> dict[str, Any]:
    """Validate a policy file, then put it in force (the newest loaded copy wins)."""
    doc = POLICY.load(path)
    text = path.read_text("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    session.add(FinancePolicy(version=doc.version, text=text, content_hash=digest, loaded_at=clock.now(),
                              actor=actor))
    session.flush()
    audit.append(session, action="finance.policy.load", actor=actor,
                 detail={"file": path.name, "version": doc.version, "sha256": digest})
    return {"version": doc.version, "sha256": digest}


def decline_label(doc: FinanceFile, code: str) -> tuple[str, str] | None:
    for r in doc.decline_reasons:
        if r.code == code:
            return r.name_zh, r.name_en
    return None
