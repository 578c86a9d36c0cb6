"""Data-quality warning rules (数据质量预警): a department's source is late, a batch's
volume jumps or falls against the source's recent batches, too many of a batch's rows
are rejected, or a batch's rejection rate jumps well above the source's own recent rate
(`quality.service.rejection_jump`, the measure the data-quality page marks spikes by).
Each warning goes to whom the rule names — shipped: the department that supplies the
source and the credit office's desk — in plain words naming the source, the figures
and what to do.

Why here: the figures are the quality domain's (`quality.service.late_sources`, the
same lateness the data-quality page shows) and ingestion's batches; alerts sits above
both and raises through the same `raise_alert`, outbox and de-duplication as every
other rule, in the same scan (`rules.evaluate`, scanner `quality`).

Lateness is judged against today, and a batch against the source's batches received
before it, so this scanner does not walk new rows once like the others: each pass it
judges every source and every file batch received within the rules' `max_age_days`.
Its cursor only paces it — the worker's loop runs every 0.2 s, lateness moves by days:
a pass judges when a batch has arrived since the last one (the highest batch id
moved), when the day changed, when `PACE_SECONDS` have passed, or when asked
(`thorough`: `creditgov alerts scan`, the periodic sweep); otherwise it costs one query.

Never twice: a late source is keyed by its last delivery (`late:<source>:<batch>`), so
a silence is one alert however many passes see it; a batch by its id (`batch:<id>`).
Repeats fold per source and period (dedup key `{rule}:{source}:{period}`: the day a
late source was due, the month a batch came in).

A late-source alert closes itself: the first pass after the source delivers again (a
new batch moves the cursor, so that is the next pass after its ingestion) resolves every
unresolved late alert of the source whose silence that file ended, with a note in the
alert's history naming the file that arrived (actor `rule:<code>`, on the audit chain).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.alerts import queries as alert_queries
from creditgov.alerts import rules
from creditgov.alerts import service as alerts
from creditgov.alerts.models import Alert, AlertTrigger
from creditgov.alerts.schemas import (
    QUALITY_KINDS,
    RejectionJumpRule,
    RejectionRateRule,
    SourceLateRule,
    VolumeChangeRule,
)
from creditgov.catalog.models import Department
from creditgov.core import clock, labels
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.quality import service as quality

PACE_SECONDS = 300.0


def _pct(x: float | Decimal) -> str:
    """0.125 -> "12.5%", 1 -> "100%"."""
    return f"{float(x) * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _num(x: float | Decimal | int) -> str:
    """A count as people write it: thousands separated, no trailing ".0"."""
    f = float(x)
    return f"{int(f):,}" if f == int(f) else f"{f:,.1f}"


class _Names:
    """What messages call a source and its department, read once per pass."""

    def __init__(self, session: Session) -> None:
        self.specs = quality.spec_docs(session)
        self.departments = {c: n for c, n in session.execute(select(Department.code, Department.name_zh))}

    def ctx(self, source: str) -> dict[str, Any]:
        doc = self.specs.get(source, {})
        dept = doc.get("department")
        dept_name = self.departments.get(dept) or (labels.label("department", dept, "zh") if dept else "")
        zh, en = quality.source_names(source, doc)
        dept_en = labels.label("department", dept, "en") if dept else ""
        return {"source": source, "source_name": zh, "source_name_en": en,
                "department": dept or "", "department_name": dept_name or "报送部门",
                "department_name_en": dept_en or "the supplying department"}


def _fired(session: Session, codes: Sequence[str]) -> set[tuple[str, str]]:
    return set(session.execute(select(AlertTrigger.rule_code, AlertTrigger.evidence_key)
                               .where(AlertTrigger.rule_code.in_(list(codes)))).tuples())


def _interval_text(row: dict[str, Any], lang: str = "zh") -> str:
    n = row["interval_days"]
    if lang == "en":
        if row["basis"] == "request":
            return (f"{quality.FREQUENCY_LABELS[row['frequency']][1].lower()}, as the data request agreed, "
                    f"that is every {n} days")
        if row["basis"] == "source":
            return f"every {n} days, as the warning rule sets for this source"
        return f"every {n} days (the data request agreed no frequency)"
    if row["basis"] == "request":
        return f"数据申请约定{quality.FREQUENCY_LABELS[row['frequency']][0]}报送，即每{n}天"
    if row["basis"] == "source":
        return f"预警规则为该数据源设定的每{n}天"
    return f"数据申请未约定报送频次，按每{n}天计"


def _close_arrived(session: Session, rule: SourceLateRule, last: dict[str, dict[str, Any]]) -> None:
    """Resolve the rule's unresolved late alerts whose source has delivered since the
    silence they report (its last batch is newer than the one the alert is keyed by)."""
    pending: dict[int, tuple[str, int]] = {}
    for alert_id, key in session.execute(
            select(AlertTrigger.alert_id, AlertTrigger.evidence_key).join(Alert, Alert.id == AlertTrigger.alert_id)
            .where(AlertTrigger.rule_code == rule.code, AlertTrigger.evidence_key.like("late:%"),
                   Alert.status != "resolved")).tuples():
        _, source, batch = key.split(":", 2)
        if not batch.isdigit():
            continue
        seen = pending.get(alert_id)
        if seen is None or int(batch) > seen[1]:
            pending[alert_id] = (source, int(batch))
    for alert_id, (source, silent_since) in sorted(pending.items()):
        r = last.get(source)
        if r is None or r["batch"] <= silent_since or r["late"]:
            continue
        arrived = clock.to_cst(r["last_at"]).date().isoformat()
        alerts.resolve(session, alert_id=alert_id, actor=f"rule:{rule.code}",
                       resolution=f"已收到新数据：{r['last_file']}（{arrived}，批次 {r['batch']}），迟报已解除，自动关闭。")


def _late(session: Session, rule: SourceLateRule, names: _Names, fired: set[tuple[str, str]], today: dt.date,
          out: rules.Pass) -> None:
    found = quality.late_sources(session, today, default_days=rule.default_interval_days, days=rule.interval_days)
    _close_arrived(session, rule, {r["source"]: r for r in found})
    for r in found:
        out.examined += 1
        if not r["late"] or (rule.sources and r["source"] not in rule.sources):
            continue
        key = f"late:{r['source']}:{r['batch']}"
        if (rule.code, key) in fired:
            continue
        last_day = clock.to_cst(r["last_at"]).date()
        due = last_day + dt.timedelta(days=r["interval_days"])
        ctx = {**names.ctx(r["source"]), "days_since_last": r["days_since_last"], "last_date": last_day.isoformat(),
               "last_file": r["last_file"], "interval_days": r["interval_days"], "interval_text": _interval_text(r),
               "interval_text_en": _interval_text(r, "en"),
               "due_date": due.isoformat(), "period": due.isoformat(), "date": today.isoformat()}
        rules._fire(session, rule, None, ctx, evidence_key=key,
                    evidence={"source": r["source"], "batch": r["batch"], "days_since_last": r["days_since_last"],
                              "interval_days": r["interval_days"], "basis": r["basis"]},
                    department=r["department"], out=out)


def _volume(rule: VolumeChangeRule, b: Batch, before: list[int]) -> dict[str, Any] | None:
    prior = before[-rule.history:]
    if len(prior) < rule.min_history:
        return None
    median = Decimal(str(statistics.median(prior)))
    if median < rule.min_rows:
        return None
    rows = Decimal(b.read)
    if rows > rule.factor * median:
        ratio = rows / median
        text = f"是此前 {len(prior)} 批行数中位数（{_num(median)} 行）的 {ratio:.1f} 倍，明显偏多"
        text_en = (f"{ratio:.1f} times the median of the previous {len(prior)} files ({_num(median)} rows), "
                   "clearly more")
        direction = "spike"
    elif rows * rule.factor < median:
        ratio = rows / median
        text = f"只有此前 {len(prior)} 批行数中位数（{_num(median)} 行）的 {_pct(ratio)}，明显偏少"
        text_en = f"only {_pct(ratio)} of the median of the previous {len(prior)} files ({_num(median)} rows), clearly fewer"
        direction = "drop"
    else:
        return None
    return {"median": _num(median), "history_count": len(prior), "ratio": f"{ratio:.2f}", "change_text": text,
            "change_text_en": text_en, "direction": direction, "factor": str(rule.factor)}


# What the department should do, by the main reason its rows were rejected ({dept}: its name).
ADVICE = {
    "item_not_allowed": "这些信息项未经数据申请批准，平台不予接收：请{dept}停止报送；确需共享的，请与县信用办联系，先办理数据申请。",
    "unregistered": "这些主体未在平台登记：请{dept}核对统一社会信用代码或身份证号；核对无误的，请告知县信用办办理主体登记后重新报送。",
    "bad_identifier": "请{dept}核对统一社会信用代码、身份证号是否完整正确，更正后重新报送被拒收的数据。",
    "unknown_code": "文件中出现了数据规格对照表没有的代码：请{dept}告知县信用办这些代码的含义，或改用约定的代码后重新报送。",
}
DEFAULT_ADVICE = "请{dept}按拒收原因更正后重新报送被拒收的数据。"
ADVICE_EN = {
    "item_not_allowed": "These items were not approved by a data request, so the platform does not take them: "
                        "{dept}, please stop sending them; if they must be shared, ask the county credit office to "
                        "file a data request first.",
    "unregistered": "These subjects are not registered on the platform: {dept}, please check their credit codes or "
                    "ID numbers; if they are right, ask the county credit office to register the subjects, then "
                    "send the rows again.",
    "bad_identifier": "{dept}, please check that the credit codes and ID numbers are complete and right, then send "
                      "the rejected rows again.",
    "unknown_code": "The file holds codes the source's mapping does not know: {dept}, please tell the county credit "
                    "office what they mean, or use the agreed codes and send the rows again.",
}
DEFAULT_ADVICE_EN = "{dept}, please correct the rows as their rejection reasons say and send them again."


def _reasons(session: Session, batch_id: int) -> tuple[str, str | None, str]:
    """The batch's quarantine reasons by category, most rows first (three at most), the
    main one's code, and the reasons in English."""
    by: dict[str, int] = defaultdict(int)
    for reason, n in session.execute(select(QuarantinedRow.reason, func.count()).where(
            QuarantinedRow.batch_id == batch_id).group_by(QuarantinedRow.reason)):
        by[quality.reason_code(reason)] += int(n)
    top = sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    text = "、".join(f"{labels.label('quarantine_reason', code, 'zh')} {_num(n)} 行" for code, n in top)
    text_en = "; ".join(f"{labels.label('quarantine_reason', code, 'en')}: {_num(n)} rows" for code, n in top)
    return text or "见隔离区明细", top[0][0] if top else None, text_en or "see the rows in quarantine"


