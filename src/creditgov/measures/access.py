"""Read logic the measures edges share: credit checks as export rows — those of subjects
in the reader's scope (a department: the checks it ran), residents' names masked where
the reader's masking policy says so (`Grant.masks_people`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock, labels
from creditgov.measures.models import CreditCheck
from creditgov.security.crypto import mask_name
from creditgov.security.scopes import Grant, Role
from creditgov.subjects.models import Subject

CHECK_HEADER = {"zh": ["核查编号", "核查时间（北京时间）", "主体编号", "主体", "应用场景", "核查单位", "等级", "信用码颜色",
                       "所在名单", "适用措施数", "用途"],
                "en": ["Check", "Checked at (CST)", "Subject", "Name", "Scenario", "Checked by", "Grade", "Colour",
                       "Lists", "Measures applied", "Purpose"]}
BATCH = 2000


def check_rows(session: Session, grant: Grant, *, lang: str) -> Iterator[list[Any]]:
    """Checks newest first, read in batches so a long history streams."""
    p = grant.principal
    unit = p.department_code if p.role is Role.DEPARTMENT else (p.organisation if p.role is Role.BANK else None)
    before: int | None = None
    while True:
        q = (select(CreditCheck, Subject.name, Subject.resident_id_index)
             .join(Subject, Subject.id == CreditCheck.subject_id).where(grant.subject_clause())
             .order_by(CreditCheck.id.desc()).limit(BATCH))
        if unit is not None:
            q = q.where(CreditCheck.department == unit)
        if before is not None:
            q = q.where(CreditCheck.id < before)
        batch = session.execute(q).all()
        if not batch:
            return
        for c, name, personal in batch:
            yield [c.check_id, clock.to_cst(c.checked_at).strftime("%Y-%m-%d %H:%M:%S"), c.subject_id,
                   mask_name(name) if personal and grant.masks_people else name, labels.label("scenario", c.scenario, lang),
                   labels.label("department", c.department, lang), c.grade or "",
                   labels.label("colour", c.colour, lang) if c.colour else "",
                   ("、" if lang == "zh" else ", ").join(labels.label("list", x, lang) for x in (c.lists or [])),
                   c.measure_count, c.purpose or ""]
        before = batch[-1][0].id
