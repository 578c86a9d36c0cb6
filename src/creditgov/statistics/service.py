"""Statistics forms (统计报表) for the upper authority: one month or one quarter of the
credit office's work, in six summary tables — subjects by kind and by street, credit
records by supplying department, list entries in and out, credit checks and the
measures applied after them, objections and repairs with their deadline compliance.

Why counted here, in SQL, and nowhere else: the page, the API, the command, the
workbook and the PDF all call `form()`, so the figures sent upward are the figures the
office sees. Periods are China Standard Time: a month is its first to its last day in
Beijing, so a record stored at 2026-09-30 17:00 UTC (01:00 on 1 October in Beijing)
counts in October. Business dates (checked_on, exited_on, received_on, decided_on …)
are already Beijing days and are compared as dates; stored moments (created_at) are
naive UTC and compared with the period's bounds moved to UTC.

`scope` is a condition on `Subject` (the viewer's `Grant.subject_clause()`; None: the
whole county): every table counts only rows about subjects in it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from creditgov.analysis import scan
from creditgov.analysis.service import Areas
from creditgov.catalog.models import Department
from creditgov.core import clock, labels
from creditgov.core.errors import InvalidInput
from creditgov.lists.models import CreditList, ListEntry
from creditgov.measures.models import CheckFeedback, CreditCheck
from creditgov.records.models import CreditRecord
from creditgov.subjects.models import Subject
from creditgov.workflows.models import Objection, RepairApplication

UNKNOWN = ("(未知)", "(unknown)")


@dataclass(frozen=True)
class Period:
    """A month (`2026-10`) or a quarter (`2026Q4`) in China Standard Time: `start` is
    its first day, `end` the day after its last."""

    kind: str
    code: str
    start: dt.date
    end: dt.date

    @property
    def start_utc(self) -> dt.datetime:
        return clock.day_start(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return clock.day_start(self.end)

    def label(self, lang: str) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月" if lang == "zh" else f"{self.start:%B %Y}"
        q = (self.start.month - 1) // 3 + 1
        return f"{self.start.year}年第{q}季度" if lang == "zh" else f"Q{q} {self.start.year}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "start": self.start.isoformat(),
                "last_day": (self.end - dt.timedelta(days=1)).isoformat(), "timezone": "Asia/Shanghai (CST)",
                "label": {"zh": self.label("zh"), "en": self.label("en")}}




_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


def period(code: str) -> Period:
    """`2026-10` (a month) or `2026Q4` / `2026-Q4` (a quarter)."""
    text = code.strip()
    if (m := _MONTH.match(text) or _QUARTER.match(text)) and not 2000 <= int(m[1]) <= 2999:
        raise InvalidInput(f"period {code!r}: the year must be between 2000 and 2999")
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"no month {month} in {code!r}")
        start = dt.date(year, month, 1)
        return Period("month", f"{year}-{month:02d}", start, clock.add_months(start, 1))
    if m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        start = dt.date(year, 3 * q - 2, 1)
        return Period("quarter", f"{year}Q{q}", start, clock.add_months(start, 3))
    raise InvalidInput(f"period {code!r}: give a month as 2026-10 or a quarter as 2026Q4")


def last_month(today: dt.date | None = None) -> Period:
    """The month before today's (Beijing) month: the form usually due."""
    first = (today or clock.today()).replace(day=1)
    return period(f"{clock.add_months(first, -1):%Y-%m}")


# ----------------------------------------------------------------------------- the tables

COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "subjects_by_kind": [("new", "本期新增", "New"), ("total", "期末总数", "Total at end")],
    "subjects_by_region": [("new", "本期新增", "New"), ("total", "期末总数", "Total at end")],
    "records": [("new", "新增记录", "New records"), ("corrections", "更正版本", "Corrections"),
                ("total", "期末记录总数", "Records held at end")],
    "lists": [("entered", "本期列入", "Entered"), ("exited", "本期移出", "Exited"),
              ("in_force", "期末在列", "In force at end")],
    "checks": [("checks", "核查次数", "Checks"), ("suggested", "提示措施", "Measures suggested"),
               ("applied", "已实施措施", "Measures applied"), ("not_applied", "未实施措施", "Not applied")],
    "objections": [("received", "受理", "Received"), ("decided", "办结", "Decided"),
                   ("on_time", "按期办结", "Decided on time"), ("late", "超期办结", "Decided late"),
                   ("overdue_open", "期末超期未结", "Open past due at end")],
    "repairs": [("received", "受理", "Received"), ("decided", "办结", "Decided"),
                ("on_time", "按期办结", "Decided on time"), ("late", "超期办结", "Decided late"),
                ("overdue_open", "期末超期未结", "Open past due at end")],
}
TITLES: dict[str, tuple[str, str]] = {
    "subjects_by_kind": ("信用主体（按类型）", "Subjects by kind"),
    "subjects_by_region": ("信用主体（按乡镇街道）", "Subjects by street"),
    "records": ("信用记录（按报送部门）", "Credit records by department"),
    "lists": ("信用名单列入与移出", "Lists: entries in and out"),
    "checks": ("信用核查与联合奖惩措施（按部门）", "Credit checks and applied measures by department"),
    "objections": ("异议处理（按部门）", "Objections by department"),
    "repairs": ("信用修复（按部门）", "Credit repairs by department"),
}
SECTIONS = tuple(TITLES)


