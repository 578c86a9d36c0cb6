"""Data quality per source, read from the ingestion batches and quarantine and the
departments' data requests (tables are one shared schema: this module only reads).

Lateness: a source is late when the days since its last file (a delivery: a `file`
batch, not a retry of its quarantine) exceed its expected interval: a number of days
set for that source, else the interval of the most frequent approved data request its
department was asked for (daily 1, weekly 7, monthly 31, quarterly 92, yearly 366 days;
`once` sets no interval), else a default number of days. The source's days and the
default are the data-quality warning rule's (`alerts/data/warning_rules.yaml`,
`source_late`): its scanner and this view call `late_sources` with them, so a source
the page shows late is the one the rule warns about. The rejection rate is rejected ÷
rows read; the trend is per month, the last 12 months.

A rejection spike (`rejection_jump`): a file whose rejection rate jumps well above its
source's own recent rate — the rate pooled over the source's previous files — by the
data-quality warning rule's measure (`rejection_jump`: how many times the recent rate
and by how many points at least). The rule's scanner judges each new file with it and
this view the source's last file, with the rule's figures, so the page and the warning
agree."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import DataRequest, DataRequestForm
from creditgov.core import clock, labels
from creditgov.ingest.models import Batch, QuarantinedRow, SpecVersion
from creditgov.ingest.reasons import reason_code

INTERVAL_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "yearly": 366}
FREQUENCY_LABELS = {"once": ("一次性", "Once"), "daily": ("每日", "Daily"), "weekly": ("每周", "Weekly"),
                    "monthly": ("每月", "Monthly"), "quarterly": ("每季度", "Quarterly"), "yearly": ("每年", "Yearly")}


def _intervals(session: Session) -> dict[str, tuple[str, int]]:
    """Per department: (frequency, days) of its most frequent approved request."""
    q = (select(DataRequest.department_code, DataRequestForm.frequency)
         .join(DataRequestForm, DataRequestForm.id == DataRequest.form_id)
         .where(DataRequest.status == "approved"))
    out: dict[str, tuple[str, int]] = {}
    for dept, freq in session.execute(q):
        days = INTERVAL_DAYS.get(freq)
        if days is not None and (dept not in out or days < out[dept][1]):
            out[dept] = (freq, days)
    return out


def last_deliveries(session: Session) -> dict[str, tuple[int, dt.datetime, str]]:
    """Each source's newest delivery (a `file` batch): (batch id, started at, file name)."""
    newest = (select(Batch.source, func.max(Batch.started_at).label("at")).where(Batch.kind == "file")
              .group_by(Batch.source).subquery())
    q = (select(Batch.source, Batch.id, Batch.started_at, Batch.file_name)
         .join(newest, (newest.c.source == Batch.source) & (newest.c.at == Batch.started_at))
         .where(Batch.kind == "file").order_by(Batch.id))
    return {src: (bid, at, name) for src, bid, at, name in session.execute(q)}


