"""Read logic the edges share: which inspection tasks a grant reaches, which drawn
subjects of a draw it may see, whether a department-scoped grant may act on a policy
or task, the policies as listed, and a region's patrol targets within the scope.

The API routes (`supervision/views.py`) and the pages (`web/supervision_pages.py`) both
call these, so a page and its endpoint cannot disagree. Plain values in, plain values
out: no web framework here.

Reach of a task (`task_scope`): whole-county scopes see every task; others see tasks
about subjects in their scope, a department also its own inspections, and an inspector
or grid worker also the tasks assigned to the roster people its account acts for
(`acting_codes`: the roster row naming the account, or — a row naming none — the
account whose user name is the code, e.g. `SJ-S01-1`; drawn inspectors never work in
the subject's own region).

Reaching a task is reading it. Recording its result (`result_refusal`,
`require_recorder`) is for the people drawn or assigned to it, the officers of its own
department and the credit office — not for everyone whose region holds the subject: a
grid worker is no market inspector, and an inspector not drawn does not inspect.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from creditgov.core import labels
from creditgov.core.errors import NotFound
from creditgov.security.scopes import Forbidden, Grant, Role, Scope
from creditgov.subjects.models import Region, Subject
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import patrols
from creditgov.supervision import service as supervision_service
from creditgov.supervision import tasks as supervision_tasks
from creditgov.supervision.models import Draw, DrawItem, InspectionTask, SupervisionPolicy


def acting_codes(session: Session, grant: Grant) -> list[str]:
    """The roster people (their codes) the grant's account acts for: an inspector's or a
    grid worker's account (`service.acting_codes`); none for any other role."""
    p = grant.principal
    if p.role not in (Role.INSPECTOR, Role.GRID):
        return []
    return supervision_service.acting_codes(session, username=p.username, role=p.role.value)


def task_scope(session: Session, grant: Grant) -> ColumnElement[bool]:
    """The condition on `InspectionTask` selecting the tasks this grant reaches."""
    if grant.scope is Scope.ALL:
        return true()
    p = grant.principal
    return supervision_tasks.task_clause(
        grant.subject_clause(), assignees=acting_codes(session, grant),
        department=p.department_code if grant.scope is Scope.DEPARTMENT else None)


def require_task(session: Session, grant: Grant, task_id: int, *, lock: bool = False) -> InspectionTask:
    """The task, or NotFound when it is missing or outside the grant's reach."""
    t = supervision_tasks.get_task(session, task_id, lock=lock)
    if grant.scope is not Scope.ALL and session.execute(
            select(InspectionTask.id).where(InspectionTask.id == task_id, task_scope(session, grant))).first() is None:
        raise NotFound(f"inspection task {task_id} not found in your data scope", code="supervision.task.not_found",
                       params={"id": task_id})
    return t


def require_recorder(session: Session, grant: Grant, t: InspectionTask) -> None:
    """Refuse (403) a grant that may not record `t`'s result: the credit office may; a
    department officer for its own department's tasks; an inspector or a grid worker
    for a task assigned to a roster person its account acts for — the inspectors drawn
    (双随机: the draw chose them, and no one else inspects), the grid workers of a
    patrol, the people a campaign gave the task. Reaching a task (the subject in one's
    region) is not enough."""
    p = grant.principal
    if p.role is Role.CREDIT_OFFICE:
        return
    if p.role is Role.DEPARTMENT:
        if p.department_code != t.department:
            raise Forbidden(f"task {t.id} belongs to department {t.department}; you act for {p.department_code}",
                            code="supervision.other_department", params={"department": t.department})
        return
    team = list(t.assignees or [])
    if set(acting_codes(session, grant)) & set(team):
        return
    if not team:
        raise Forbidden(f"task {t.id} is not assigned to anyone yet: only department {t.department} or the credit "
                        "office may record its result", code="supervision.task.not_yours_unassigned",
                        params={"id": t.id, "department": t.department})
    names = supervision_service.people_named(session, team)
    said = ", ".join(f"{names[c]} ({c})" if c in names else c for c in team)
    raise Forbidden(f"only the inspectors assigned to task {t.id} ({said}), department {t.department} or the "
                    "credit office may record its result", code="supervision.task.not_yours",
                    params={"id": t.id, "inspectors": said, "department": t.department})


def result_refusal(session: Session, grant: Grant, t: InspectionTask) -> Forbidden | None:
    """Why this grant may not record `t`'s result (`require_recorder`), or None when it
    may: for a page, which offers the form or says who records instead."""
    try:
        require_recorder(session, grant, t)
    except Forbidden as refused:
        return refused
    return None


def draw_items_in_scope(session: Session, grant: Grant, d: Draw) -> set[int] | None:
    """The drawn subjects of `d` this grant may see by name (None: all of them).

    Why filter rather than refuse: the draw itself — seed, policy hash, inputs and
    result hashes, counts per band — is what 双随机一公开 publishes so anyone can check
    it was fair, and every reader of supervision may see it. Which firms were drawn
    is not published before they are inspected (a list in the wrong hands warns them),
    and a drawn resident is personal data. So each reader sees the drawn subjects in
    their own data scope (a grid worker the firms of their grid, to go along with the
    inspectors), those they are assigned to inspect (an inspector never works in the
    subject's own region, so assignments lie outside the region scope), and a
    department the whole of a draw under its own policy (it made the draw); the rest
    is counted, not named. Whole-county scopes see everything."""
    if grant.scope is Scope.ALL:
        return None
    p = grant.principal
    if grant.scope is Scope.DEPARTMENT:
        dept = session.execute(select(SupervisionPolicy.department).where(
            SupervisionPolicy.name == d.policy_name)).scalar()
        if dept is not None and dept == p.department_code:
            return None
    items = session.execute(select(DrawItem.subject_id, DrawItem.inspectors).where(DrawItem.draw_id == d.id)).all()
    ids = [sid for sid, _ in items]
    out: set[int] = set()
    for k in range(0, len(ids), 900):
        out.update(session.execute(select(Subject.id).where(Subject.id.in_(ids[k:k + 900]),
                                                           grant.subject_clause())).scalars())
    if codes := set(acting_codes(session, grant)):
        out.update(sid for sid, team in items if codes & set(team or []))
    return out


