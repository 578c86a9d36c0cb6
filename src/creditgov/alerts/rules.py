"""Warning-rule evaluation: scanners that read what is new and raise alerts.

Four scanners, each one transaction per pass, each with a cursor stored beside the
alerts it raises (so the cursor moves if and only if the alerts are committed):

- records: new credit records (any writer: ingestion, commitments, inspections) →
  new-record, record-count and consecutive-months rules;
- list events: list entries published → list-entry rules;
- runs: published evaluation runs not yet compared → score-drop and grade-change rules;
- quality: the departments' sources → source-late, volume-change, rejection-rate and
  rejection-jump rules (`source_rules.py`: judged against today and each source's
  history, so its cursor only paces it).

Why cursors with holes: ids are handed out when a row is inserted, not when it is
committed. SQLite has one writer at a time, so rows become visible in id order; on
PostgreSQL a long ingestion transaction can commit ids lower than rows already seen.
The records and list-event cursors therefore remember the ids they skipped ("holes")
and look at them again on every pass until they fill or a grace period ends (a rolled
back batch leaves a hole forever). Every alert is also keyed by its cause
(`AlertTrigger`), so reading a row twice can never raise twice.
"""

from __future__ import annotations

import datetime as dt
import math
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.alerts import faults
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts
from creditgov.alerts.models import ScanCursor
from creditgov.alerts.schemas import (
    RECORD_KINDS,
    RUN_KINDS,
    ConsecutiveMonthsRule,
    GradeChangeRule,
    ListEntryRule,
    NewRecordRule,
    RecordCountRule,
    RuleDef,
    ScoreDropRule,
)
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, db, labels
from creditgov.lists.models import CreditList, ListEntry, ListEntryEvent
from creditgov.records.models import CreditRecord
from creditgov.scoring import published
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

RECORDS, LIST_EVENTS, RUNS, QUALITY = "records", "list_events", "runs", "quality"
HOLE_GRACE_SECONDS = 3600.0  # longer than any ingestion transaction
MAX_HOLES = 2000
WINDOW = 20_000  # ids read per pass of a cursor

DEFAULT_BODY = {
    "new_record": "{subject_name} 新增「{item_name}」记录（{date}，{document_no}）。",
    "record_count": "{subject_name} 近{window_days}天内已有{count}条「{item_names}」记录（阈值{threshold}条）。",
    "consecutive_months": "{subject_name} 已连续{run_months}个月存在「{item_names}」记录（规则{months}个月）。",
    "score_drop": "{subject_name} 在评价模型 {model} 中的得分由 {previous_score} 降至 {score}（下降 {drop}）。",
    "grade_change": "{subject_name} 在评价模型 {model} 中的等级由 {previous_grade} 变为 {grade}。",
    "list_entry": "{subject_name} 已被列入「{list_name}」（公示日期 {date}）。",
    # About a department's source (source_rules.py): what happened, in figures, and what to do.
    "source_late": "数据源「{source_name}」（报送部门：{department_name}）已有{days_since_last}天没有报送新数据"
                   "（最近一次：{last_date} 收到文件 {last_file}；应报送间隔：{interval_text}）。"
                   "请{department_name}尽快报送本期数据；本期确无数据的，请向县信用办说明。",
    "volume_change": "数据源「{source_name}」（报送部门：{department_name}）{date} 收到的文件 {file_name} 共 {rows} 行，"
                     "{change_text}。请{department_name}核对这批数据是否重复报送了历史数据、漏报或截取不全，"
                     "并将核对结果告知县信用办；有误的，请重新报送正确的文件。",
    "rejection_rate": "数据源「{source_name}」（报送部门：{department_name}）{date} 收到的文件 {file_name} 共 {rows} 行，"
                      "其中 {rejected} 行未通过校验被拒收，拒收率 {rate}（预警线 {threshold}）。主要原因：{reasons}。"
                      "{advice}拒收明细见平台「数据质量」页和隔离区。",
    "rejection_jump": "数据源「{source_name}」（报送部门：{department_name}）{date} 收到的文件 {file_name} 共 {rows} 行，"
                      "其中 {rejected} 行未通过校验被拒收，{jump_text}，明显高于该数据源平时的水平"
                      "（预警线：超过此前拒收率的 {factor} 倍且至少高出 {min_increase} 个百分点）。主要原因：{reasons}。"
                      "{advice}拒收明细见平台「数据质量」页和隔离区。",
}
# A rule about a source (no subject) is headed by the source's name.
DEFAULT_TITLE = {"source_late": "{rule_name}：{source_name}", "volume_change": "{rule_name}：{source_name}",
                 "rejection_rate": "{rule_name}：{source_name}", "rejection_jump": "{rule_name}：{source_name}"}