def late_sources(session: Session, today: dt.date | None = None, *, default_days: int | None = None,
                 days: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Every source with a delivery, against its expected interval: `days` (per source),
    else its department's approved data request, else `default_days` (None: no interval,
    never late). `basis` says which: source, request or default."""
    today = today or clock.today()
    specs, intervals, days = spec_docs(session), _intervals(session), days or {}
    out = []
    for src, (bid, at, file_name) in sorted(last_deliveries(session).items()):
        doc = specs.get(src, {})
        dept = doc.get("department")
        freq, interval, basis = None, None, None
        if src in days:
            interval, basis = int(days[src]), "source"
        elif dept in intervals:
            (freq, interval), basis = intervals[dept], "request"
        elif default_days is not None:
            interval, basis = int(default_days), "default"
        age = (today - clock.to_cst(at).date()).days
        out.append({"source": src, "department": dept, "doc": doc, "batch": bid, "last_at": at, "last_file": file_name,
                    "days_since_last": age, "frequency": freq, "interval_days": interval, "basis": basis,
                    "late": interval is not None and age > interval})
    return out


def _pct(x: Decimal) -> str:
    """Decimal("0.0333") -> "3.3%": one decimal, none when it is zero."""
    return f"{float(x) * 100:.1f}".rstrip("0").rstrip(".") + "%"


def rejection_jump(rows: int, rejected: int, earlier: Sequence[tuple[int, int]], *, factor: Decimal,
                   min_increase: Decimal, history: int = 6, min_history: int = 2,
                   min_rows: int = 20) -> dict[str, Any] | None:
    """Whether a file's rejection rate jumped well above its source's own recent rate,
    and by how much, in figures and in words (Chinese and English, rounded).

    `earlier`: (rows, rejected) of the source's earlier files, oldest first. The recent
    rate is pooled over the last `history` of them that had rows (their rejected ÷ their
    rows: a small file weighs as little as its rows). A jump needs a file of at least
    `min_rows` rows, at least `min_history` earlier files, and a rate above `factor` ×
    the recent rate *and* at least `min_increase` above it — so a source that rejects
    almost nothing does not warn for one bad row, nor a dirty source for its usual dirt."""
    prior = [(int(r), int(j)) for r, j in earlier if r][-history:]
    if rows < min_rows or rows <= 0 or len(prior) < min_history:
        return None
    recent = Decimal(sum(j for _, j in prior)) / Decimal(sum(r for r, _ in prior))
    rate = Decimal(rejected) / Decimal(rows)
    if rate <= factor * recent or rate - recent < min_increase:
        return None
    ratio = rate / recent if recent else None
    n = len(prior)
    if ratio is None:
        zh = f"拒收率 {_pct(rate)}，而此前 {n} 批文件没有拒收"
        en = f"rejection rate {_pct(rate)}, where the source's previous {n} files had none rejected"
    else:
        zh = f"拒收率 {_pct(rate)}，是此前 {n} 批文件拒收率（{_pct(recent)}）的 {ratio:.1f} 倍"
        en = (f"rejection rate {_pct(rate)}, {ratio:.1f} times the source's recent rate of {_pct(recent)} "
              f"over its previous {n} files")
    return {"rows": rows, "rejected": rejected, "rate": round(float(rate), 4), "recent_rate": round(float(recent), 4),
            "ratio": round(float(ratio), 1) if ratio is not None else None, "history": n,
            "rate_text": _pct(rate), "recent_text": _pct(recent), "words": {"zh": zh, "en": en}}


def file_history(session: Session, sources: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Per source its files (`file` batches) in the order they came: (started at, batch
    id, rows read, rows rejected), for the volume and rejection comparisons."""
    q = select(Batch.source, Batch.started_at, Batch.id, Batch.read, Batch.rejected).where(Batch.kind == "file")
    if sources is not None:
        q = q.where(Batch.source.in_(list(sources)))
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for src, at, bid, read, rej in session.execute(q):
        out[src].append((at, bid, int(read or 0), int(rej or 0)))
    for h in out.values():
        h.sort()
    return dict(out)


def spec_docs(session: Session) -> dict[str, dict[str, Any]]:
    """Each source's newest spec document (department, title, kind)."""
    out: dict[str, dict[str, Any]] = {}
    for name, text in session.execute(select(SpecVersion.name, SpecVersion.text).order_by(SpecVersion.id)):
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            doc = {}
        out[name] = doc if isinstance(doc, dict) else {}
    return out


# The sources the product itself writes credit records under (`CreditRecord.source`),
# not a department's spec: a credit-merchant award (points.merchants.SOURCE), a
# commitment's outcome (commitments.service.SOURCE), a record corrected on an objection
# (workflows.outcomes: the cause "objection:<id>" before its colon).
PRODUCT_SOURCES: dict[str, tuple[str, str]] = {
    "merchant-award": ("诚信商户评选", "Credit-merchant selection"),
    "commitments": ("信用承诺履约核查", "Credit commitment outcome"),
    "objection": ("异议处理更正", "Corrected on an objection"),
}
# Sources named `<prefix>:<rest>`: a record copied from another platform by the exchange
# (exchange.apply: "exchange:<node>").
PRODUCT_SOURCE_PREFIXES: dict[str, tuple[str, str]] = {
    "exchange": ("信用信息交换：{rest}", "Credit information exchange: {rest}"),
}


def product_source_names(name: str, doc: dict[str, Any] | None = None) -> tuple[str, str] | None:
    """The (Chinese, English) name of a source the product writes itself, None for any
    other. An inspection's results (supervision.tasks.result_spec, a spec the product
    registers: "inspection_<department>") are named by their department."""
    if name in PRODUCT_SOURCES:
        return PRODUCT_SOURCES[name]
    prefix, colon, rest = name.partition(":")
    if colon and rest and prefix in PRODUCT_SOURCE_PREFIXES:
        zh, en = PRODUCT_SOURCE_PREFIXES[prefix]
        return zh.format(rest=rest), en.format(rest=rest)
    dept = (doc or {}).get("department")
    if dept and name == f"inspection_{dept}":
        return (f"{labels.label('department', dept, 'zh')}检查结果",
                f"{labels.label('department', dept, 'en')}: inspection results")
    return None