def draw_view(session: Session, grant: Grant, draw_id: int) -> dict[str, Any]:
    """One draw as this grant may see it (`draw_items_in_scope`)."""
    d = supervision_draws.get_draw(session, draw_id)
    return supervision_draws.draw_dict(session, d, only=draw_items_in_scope(session, grant, d))


def own_department(grant: Grant, department: str, what: str) -> None:
    """A department-scoped grant acts on its own department's supervision only."""
    if grant.scope is Scope.DEPARTMENT and department != grant.principal.department_code:
        raise Forbidden(f"{what} belongs to department {department}; you act for "
                        f"{grant.principal.department_code}", code="supervision.other_department",
                        params={"department": department})


def policy_rows(session: Session) -> list[dict[str, Any]]:
    """The loaded policies with their version and hash, and `citation_short`: the
    citation as a page's table cell shows it (`short_citation`)."""
    rows = {r.name: r for r in session.execute(select(SupervisionPolicy)).scalars()}
    return [{**p.model_dump(mode="json"), "version": rows[p.name].version, "content_hash": rows[p.name].content_hash,
             "citation_short": short_citation(p.citation)} for p in supervision_service.policies(session)]


_CLAUSE_ENDS = "，；。：、）》”…,;) "


def short_citation(text: str, length: int = 90) -> str:
    """A citation cut to about `length` characters for a table cell: whole when it fits,
    else after the last clause mark (or space) in its second half, with “…”. Chinese is
    written without spaces, so a cut at a space would fall inside a word."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    head = text[:length - 1]
    cut = max(head.rfind(c) for c in _CLAUSE_ENDS)
    kept = (head[:cut + 1] if cut >= length // 2 else head).rstrip("，；：、,; ")
    return kept if kept.endswith("…") else kept + "…"


def patrol_targets(session: Session, grant: Grant, grid: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(region, targets): a region's key targets for patrols, limited to the scope. The
    region defaults to the caller's own, else the county."""
    p = grant.principal
    code = grid or p.region_code or session.execute(
        select(Region.code).order_by(Region.depth, Region.code).limit(1)).scalar()
    if code is None:
        raise NotFound("no regions are loaded")
    path = session.execute(select(Region.path).where(Region.code == code)).scalar()
    if path is None or (grant.scope is Scope.REGION and not (p.region_path and path.startswith(p.region_path))):
        raise NotFound(f"region {code} not found in your data scope", code="supervision.region.out_of_scope",
                       params={"region": code})
    items = patrols.patrol_list(session, grid=code)
    if grant.scope is not Scope.ALL and items:
        ids = {i["subject_id"] for i in items}
        ok = set(session.execute(select(Subject.id).where(Subject.id.in_(ids), grant.subject_clause())).scalars())
        items = [i for i in items if i["subject_id"] in ok]
    return code, items


def campaign_department(grant: Grant) -> str | None:
    """The department a grant acts for on campaigns (None: any campaign). A department
    officer reaches its own department's campaigns only; the campaigns service refuses
    the rest as not found."""
    if grant.scope is Scope.ALL:
        return None
    return grant.principal.department_code or ""


TASK_HEADER = {"zh": ["编号", "类型", "主体编号", "主体", "档次", "检查人员", "实施部门", "截止日期", "状态", "结果",
                      "检查日期", "处罚金额", "决定文号", "检查发现"],
               "en": ["Task", "Kind", "Subject", "Name", "Band", "Inspectors", "Department", "Due on", "Status",
                      "Outcome", "Inspected on", "Penalty amount", "Decision no.", "Finding"]}


def person(member: dict[str, str], lang: str = "zh") -> str:
    """An inspector as a reader sees one: the name with the code (赵伟（SJ-S01-1）), or
    the code alone when the roster lacks it."""
    if not member.get("name"):
        return member["code"]
    return f"{member['name']}（{member['code']}）" if lang == "zh" else f"{member['name']} ({member['code']})"


def task_export_rows(session: Session, tasks: Sequence[InspectionTask], lang: str = "zh") -> Iterator[list[Any]]:
    """Inspection tasks and their results as export rows (issue 19), as the supervision
    page lists them (residents masked, as every task list shows them), codes named in
    `lang`, with the result's date, amount, decision number and finding."""
    for t in supervision_tasks.task_views(session, tasks):
        yield [t["id"], labels.label("task_kind", t["kind"], lang), t["subject_id"], t["subject_name"],
               labels.label("supervision_band", t["band"], lang),
               ", ".join(person(m, lang) for m in t["team"]),
               labels.label("department", t["department"], lang) if t["department"] else "",
               t["due_on"], labels.label("task_status", t["status"], lang),
               labels.label("task_outcome", t["outcome"], lang) if t["outcome"] else "", t["inspected_on"] or "",
               t["penalty_amount"] or "", t["decision_no"] or "", t["finding"] or ""]