def _in_scope(col: Any, scope: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    return [] if scope is None else [col.in_(select(Subject.id).where(scope))]


def _between(col: Any, lo: Any, hi: Any) -> ColumnElement[bool]:
    return and_(col >= lo, col < hi)


def _grouped(session: Session, q: Select[Any]) -> dict[Any, int]:
    return {k: int(n or 0) for k, n in session.execute(q).all()}


def _table(key: str, rows: dict[str, dict[str, int]], names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    cols = COLUMNS[key]
    out_rows = []
    total = {c: 0 for c, _, _ in cols}
    for code in sorted(rows, key=lambda k: (k == "", k)):
        values = {c: rows[code].get(c, 0) for c, _, _ in cols}
        for c in total:
            total[c] += values[c]
        zh, en = names.get(code, UNKNOWN if code == "" else (code, code))
        out_rows.append({"key": code, "name": {"zh": zh, "en": en}, "values": values})
    return {"key": key, "title": {"zh": TITLES[key][0], "en": TITLES[key][1]},
            "columns": [{"key": c, "zh": zh, "en": en} for c, zh, en in cols], "rows": out_rows, "total": total}


def _fold(*parts: tuple[str, dict[Any, int]]) -> dict[str, dict[str, int]]:
    rows: dict[str, dict[str, int]] = defaultdict(dict)
    for col, counts in parts:
        for k, n in counts.items():
            rows["" if k is None else str(k)][col] = n
    return rows


def _departments(session: Session) -> dict[str, tuple[str, str]]:
    return {c: (zh, en) for c, zh, en in session.execute(select(Department.code, Department.name_zh,
                                                                Department.name_en))}


def _subjects(session: Session, p: Period, scope: ColumnElement[bool] | None) -> list[dict[str, Any]]:
    # A duplicate merged into its survivor is no subject of its own (subjects/changes.py).
    base = [Subject.created_at < p.end_utc, Subject.status != "merged", *([scope] if scope is not None else [])]
    new = Subject.created_at >= p.start_utc
    by_kind = _fold(("total", _grouped(session, select(Subject.kind, func.count()).where(*base)
                                       .group_by(Subject.kind))),
                    ("new", _grouped(session, select(Subject.kind, func.count()).where(*base, new)
                                     .group_by(Subject.kind))))
    kinds = {k: (labels.label("subject_kind", k, "zh"), labels.label("subject_kind", k, "en")) for k in by_kind}
    areas = Areas.load(session)
    region_rows: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "new": 0})
    names: dict[str, tuple[str, str]] = {}
    for rid, total in session.execute(
            select(Subject.region_id, func.count()).where(*base).group_by(Subject.region_id)).all():
        code, name = areas.street.get(rid if rid is not None else -1, ("", ""))
        region_rows[code]["total"] += int(total)
        if code:
            names[code] = (name, name)
    for rid, fresh in session.execute(
            select(Subject.region_id, func.count()).where(*base, new).group_by(Subject.region_id)).all():
        code, _ = areas.street.get(rid if rid is not None else -1, ("", ""))
        region_rows[code]["new"] += int(fresh)
    return [_table("subjects_by_kind", by_kind, kinds), _table("subjects_by_region", dict(region_rows), names)]


def _records(session: Session, p: Period, scope: ColumnElement[bool] | None,
             engine: str | None = None) -> dict[str, Any]:
    """Records by supplying department. A large store's are counted from the record
    segments on DuckDB or Spark (analysis/scan.py: the same `auto` choice as the
    regional analysis), with the secret items, which the segments never hold, counted
    in the store."""
    where = _in_scope(CreditRecord.subject_id, scope)
    dept = CreditRecord.department_code
    in_period = _between(CreditRecord.created_at, p.start_utc, p.end_utc)
    reader = scan.choose(session, engine)
    read: dict[str, Any] = {"engine": "store"}
    extra: list[ColumnElement[bool]] = []
    scanned: dict[str, dict[Any, int]] = {}
    url = scan.store_url(session)
    why = scan.ready(url) if reader != "store" else None
    if why is not None:
        read["reason"] = why
    elif reader != "store":
        subjects = None if scope is None else scan.subjects_in(session, scope, engine=reader)
        scanned, done = scan.department_counts(url, reader, subjects, p.start_utc, p.end_utc)
        read = done.as_dict()
        if not done.secret_items:
            return {**_table("records", _fold(*scanned.items()), _departments(session)), "read": read}
        extra = [CreditRecord.item_code.in_(done.secret_items)]

    def count(*cond: ColumnElement[bool]) -> dict[Any, int]:
        return _grouped(session, select(dept, func.count()).where(*where, *extra, *cond).group_by(dept))

    counted = {"new": count(in_period, CreditRecord.version == 1),
               "corrections": count(in_period, CreditRecord.version > 1),
               "total": count(CreditRecord.created_at < p.end_utc, CreditRecord.version == 1)}
    for col, by_dept in scanned.items():
        for k, n in by_dept.items():
            counted[col][k] = counted[col].get(k, 0) + n
    return {**_table("records", _fold(*counted.items()), _departments(session)), "read": read}


