"""Grid patrols: a grid's key targets (重点对象) — subjects with a red colour code or on a
black or key-attention list in force — and patrol tasks for its grid workers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security import service as audit
from creditgov.subjects.models import Region, Subject
from creditgov.supervision.draws import subject_names
from creditgov.supervision.models import InspectionTask, Inspector

# ----------------------------------------------------------------------------- patrol lists

PATROL_LIST_KINDS = ("black", "attention")


def patrol_list(session: Session, *, grid: str, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Key targets (重点对象) of a grid for its grid workers' patrols: subjects with a red
    colour code, and subjects on a black or key-attention list in force."""
    from creditgov.alerts.models import ColourCode
    from creditgov.lists.models import CreditList, ListEntry
    from creditgov.lists.queries import listed_on

    on = on or clock.today()
    root = session.execute(select(Region.path).where(Region.code == grid)).scalar()
    if root is None:
        raise NotFound(f"no region {grid!r}")
    in_grid = select(Subject.id).join(Region, Region.id == Subject.region_id).where(Region.path.startswith(root))
    reasons: dict[int, list[str]] = {}
    for sid, grade in session.execute(select(ColourCode.subject_id, ColourCode.grade)
                                              .where(ColourCode.subject_id.in_(in_grid), ColourCode.colour == "red")):
        reasons.setdefault(sid, []).append(f"红码 (等级 {grade})")
    q = (select(ListEntry.subject_id, CreditList.name_zh).join(CreditList, CreditList.code == ListEntry.list_code)
         .where(ListEntry.subject_id.in_(in_grid), CreditList.kind.in_(PATROL_LIST_KINDS),
                listed_on(on)))
    for sid, list_name in session.execute(q):
        reasons.setdefault(sid, []).append(f"列入{list_name}")
    names = subject_names(session, sorted(reasons))
    return [{"subject_id": sid, "name": names.get(sid, ""), "reasons": reasons[sid]} for sid in sorted(reasons)]


def assign_patrols(session: Session, *, grid: str, due_days: int = 7, actor: str | None = None) -> list[InspectionTask]:
    """Patrol tasks for the grid's key targets, assigned to its grid workers; a subject
    with an open patrol task gets no second one."""
    actor = actor or audit.default_actor()
    targets = patrol_list(session, grid=grid)
    workers = list(session.execute(select(Inspector.code).where(
        Inspector.kind == "grid_worker", Inspector.region_code == grid, Inspector.active.is_(True))
        .order_by(Inspector.code)).scalars())
    if not workers:
        raise InvalidInput(f"grid {grid} has no active grid worker in any pool")
    open_ = set(session.execute(select(InspectionTask.subject_id).where(
        InspectionTask.kind == "patrol", InspectionTask.status == "assigned")).scalars())
    now, due = clock.now(), clock.today() + dt.timedelta(days=due_days)
    out = []
    for tgt in targets:
        if tgt["subject_id"] in open_:
            continue
        t = InspectionTask(kind="patrol", draw_id=None, policy_name=None, department="grid",
                           subject_id=tgt["subject_id"], band=None, assignees=workers, due_on=due, status="assigned",
                           note="; ".join(tgt["reasons"]), created_at=now, updated_at=now, assigned_at=now,
                           actor=actor)
        session.add(t)
        out.append(t)
    session.flush()
    if out:
        audit.append(session, action="supervision.patrol.assign", actor=actor,
                     detail={"grid": grid, "tasks": [t.id for t in out]})
    return out
