"""Inspection notices (检查通知书) printed like the list documents (`service.render`):
one per inspection task of a random draw (双随机), read from the supervision tables.

The notice names the firm, the inspecting department, the policy and draw the task
comes from, the inspectors assigned (drawn, or those it was re-assigned to), the
deadline, what is inspected (the policy's
inspection matters for the firm's band, each with its provision; a policy that lists
none is named by reference, with the firm's band), the policy's citation
as the legal basis and the firm's rights under 国办发〔2015〕58号. Who may print is a
rule of this module, not of its callers: acting for a department (`department`), only
that department's own tasks print — the CLI, the page and any later API pass the same
check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import Department
from creditgov.core import clock, labels
from creditgov.core.clock import day_in_words
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.documents.service import Doc, Printed, render
from creditgov.lists.documents import party
from creditgov.security import service as audit
from creditgov.security.accounts import User
from creditgov.security.scopes import Forbidden
from creditgov.subjects.models import Subject
from creditgov.supervision.models import Draw, InspectionTask, Inspector, SupervisionPolicy
from creditgov.supervision.schemas import PolicyDef
from creditgov.supervision.service import INSPECTOR_KINDS, policy
from creditgov.supervision.tasks import assigned_at

KIND = "inspection"
TITLE = ("检查通知书", "Inspection notice")
MAX_TASKS = 2000
RIGHTS = ("检查人员实施检查时应当出示执法证件和本通知书；你（单位）有权要求检查人员出示执法证件，"
          "检查人员不出示执法证件或者本通知书的，你（单位）有权拒绝检查；对检查人员的违法违纪行为，"
          "你（单位）有权向{unit}或者本级信用主管部门投诉、举报。依据：《国务院办公厅关于推广随机抽查"
          "规范事中事后监管的通知》（国办发〔2015〕58号）。")
DUTY = "请你（单位）如实提供与检查事项有关的资料和情况，配合检查；检查结果将依法记入你（单位）信用记录并公示。"


def _unit(session: Session, code: str, lang: str = "zh") -> str:
    d = session.get(Department, code)
    if d is None:
        return code
    return (d.name_en or d.name_zh) if lang == "en" else d.name_zh


def _inspectors(session: Session, codes: Sequence[str]) -> str:
    """The assigned people by their stored names (the inspector roster, else the account)."""
    if not codes:
        return "—"
    roster = {i.code: i for i in session.execute(select(Inspector).where(Inspector.code.in_(list(codes)))).scalars()}
    accounts: dict[str, str] = {u: n for u, n in session.execute(select(User.username, User.display_name).where(
        User.username.in_(list(codes))))}
    out = []
    for c in codes:
        i = roster.get(c)
        if i is not None:
            out.append(f"{i.name}（{INSPECTOR_KINDS.get(i.kind, (i.kind, ''))[0]}，编号 {c}）")
        else:
            out.append(f"{accounts.get(c) or c}（编号 {c}）")
    return "、".join(out)


def acting_check(tasks: Sequence[InspectionTask], department: str | None) -> None:
    """Acting for `department`, every task must be that department's own inspection."""
    if department is None:
        return
    for t in tasks:
        if t.department != department:
            if t.draw_id is not None:
                raise Forbidden(f"draw {t.draw_id} is an inspection of department {t.department}; you act for "
                                f"{department}", code="documents.inspections.other_draw",
                                params={"id": t.draw_id, "owner": t.department, "department": department})
            raise Forbidden(f"task {t.id} is an inspection of department {t.department}; you act for {department}",
                            code="documents.inspections.other_task",
                            params={"id": t.id, "owner": t.department, "department": department})


def tasks_for(session: Session, *, draw_id: int | None = None, task_ids: Sequence[int] | None = None,
              department: str | None = None) -> list[InspectionTask]:
    """The batch: the live tasks of one draw, or the named tasks (of that draw, when
    both are given), in id order. A cancelled or policy-less task gets no notice."""
    if draw_id is None and not task_ids:
        raise InvalidInput("name a draw (--draw) or the tasks (--task)", code="documents.inspections.nothing_named")
    q = select(InspectionTask).order_by(InspectionTask.id)
    if draw_id is not None:
        if session.get(Draw, draw_id) is None:
            raise NotFound(f"draw {draw_id} not found", code="documents.inspections.no_draw", params={"id": draw_id})
        q = q.where(InspectionTask.draw_id == draw_id)
    if task_ids:
        wanted = sorted(set(task_ids))
        q = q.where(InspectionTask.id.in_(wanted))
    rows = list(session.execute(q.limit(MAX_TASKS + 1)).scalars())
    if len(rows) > MAX_TASKS:
        raise InvalidInput(f"more than {MAX_TASKS} documents in one run: name the tasks",
                           code="documents.inspections.too_many", params={"max": MAX_TASKS})
    if task_ids:
        missing = sorted(set(wanted) - {t.id for t in rows})
        if missing and draw_id is not None:
            raise NotFound(f"inspection task(s) {', '.join(map(str, missing))} not found in draw {draw_id}",
                           code="documents.inspections.not_in_draw",
                           params={"ids": ", ".join(map(str, missing)), "draw": draw_id})
        if missing:
            raise NotFound(f"inspection task(s) {', '.join(map(str, missing))} not found",
                           code="documents.inspections.no_tasks", params={"ids": ", ".join(map(str, missing))})
        for t in rows:
            if t.status == "cancelled":
                raise InvalidInput(f"task {t.id} was cancelled: no notice", code="documents.inspections.cancelled",
                                   params={"id": t.id})
            if t.policy_name is None:
                raise InvalidInput(f"task {t.id} ({t.kind}) has no supervision policy: no inspection notice",
                                   code="documents.inspections.no_policy", params={"id": t.id, "kind": t.kind})
    else:
        rows = [t for t in rows if t.status != "cancelled" and t.policy_name is not None]
        if not rows:
            raise NotFound(f"draw {draw_id} has no inspection tasks to notify", code="documents.inspections.draw_empty",
                           params={"id": draw_id})
    acting_check(rows, department)
    return rows