BatchRule = VolumeChangeRule | RejectionRateRule | RejectionJumpRule


def _rejected(session: Session, b: Batch, ctx: dict[str, Any]) -> dict[str, Any]:
    """The batch's rejections in words: the main reasons and what the department should do."""
    reasons, main, reasons_en = _reasons(session, b.id)
    advice = ADVICE.get(main or "", DEFAULT_ADVICE).replace("{dept}", ctx["department_name"])
    advice_en = ADVICE_EN.get(main or "", DEFAULT_ADVICE_EN).replace("{dept}", ctx["department_name_en"])
    return {"rejected": _num(b.rejected), "rate": _pct(Decimal(b.rejected) / b.read), "reasons": reasons,
            "reasons_en": reasons_en, "reason": main or "", "advice": advice, "advice_en": advice_en}


def _jump(rule: RejectionJumpRule, b: Batch, before: list[tuple[int, int]], ctx: dict[str, Any]) -> dict[str, Any] | None:
    """The batch's jump in rejections (None: none), with its words in both languages."""
    j = quality.rejection_jump(b.read, b.rejected, before, **rule.figures())
    if j is None:
        return None
    zh = (f"数据源「{ctx['source_name']}」{ctx['date']} 收到的文件 {b.file_name} 共 {_num(b.read)} 行，"
          f"拒收 {_num(b.rejected)} 行，{j['words']['zh']}")
    en = (f"The file {b.file_name} from {ctx['source_name_en']} received on {ctx['date']} had "
          f"{_num(b.rejected)} of {_num(b.read)} rows rejected: {j['words']['en']}.")
    factor = f"{rule.factor:f}".rstrip("0").rstrip(".")
    return {"jump_text": j["words"]["zh"], "jump_text_en": j["words"]["en"], "recent_rate": j["recent_text"],
            "history_count": j["history"],
            "ratio": "" if j["ratio"] is None else f"{j['ratio']:.1f}", "factor": factor,
            "min_increase": _pct(rule.min_increase)[:-1], "summary_zh": zh + "。", "summary_en": en}