# The same messages in English, for readers of the English pages (kept with the
# notification, `payload["en"]`, and the alert's `raised` event). Filled with the
# context's English values: a value `x` the scanner also gives as `x_en`.
DEFAULT_BODY_EN = {
    "new_record": "{subject_name}: a new “{item_name}” record ({date}, {document_no}).",
    "record_count": "{subject_name} has {count} “{item_names}” records in the last {window_days} days "
                    "(threshold {threshold}).",
    "consecutive_months": "{subject_name} has had “{item_names}” records for {run_months} months in a row "
                          "(the rule: {months} months).",
    "score_drop": "{subject_name}: the score in the evaluation model {model} fell from {previous_score} to {score} "
                  "(down {drop}).",
    "grade_change": "{subject_name}: the grade in the evaluation model {model} changed from {previous_grade} "
                    "to {grade}.",
    "list_entry": "{subject_name} is on the {list_name} (published {date}).",
    "source_late": "The source “{source_name}” ({department_name}) has sent no new data for {days_since_last} days "
                   "(last: file {last_file}, received {last_date}; expected: {interval_text}). "
                   "{department_name}: please send this period's data; if there is none, tell the county credit "
                   "office.",
    "volume_change": "The file {file_name} of the source “{source_name}” ({department_name}), received on {date}, "
                     "has {rows} rows: {change_text}. {department_name}: please check whether it repeats earlier "
                     "data, misses rows or was cut short, and tell the county credit office; if it is wrong, send "
                     "the correct file again.",
    "rejection_rate": "The file {file_name} of the source “{source_name}” ({department_name}), received on {date}, "
                      "has {rows} rows, of which {rejected} failed validation and were rejected: a rejection rate "
                      "of {rate} (warning line {threshold}). Main reasons: {reasons}. {advice} The rejected rows are "
                      "on the platform's Data quality page and in quarantine.",
    "rejection_jump": "The file {file_name} of the source “{source_name}” ({department_name}), received on {date}, "
                      "has {rows} rows, of which {rejected} failed validation and were rejected: {jump_text}, well "
                      "above the source's usual level (warning line: more than {factor} times the earlier rate and "
                      "at least {min_increase} percentage points above it). Main reasons: {reasons}. {advice} The "
                      "rejected rows are on the platform's Data quality page and in quarantine.",
}
DEFAULT_TITLE_EN = {k: "{rule_name}: {source_name}" for k in DEFAULT_TITLE}


class _Ctx(dict[str, Any]):
    """Template values; an unknown placeholder stays as written instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _Fill(string.Formatter):
    """str.format limited to plain names: a placeholder that reaches into a value
    (`{subject_name.__class__}`) is printed as written, never evaluated. The rules
    files are validated the same way (`schemas.template_fields`)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        if not field_name.isidentifier():
            return "{" + field_name + "}", field_name
        return super().get_field(field_name, args, kwargs)


def render(template: str, ctx: dict[str, Any]) -> str:
    """A rule's template filled with data; the data is never read as a template."""
    return _Fill().vformat(template, (), _Ctx(ctx))


# ----------------------------------------------------------------------------- cursors


def _cursor(session: Session, name: str) -> ScanCursor:
    c = session.get(ScanCursor, name, with_for_update=True)
    if c is None:
        raise LookupError(name)
    return c


def ensure_cursors(session: Session) -> None:
    """Create missing cursors at the current end of their tables: rules watch what
    arrives after they are first loaded, never the whole history at once."""
    now = clock.now()
    if session.get(ScanCursor, RECORDS) is None:
        pos = session.execute(select(func.max(CreditRecord.id))).scalar() or 0
        session.add(ScanCursor(name=RECORDS, position=int(pos), state={"holes": []}, updated_at=now))
    if session.get(ScanCursor, LIST_EVENTS) is None:
        pos = session.execute(select(func.max(ListEntryEvent.id))).scalar() or 0
        session.add(ScanCursor(name=LIST_EVENTS, position=int(pos), state={"holes": []}, updated_at=now))
    if session.get(ScanCursor, RUNS) is None:
        done = list(session.execute(select(EvaluationRun.id).where(published.PUBLISHED)).scalars())
        session.add(ScanCursor(name=RUNS, position=max(done, default=0), state={"done": sorted(done)},
                               updated_at=now))
    if session.get(ScanCursor, QUALITY) is None:  # position 0: never passed, so the first scan judges
        session.add(ScanCursor(name=QUALITY, position=0, state={}, updated_at=now))
    session.flush()