def source_names(name: str, doc: dict[str, Any]) -> tuple[str, str]:
    """A source's readable (Chinese, English) name: a source the product writes itself
    by its own name (`product_source_names`), else the spec's title (its titles are
    Chinese), else — and in English — its department and the kind of data it sends."""
    product = product_source_names(name, doc)
    if product is not None:
        return product
    dept, kind = doc.get("department"), doc.get("kind")
    parts = [labels.label("department", dept, lang) if dept else "" for lang in ("zh", "en")]
    kinds = [labels.label("source_kind", kind, lang) if kind else "" for lang in ("zh", "en")]
    zh = str(doc.get("title") or "").strip() or " ".join(p for p in (parts[0], kinds[0]) if p)
    en = ": ".join(p for p in (parts[1], kinds[1]) if p)
    return zh or name, en or name


def sources(session: Session, today: dt.date | None = None, *, default_days: int | None = None,
            days: Mapping[str, int] | None = None, jump: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per source: its files, rows, accepted, rejected by reason, duplicates, its
    lateness (`late_sources`, with the warning rule's `default_days` and `days`) and its
    last file's rejection rate against its recent one (`rejection_jump`, with the
    warning rule's figures `jump`; none: the rates are shown, no spike is judged)."""
    today = today or clock.today()
    by_file = file_history(session)
    specs = spec_docs(session)
    lateness = {r["source"]: r for r in late_sources(session, today, default_days=default_days, days=days)}
    depts = {n: d.get("department") for n, d in specs.items()}
    agg = select(Batch.source, func.count(), func.sum(Batch.read), func.sum(Batch.accepted), func.sum(Batch.corrected),
                 func.sum(Batch.rejected), func.sum(Batch.duplicates), func.max(Batch.started_at)
                 ).where(Batch.kind != "manual").group_by(Batch.source)
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for src, reason, n in session.execute(select(QuarantinedRow.source, QuarantinedRow.reason, func.count())
                                          .group_by(QuarantinedRow.source, QuarantinedRow.reason)):
        reasons[src][reason_code(reason)] += n
    out = []
    for src, files, read, acc, corr, rej, dup, last in session.execute(agg):
        last_file = session.execute(select(Batch.file_name).where(Batch.source == src, Batch.started_at == last)
                                    .limit(1)).scalar()
        dept = depts.get(src)
        late = lateness.get(src)
        age = late["days_since_last"] if late else (today - clock.to_cst(last).date()).days
        read = int(read or 0)
        zh, en = source_names(src, specs.get(src, {}))
        mine = by_file.get(src, [])
        earlier = [(r, j) for _, _, r, j in mine[:-1]]
        last_rows, last_rej = (mine[-1][2], mine[-1][3]) if mine else (0, 0)
        hist = int((jump or {}).get("history", 6))
        pooled = [(r, j) for r, j in earlier if r][-hist:]
        out.append({"source": src, "source_name": {"zh": zh, "en": en}, "department": dept, "files": files, "last_file": last_file,
                    "last_at": clock.to_cst(last).isoformat(), "rows": read, "accepted": int(acc or 0) + int(corr or 0),
                    "rejected": int(rej or 0), "duplicates": int(dup or 0),
                    "rejection_rate": round(int(rej or 0) / read, 4) if read else None,
                    "rejected_by_reason": dict(sorted(reasons[src].items(), key=lambda kv: -kv[1])),
                    "frequency": late["frequency"] if late else None, "days_since_last": age,
                    "interval_days": late["interval_days"] if late else None,
                    "late": bool(late and late["late"]),
                    "last_file_rejection_rate": round(last_rej / last_rows, 4) if last_rows else None,
                    "recent_rejection_rate": (round(sum(j for _, j in pooled) / sum(r for r, _ in pooled), 4)
                                              if pooled else None),
                    "rejection_spike": rejection_jump(last_rows, last_rej, earlier, **jump) if jump and mine else None})
    return sorted(out, key=lambda r: (r["department"] or "", r["source"]))


def trend(session: Session, today: dt.date | None = None) -> dict[str, Any]:
    """Per month of the last 12: rows read and rejected, per source."""
    today = today or clock.today()
    start = dt.date(today.year - 1, today.month, 1) + dt.timedelta(days=32)
    start = start.replace(day=1)
    months = []
    d = start
    while d <= today:
        months.append(f"{d:%Y-%m}")
        d = (d + dt.timedelta(days=32)).replace(day=1)
    rows: dict[str, dict[str, list[int]]] = {}
    for src, started, read, rej in session.execute(select(Batch.source, Batch.started_at, Batch.read, Batch.rejected)
                                                   .where(Batch.kind != "manual",
                                                          Batch.started_at >= clock.day_start(start))):
        m = f"{clock.to_cst(started):%Y-%m}"
        if m not in months:
            continue
        r = rows.setdefault(src, {"read": [0] * len(months), "rejected": [0] * len(months)})
        i = months.index(m)
        r["read"][i] += read
        r["rejected"][i] += rej
    return {"months": months, "sources": rows}