def _lists(session: Session, p: Period, scope: ColumnElement[bool] | None) -> dict[str, Any]:
    where = _in_scope(ListEntry.subject_id, scope)
    code = ListEntry.list_code

    def count(*cond: ColumnElement[bool]) -> dict[Any, int]:
        return _grouped(session, select(code, func.count()).where(*where, *cond).group_by(code))

    rows = _fold(("entered", count(_between(ListEntry.published_on, p.start, p.end))),
                 ("exited", count(_between(ListEntry.exited_on, p.start, p.end))),
                 ("in_force", count(ListEntry.published_on < p.end,
                                    or_(ListEntry.exited_on.is_(None), ListEntry.exited_on >= p.end))))
    names = {c: (zh, en) for c, zh, en in session.execute(select(CreditList.code, CreditList.name_zh,
                                                                   CreditList.name_en))}
    return _table("lists", rows, names)


def _checks(session: Session, p: Period, scope: ColumnElement[bool] | None) -> dict[str, Any]:
    where = [*_in_scope(CreditCheck.subject_id, scope), _between(CreditCheck.checked_on, p.start, p.end)]
    dept = CreditCheck.department
    checks = _grouped(session, select(dept, func.count()).where(*where).group_by(dept))
    suggested = _grouped(session, select(dept, func.sum(CreditCheck.measure_count)).where(*where).group_by(dept))
    fb_where = [_between(CheckFeedback.at, p.start_utc, p.end_utc),
                *([CheckFeedback.check_id.in_(select(CreditCheck.check_id).where(
                    *_in_scope(CreditCheck.subject_id, scope)))] if scope is not None else [])]

    def feedback(applied: bool) -> dict[Any, int]:
        return _grouped(session, select(CheckFeedback.department, func.count()).where(
            *fb_where, CheckFeedback.applied.is_(applied)).group_by(CheckFeedback.department))

    rows = _fold(("checks", checks), ("suggested", suggested), ("applied", feedback(True)),
                 ("not_applied", feedback(False)))
    return _table("checks", rows, _departments(session))


def _casework(session: Session, p: Period, scope: ColumnElement[bool] | None, key: str) -> dict[str, Any]:
    """Objections or repairs: received and decided in the period, decided on time
    (on or before the due day, an extension counted as the due day it set) or late, and
    open at the period's end past their due day."""
    m: Any = Objection if key == "objections" else RepairApplication
    received: Any = m.received_on if key == "objections" else m.applied_on
    due: Any = m.due_on if key == "objections" else m.decision_due_on
    where = _in_scope(m.subject_id, scope)
    dept = m.department_code
    decided = _between(m.decided_on, p.start, p.end)

    def count(*cond: ColumnElement[bool]) -> dict[Any, int]:
        return _grouped(session, select(dept, func.count()).where(*where, *cond).group_by(dept))

    rows = _fold(("received", count(_between(received, p.start, p.end))),
                 ("decided", count(decided)),
                 ("on_time", count(decided, or_(due.is_(None), m.decided_on <= due))),
                 ("late", count(decided, due.is_not(None), m.decided_on > due)),
                 ("overdue_open", count(received < p.end, due.is_not(None), due < p.end,
                                        or_(m.decided_on.is_(None), m.decided_on >= p.end))))
    return _table(key, rows, _departments(session))


def form(session: Session, p: Period, *, scope: ColumnElement[bool] | None = None,
         engine: str | None = None) -> dict[str, Any]:
    """The period's form: its tables in `SECTIONS` order, each with bilingual titles,
    columns and row names, the counts per row and a total row. `engine`: what reads the
    credit records (`_records`; default the deployment's, analysis/scan.py)."""
    tables = [*_subjects(session, p, scope), _records(session, p, scope, engine), _lists(session, p, scope),
              _checks(session, p, scope), _casework(session, p, scope, "objections"),
              _casework(session, p, scope, "repairs")]
    return {"period": p.as_dict(), "scoped": scope is not None, "generated_at": clock.to_cst(clock.now()).isoformat(
        timespec="seconds"), "tables": tables}