@dataclass
class Walked:
    ids: list[int]  # ids to look at: new ones in the window plus holes that filled
    more: bool = False  # the table goes on beyond this window


def _walk(session: Session, cursor: ScanCursor, id_col: Any, *, window: int = WINDOW) -> Walked:
    """Advance `cursor` over one window of ids and return the ids to examine."""
    hi = session.execute(select(func.max(id_col))).scalar() or 0
    pos = cursor.position
    end = min(int(hi), pos + window)
    state = dict(cursor.state or {})
    holes: list[list[Any]] = [list(h) for h in state.get("holes", [])]
    now = time.time()
    pg = session.get_bind().dialect.name == "postgresql"
    found: list[int] = []
    if end > pos:
        found = list(session.execute(select(id_col).where(id_col > pos, id_col <= end).order_by(id_col)).scalars())
        if pg:
            expect = pos + 1
            for i in [*found, end + 1]:
                if i > expect:
                    holes.append([expect, i - 1, now])
                expect = i + 1
        cursor.position = end
    if pg and holes:
        kept: list[list[Any]] = []
        for lo, hi_, seen in holes:
            filled = list(session.execute(select(id_col).where(id_col >= lo, id_col <= hi_)
                                          .order_by(id_col)).scalars())
            new = [i for i in filled if i not in set(found)]
            found.extend(new)
            cur = lo
            for i in [*filled, hi_ + 1]:
                if i > cur and now - seen < HOLE_GRACE_SECONDS:
                    kept.append([cur, i - 1, seen])
                cur = i + 1
        holes = kept[-MAX_HOLES:]
    state["holes"] = holes
    cursor.state = state
    cursor.updated_at = clock.now()
    return Walked(sorted(set(found)), more=int(hi) > end)


# ----------------------------------------------------------------------------- firing


@dataclass
class Pass:
    """What one pass did."""

    examined: int = 0
    raised: int = 0
    repeated: int = 0
    notifications: int = 0
    alert_ids: list[int] = field(default_factory=list)
    more: bool = False

    def add(self, other: Pass) -> None:
        self.examined += other.examined
        self.raised += other.raised
        self.repeated += other.repeated
        self.notifications += other.notifications
        self.alert_ids.extend(other.alert_ids)

    def as_dict(self) -> dict[str, Any]:
        return {"examined": self.examined, "raised": self.raised, "repeated": self.repeated,
                "notifications": self.notifications}


def _subject_ctx(subject: Subject | None) -> dict[str, Any]:
    if subject is None:
        return {"subject_name": "（无主体）", "subject_name_en": "(no subject)", "subject_id": None,
                "subject_kind": None}
    return {"subject_name": subject_service.display_name(subject, masked=True), "subject_id": subject.id,
            "subject_kind": subject.kind, "uscc": subject.uscc or ""}


def english(rule: RuleDef, ctx: dict[str, Any]) -> dict[str, str] | None:
    """The rule's message in English (`{"title", "body"}`), filled with the context's
    English values; None when the rule has a Chinese template of its own and no English
    one (its readers see the message as stored). Its basis is the rule's `citation_en`,
    else — a rules file that gives none — its citation as written."""
    if (rule.title and not rule.title_en) or (rule.body and not rule.body_en):
        return None
    en = {**ctx, **{k[:-3]: v for k, v in ctx.items() if k.endswith("_en") and v not in (None, "")}}
    title = render(rule.title_en or DEFAULT_TITLE_EN.get(rule.kind, "{rule_name}: {subject_name}"), en)
    body = render(rule.body_en or DEFAULT_BODY_EN[rule.kind], en) + f"\nBasis: {rule.citation_en or rule.citation}"
    return {"title": title, "body": body}