def _matters(p: PolicyDef, band_label: str | None, policy_title: str, band: str) -> str:
    """The matters inspected, numbered, each with how and its provision; without a list,
    the policy's matters by reference."""
    listed = p.matters_for(band_label)
    if not listed:
        return f"依照{policy_title}确定的抽查事项开展检查{band}"
    parts = []
    for n, m in enumerate(listed, 1):
        how = f"，检查方式：{m.method}" if m.method else ""
        what = f"（{m.content}）" if m.content else ""
        parts.append(f"{n}. {m.title}{what}{how}；依据：{m.citation}")
    return "；".join(parts) + band


def docs(session: Session, rows: Sequence[InspectionTask]) -> list[Doc]:
    zh, en = TITLE
    out: list[Doc] = []
    for t in rows:
        assert t.policy_name is not None  # tasks_for keeps policy tasks only
        _row, p = policy(session, t.policy_name)
        d = session.get(Draw, t.draw_id) if t.draw_id is not None else None
        unit = _unit(session, t.department)
        pt = party(session, t.subject_id)
        subj = session.get(Subject, t.subject_id)
        code_word = "统一社会信用代码" if subj is not None and subj.uscc else "证件号码"
        firm = f"{pt.name}（{code_word}：{pt.code or '—'}）" + (
            f"；法定代表人（负责人）：{pt.legal_representative}" if pt.legal_representative else "")
        policy_title = f"《{p.title}》"
        source = policy_title
        if d is not None:
            source += f"随机抽查（第 {d.id} 号抽取，抽取日期 {day_in_words(d.as_of, 'zh')}，随机种子 {d.seed}）"
        band = ""
        if t.band:
            # The band by its name, as the supervision pages say it; its label is a code
            # (`at-least-85`) unless the policy names the band by its label (A, B …).
            try:
                b = p.band(t.band)
                band = f"；你（单位）所在监管类别：{b.name_zh or b.label}（{b.citation}）"
            except KeyError:  # a band the policy no longer has: by the name the catalogue keeps
                band = f"；你（单位）所在监管类别：{labels.label('supervision_band', t.band)}"
        body = [("被检查单位：", firm)]
        if subj is not None and subj.address:
            body.append(("地址：", subj.address))
        body += [
            ("", f"根据{policy_title}的随机抽查结果，{unit}将对你（单位）实施检查。现将有关事项通知如下："),
            ("一、检查部门：", unit),
            ("二、抽查来源：", source),
            ("三、检查人员：", _inspectors(session, list(t.assignees or []))),
            ("四、检查期限：", f"自本通知书送达之日起至{day_in_words(t.due_on, 'zh')}（含当日）止"),
            ("五、检查事项：", _matters(p, t.band, policy_title, band)),
            ("六、法律依据：", p.citation),
            ("七、你（单位）的权利：", RIGHTS.format(unit=unit)),
            ("八、配合义务：", DUTY)]
        # Dated the day the inspection was last assigned (made, or re-assigned to the
        # inspectors it names; China's day), not the print's.
        out.append(Doc(t.id, t.subject_id, zh, en, unit, body, clock.to_cst(assigned_at(t)).date(),
                       _unit(session, t.department, "en")))
    return out


def print_notices(session: Session, *, verify_base: str, draw_id: int | None = None,
                  task_ids: Sequence[int] | None = None, department: str | None = None,
                  actor: str | None = None) -> Printed:
    """One PDF of inspection notices, each registered under its serial and the run
    audited (`service.render`)."""
    actor = actor or audit.default_actor()
    rows = tasks_for(session, draw_id=draw_id, task_ids=task_ids, department=department)
    return render(session, docs(session, rows), kind=KIND, verify_base=verify_base, actor=actor)


def printable_draws(session: Session, *, department: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The draws with live tasks a printer may choose (acting for `department`: its own),
    newest first, with the policy's title and the number of notices."""
    q = (select(InspectionTask.draw_id, func.count(InspectionTask.id))
         .where(InspectionTask.draw_id.is_not(None), InspectionTask.status != "cancelled",
                InspectionTask.policy_name.is_not(None))
         .group_by(InspectionTask.draw_id).order_by(InspectionTask.draw_id.desc()).limit(limit))
    if department is not None:
        q = q.where(InspectionTask.department == department)
    counts = {int(i): int(n) for i, n in session.execute(q).all()}
    if not counts:
        return []
    rows = session.execute(select(Draw, SupervisionPolicy.title, SupervisionPolicy.department)
                           .outerjoin(SupervisionPolicy, SupervisionPolicy.name == Draw.policy_name)
                           .where(Draw.id.in_(list(counts))).order_by(Draw.id.desc())).all()
    return [{"id": d.id, "policy": d.policy_name, "title": title or d.policy_name, "department": dept,
             "as_of": d.as_of, "tasks": counts[d.id]} for d, title, dept in rows]