def _batches(session: Session, defs: Sequence[BatchRule], names: _Names,
             fired: set[tuple[str, str]], today: dt.date, out: rules.Pass) -> None:
    oldest = today - dt.timedelta(days=max(r.max_age_days for r in defs))
    since = dt.datetime.combine(oldest - dt.timedelta(days=1), dt.time())  # UTC; the CST day is checked below
    recent = list(session.execute(select(Batch).where(Batch.kind == "file", Batch.started_at >= since)
                                  .order_by(Batch.id)).scalars())
    if not recent:
        return
    history: dict[str, list[tuple[Any, ...]]] = {}
    if any(isinstance(r, VolumeChangeRule | RejectionJumpRule) for r in defs):
        history = quality.file_history(session, sorted({b.source for b in recent}))
    for b in recent:
        received = clock.to_cst(b.started_at).date()
        out.examined += 1
        for rule in defs:
            if received < today - dt.timedelta(days=rule.max_age_days):
                continue
            if rule.sources and b.source not in rule.sources:
                continue
            key = f"batch:{b.id}"
            if (rule.code, key) in fired:
                continue
            ctx: dict[str, Any] = {**names.ctx(b.source), "file_name": b.file_name, "date": received.isoformat(),
                                   "period": f"{received:%Y-%m}", "rows": _num(b.read), "batch": b.id}
            evidence: dict[str, Any] = {"source": b.source, "batch": b.id, "rows": b.read}
            earlier = [h for h in history.get(b.source, []) if (h[0], h[1]) < (b.started_at, b.id)]
            if isinstance(rule, VolumeChangeRule):
                change = _volume(rule, b, [h[2] for h in earlier])
                if change is None:
                    continue
                ctx.update(change)
                evidence.update(median=change["median"], history=change["history_count"],
                                direction=change["direction"])
            elif isinstance(rule, RejectionJumpRule):
                jump = _jump(rule, b, [(h[2], h[3]) for h in earlier], ctx)
                if jump is None:
                    continue
                ctx.update(jump, **_rejected(session, b, ctx))
                evidence.update(rejected=b.rejected, recent_rate=jump["recent_rate"], history=jump["history_count"],
                                summary_zh=jump["summary_zh"], summary_en=jump["summary_en"])
            else:
                if b.read < rule.min_rows or Decimal(b.rejected) <= rule.threshold * b.read:
                    continue
                ctx.update(threshold=_pct(rule.threshold), **_rejected(session, b, ctx))
                evidence.update(rejected=b.rejected)
            rules._fire(session, rule, None, ctx, evidence_key=key, evidence=evidence,
                        department=ctx["department"] or None, out=out)


def scan(session: Session, *, thorough: bool = False) -> rules.Pass:
    """One pass of the data-quality rules (when due: see the module's note on pace)."""
    out = rules.Pass()
    cur = rules._cursor(session, rules.QUALITY)
    top = int(session.execute(select(func.max(Batch.id))).scalar() or 0)
    state = dict(cur.state or {})
    today, wall = clock.today(), time.time()
    due = (thorough or cur.position != top or state.get("day") != today.isoformat()
           or wall - float(state.get("at", 0.0)) >= PACE_SECONDS)
    if not due:
        return out
    defs = alert_queries.rule_defs(session, kinds=QUALITY_KINDS)
    if defs:
        names = _Names(session)
        fired = _fired(session, [r.code for r in defs])
        for rule in defs:
            if isinstance(rule, SourceLateRule):
                _late(session, rule, names, fired, today, out)
        batch_rules = [r for r in defs if isinstance(r, VolumeChangeRule | RejectionRateRule | RejectionJumpRule)]
        if batch_rules:
            _batches(session, batch_rules, names, fired, today, out)
    cur.position = top
    cur.state = {"day": today.isoformat(), "at": wall}
    cur.updated_at = clock.now()
    return out