def _fire(session: Session, rule: RuleDef, subject: Subject | None, ctx: dict[str, Any], *, evidence_key: str,
          evidence: dict[str, Any], department: str | None, out: Pass) -> None:
    if rule.subject_kinds and (subject is None or subject.kind not in rule.subject_kinds):
        return
    ctx = {"rule": rule.code, "rule_name": rule.name_zh, "rule_name_en": rule.name_en or rule.name_zh,
           "severity": rule.severity, **_subject_ctx(subject), **ctx}
    if "model" in ctx:  # messages name a model by its title (the label catalogue), never its code
        code = ctx["model"]
        ctx["model"], ctx["model_en"] = labels.label("model", code, "zh"), labels.label("model", code, "en")
    title = render(rule.title or DEFAULT_TITLE.get(rule.kind, "{rule_name}：{subject_name}"), ctx)
    body = render(rule.body or DEFAULT_BODY[rule.kind], ctx) + f"\n依据：{rule.citation}"
    r = alerts.raise_alert(
        session, rule_code=rule.code, subject_id=subject.id if subject else None, severity=rule.severity,
        title=title, body=body, recipients=rule.recipients, dedup_key=render(rule.dedup.key, ctx),
        window_days=rule.dedup.window_days, evidence_key=evidence_key, evidence=evidence,
        escalation=rule.escalation, department=department, actor=f"rule:{rule.code}", audit_each=False,
        english=english(rule, ctx))
    if r.created:
        out.raised += 1
        out.notifications += len(r.notifications)
        out.alert_ids.append(r.alert.id)
    elif r.repeated:
        out.repeated += 1


_REC_COLS = (CreditRecord.id, CreditRecord.subject_id, CreditRecord.item_code, CreditRecord.occurred_on,
             CreditRecord.decided_on, CreditRecord.value, CreditRecord.department_code, CreditRecord.document_no,
             CreditRecord.natural_key, CreditRecord.is_current, CreditRecord.status)


def _item_names(session: Session, lang: str = "zh") -> dict[str, str]:
    key = f"alerts.item_names.{lang}"
    names = session.info.get(key)
    if names is None:
        col = CatalogItem.name_en if lang == "en" else CatalogItem.name_zh
        names = {c: n for c, n in session.execute(select(CatalogItem.code, col)) if n}
        session.info[key] = names
    return names


def _when(row: Any) -> dt.date:
    return row.decided_on or row.occurred_on


def _count_in_window(session: Session, subject_id: int, items: Sequence[str], since: dt.date) -> int:
    return int(session.execute(select(func.count(CreditRecord.id)).where(
        CreditRecord.subject_id == subject_id, CreditRecord.item_code.in_(list(items)),
        CreditRecord.is_current.is_(True), CreditRecord.status == "active",
        func.coalesce(CreditRecord.decided_on, CreditRecord.occurred_on) >= since)).scalar_one())


def _months_run(session: Session, subject_id: int, items: Sequence[str], last: dt.date) -> int:
    """How many consecutive calendar months, ending with `last`'s month, have a record."""
    dates = session.execute(select(CreditRecord.occurred_on).where(
        CreditRecord.subject_id == subject_id, CreditRecord.item_code.in_(list(items)),
        CreditRecord.is_current.is_(True), CreditRecord.status == "active",
        CreditRecord.occurred_on <= last)).scalars()
    months = {d.year * 12 + d.month - 1 for d in dates}
    k, m = 0, last.year * 12 + last.month - 1
    while m - k in months:
        k += 1
    return k


def evaluate_record(session: Session, row: Any, rules: Sequence[RuleDef], out: Pass) -> None:
    """Every record rule against one new record."""
    if not row.is_current or row.status != "active":
        return
    names, names_en = _item_names(session), _item_names(session, "en")
    today = clock.today()
    subject = session.get(Subject, row.subject_id)
    when = _when(row)
    for rule in rules:
        if row.item_code not in rule.items:  # type: ignore[union-attr]  # record kinds all have items
            continue
        assert isinstance(rule, NewRecordRule | RecordCountRule | ConsecutiveMonthsRule)
        if rule.max_age_days is not None and when < today - dt.timedelta(days=rule.max_age_days):
            continue
        ctx: dict[str, Any] = {"item": row.item_code, "item_name": names.get(row.item_code, row.item_code),
                               "item_name_en": names_en.get(row.item_code, row.item_code),
                               "item_names": "、".join(names.get(i, i) for i in rule.items),
                               "item_names_en": ", ".join(names_en.get(i, i) for i in rule.items),
                               "date": when.isoformat(), "document_no": row.document_no or "无文号",
                               "document_no_en": row.document_no or "no document number",
                               "value": row.value if row.value is not None else ""}
        if isinstance(rule, NewRecordRule):
            if rule.min_value is not None and (row.value is None or Decimal(row.value) < rule.min_value):
                continue
        elif isinstance(rule, RecordCountRule):
            n = _count_in_window(session, row.subject_id, rule.items, today - dt.timedelta(days=rule.window_days))
            if n < rule.threshold:
                continue
            ctx.update(count=n, threshold=rule.threshold, window_days=rule.window_days)
        else:
            k = _months_run(session, row.subject_id, rule.items, row.occurred_on)
            if k < rule.months:
                continue
            ctx.update(run_months=k, months=rule.months)
        _fire(session, rule, subject, ctx, evidence_key=f"record:{row.natural_key}",
              evidence={"record": row.id, "item": row.item_code}, department=row.department_code, out=out)


def scan_records(session: Session, *, window: int = WINDOW) -> Pass:
    out = Pass()
    rules = alert_queries.rule_defs(session, kinds=RECORD_KINDS)
    cur = _cursor(session, RECORDS)
    walked = _walk(session, cur, CreditRecord.id, window=window)
    out.more = walked.more
    items = {i for r in rules for i in r.items}  # type: ignore[union-attr]  # record kinds all have items
    if not walked.ids or not items:
        out.examined = len(walked.ids)
        return out
    ids = walked.ids
    for k in range(0, len(ids), 900):
        chunk = ids[k:k + 900]
        q = select(*_REC_COLS).where(CreditRecord.id.in_(chunk), CreditRecord.item_code.in_(sorted(items)))
        for row in session.execute(q.order_by(CreditRecord.id)).all():
            evaluate_record(session, row, rules, out)
    out.examined = len(ids)
    return out


def scan_list_events(session: Session, *, window: int = WINDOW) -> Pass:
    out = Pass()
    rules = [r for r in alert_queries.rule_defs(session, kinds=("list_entry",)) if isinstance(r, ListEntryRule)]
    cur = _cursor(session, LIST_EVENTS)
    walked = _walk(session, cur, ListEntryEvent.id, window=window)
    out.examined, out.more = len(walked.ids), walked.more
    if not walked.ids or not rules:
        return out
    names: dict[str, str] = {c: n for c, n in session.execute(select(CreditList.code, CreditList.name_zh))}
    for k in range(0, len(walked.ids), 900):
        q = (select(ListEntryEvent, ListEntry).join(ListEntry, ListEntry.id == ListEntryEvent.entry_id)
             .where(ListEntryEvent.id.in_(walked.ids[k:k + 900]), ListEntryEvent.to_status == "published")
             .order_by(ListEntryEvent.id))
        for ev, entry in session.execute(q).all():
            subject = session.get(Subject, entry.subject_id)
            for rule in rules:
                if entry.list_code not in rule.lists:
                    continue
                ctx = {"list": entry.list_code, "list_name": names.get(entry.list_code, entry.list_code),
                       "list_name_en": labels.label("list", entry.list_code, "en"),
                       "date": (entry.published_on or ev.effective_on).isoformat()}
                _fire(session, rule, subject, ctx, evidence_key=f"list_entry:{entry.id}",
                      evidence={"list_entry": entry.id, "list": entry.list_code}, department=None, out=out)
    return out


def _previous_run(session: Session, run: EvaluationRun) -> int | None:
    q = (published.newest_first(run.model_name).where(
        EvaluationRun.id != run.id,
        (EvaluationRun.as_of < run.as_of) | ((EvaluationRun.as_of == run.as_of) & (EvaluationRun.id < run.id)))
        .limit(1))
    return session.execute(q).scalar()


def _scores(session: Session, run_id: int) -> dict[int, tuple[int, str]]:
    """A run's scores in hundredths (exact for two decimals), read with the driver's
    own cursor: a million rows without a million Decimals and result-row objects."""
    conn = session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # open: never None here
    try:
        cur.execute("SELECT subject_id, CAST(ROUND(score * 100) AS BIGINT), grade "
                    f"FROM {Score.__tablename__} "
                    f"WHERE run_id = {mark}", (run_id,))
        return {sid: (int(c), g) for sid, c, g in cur.fetchall()}
    finally:
        cur.close()


def _pts(centi: int) -> Decimal:
    return (Decimal(centi) / 100).quantize(Decimal("0.01"))


def compare_runs(session: Session, run: EvaluationRun, rules: Sequence[RuleDef], out: Pass) -> None:
    """Score-drop and grade-change rules between `run` and the model's previous published run."""
    mine = [r for r in rules if getattr(r, "model", None) in (None, run.model_name)]
    if not mine:
        return
    prev_id = _previous_run(session, run)
    new = _scores(session, run.id)
    old = _scores(session, prev_id) if prev_id is not None else {}
    out.examined += len(new)
    fired: list[tuple[RuleDef, int, dict[str, Any]]] = []
    drops = {id(r): math.ceil(r.min_drop * 100) for r in mine if isinstance(r, ScoreDropRule)}
    for sid, (score, grade) in new.items():
        before = old.get(sid)
        for rule in mine:
            if isinstance(rule, ScoreDropRule):
                if before is None or before[0] - score < drops[id(rule)]:
                    continue
                fired.append((rule, sid, {"previous_score": _pts(before[0]), "score": _pts(score),
                                          "drop": _pts(before[0] - score), "grade": grade,
                                          "previous_grade": before[1]}))
            elif isinstance(rule, GradeChangeRule):
                if grade not in rule.to_grades:
                    continue
                if before is None and not rule.include_first_run:
                    continue
                if before is not None and before[1] == grade:
                    continue
                fired.append((rule, sid, {"grade": grade, "previous_grade": before[1] if before else "（无）",
                                          "previous_grade_en": before[1] if before else "(none)",
                                          "score": _pts(score)}))
    for rule, sid, ctx in fired:
        subject = session.get(Subject, sid)
        ctx.update(model=run.model_name, run=run.id, previous_run=prev_id, date=run.as_of.isoformat())
        _fire(session, rule, subject, ctx, evidence_key=f"run:{run.id}:{sid}",
              evidence={"run": run.id, "previous_run": prev_id}, department=None, out=out)


def scan_runs(session: Session) -> Pass:
    out = Pass()
    cur = _cursor(session, RUNS)
    state = dict(cur.state or {})
    done = set(state.get("done", []))
    runs = [r for r in session.execute(select(EvaluationRun).where(published.PUBLISHED)
                                       .order_by(EvaluationRun.as_of, EvaluationRun.id)).scalars() if r.id not in done]
    if not runs:
        return out
    rules = alert_queries.rule_defs(session, kinds=RUN_KINDS)
    for run in runs:
        compare_runs(session, run, rules, out)
        done.add(run.id)
    state["done"] = sorted(done)
    cur.state = state
    cur.position = max(done)
    cur.updated_at = clock.now()
    return out


def scan_quality(session: Session, *, thorough: bool = False) -> Pass:
    from creditgov.alerts import source_rules

    return source_rules.scan(session, thorough=thorough)


SCANNERS: dict[str, Callable[[Session], Pass]] = {RECORDS: scan_records, LIST_EVENTS: scan_list_events,
                                                  RUNS: scan_runs, QUALITY: scan_quality}


def evaluate(url: str, *, scanners: Sequence[str] = (RECORDS, LIST_EVENTS, RUNS, QUALITY),
             thorough: bool = False) -> Pass:
    """One pass of each scanner, each in its own transaction with its cursor.
    `thorough`: the quality scanner judges now, not only when its pace says so (the
    `alerts scan` command and the periodic sweep)."""
    total = Pass()
    for name in scanners:
        while True:
            with db.session_scope(url) as s:
                if s.get(ScanCursor, name) is None:
                    alerts.ensure_inbox_channel(s)
                    ensure_cursors(s)
                res = scan_quality(s, thorough=thorough) if name == QUALITY else SCANNERS[name](s)
                if res.alert_ids:  # one audit entry per pass, naming every alert it raised
                    audit.append(s, action="alert.raise", actor=f"scanner:{name}",
                                 detail={"alerts": res.alert_ids, "notifications": res.notifications})
            if res.raised:
                faults.crash_point("outbox.committed")
            total.add(res)
            if not res.more:  # keep reading while a cursor has more beyond its window
                break
    return total
