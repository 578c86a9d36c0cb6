"""Alerts and inbox messages in words, in the reader's language: what set an alert off
(its evidence: a record by its item and date, a list entry by its list, an evaluation
run by its model and date, a source by its name), who a delivery or a message went to
(a subject by its name, an account by its person's name), and an inbox message's text.

How a message reaches the English pages: a message is stored as it was sent (the record
of what the recipient was told), in Chinese, and its producer writes its English beside
it from the same values (the inbox's `body_en`): the procedures' steps
(`workflows.notifications.tell` and its callers in workflows and complaints), the
documents served, and every alert raised with its English (`service.raise_alert(
english=...)`, kept with each notification as `payload["en"]` and by the inbox channel
as `body_en`). The English pages show that first (`say_message`). Only a message written
before revision 0034 has none: it is said by the English its notification kept, else
by its known shape (`MESSAGE_SHAPES`), else shown as stored.

Plain values in, plain values out: the edges (`access.py`) decide which links a reader
may follow."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import labels
from creditgov.ingest.models import Batch, SpecVersion
from creditgov.lists.models import ListEntry
from creditgov.quality.service import product_source_names, source_names
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun
from creditgov.security.labels import actor_label
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

# ----------------------------------------------------------------------------- recipients


def subject_names(session: Session, ids: Iterable[int], *, masked: bool, own: int | None = None) -> dict[int, str]:
    """Subjects' names as this reader sees them: residents masked when `masked` (except
    the reader's own subject)."""
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, str] = {}
    for k in range(0, len(wanted), 500):
        for s in session.execute(select(Subject).where(Subject.id.in_(wanted[k:k + 500]))).scalars():
            out[s.id] = subject_service.display_name(s, masked=masked and s.id != own)
    return out


def principal_name(address: str | None, lang: str, subjects: dict[int, str]) -> str | None:
    """A subject's or an account's inbox (`subject:<id>`, `user:<name>`) by the name a
    person knows it by: the subject's name (`subjects`, already masked for the reader),
    the account's display name. None for the others (a desk, a grid, a bank), which the
    pages name by their kind and label."""
    kind, _sep, key = (address or "").partition(":")
    if kind == "subject" and key.isdigit():
        return subjects.get(int(key)) or (("主体 #", "subject #")[lang == "en"] + key)
    if kind == "user" and key:
        return actor_label(address, lang)
    return None


def subject_ids(addresses: Iterable[str | None]) -> set[int]:
    out = set()
    for a in addresses:
        kind, _sep, key = (a or "").partition(":")
        if kind == "subject" and key.isdigit():
            out.add(int(key))
    return out


# ----------------------------------------------------------------------------- evidence


@dataclass
class Said:
    """One piece of evidence in words: its text, an identifier shown as one (`code`: a
    file's name, a key of no known shape), and a page about it with what opening that
    page needs (a permission, and for a page about a subject the subject). A source's
    file names its batch (`batch`): a reader who may not open the data-quality page (a
    department) is linked to the batch's own page instead (`access.evidence_href`)."""

    text: str
    href: str | None = None
    permission: str | None = None
    subject_id: int | None = None
    code: str | None = None
    batch: int | None = None

    def as_dict(self, *, href: str | None) -> dict[str, Any]:
        """Its text, its code and the link the reader may follow (`href`, decided by the edge)."""
        return {"text": self.text, "code": self.code, "href": href}


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def source_titles(session: Session, sources: set[str], lang: str) -> dict[str, str]:
    """Sources by their spec's name (its title, else its department and kind), in
    `lang`, and the product's own sources (a merchant award, a commitment, another
    platform: `quality.service.product_source_names`); any other source with no spec is
    left out."""
    if not sources:
        return {}
    docs: dict[str, str] = {}
    for name, text in session.execute(select(SpecVersion.name, SpecVersion.text)
                                      .where(SpecVersion.name.in_(sorted(sources))).order_by(SpecVersion.id)):
        docs[name] = text  # the newest version last
    out = {}
    for name in sorted(sources):
        if name not in docs and product_source_names(name) is None:
            continue
        try:
            doc = yaml.safe_load(docs.get(name) or "") or {}
        except yaml.YAMLError:
            doc = {}
        out[name] = source_names(name, doc if isinstance(doc, dict) else {})[lang == "en"]
    return out


def evidence_said(session: Session, alert_subject: int | None, evidence: list[dict[str, Any]],
                  lang: str) -> list[Said]:
    """Each piece of an alert's evidence in words in `lang` (`Said`), in order."""
    en = int(lang == "en")
    items = [e if isinstance(e, dict) else {} for e in evidence or []]
    rec_ids = {i for e in items if (i := _int(e.get("record"))) is not None}
    entry_ids = {i for e in items if (i := _int(e.get("list_entry"))) is not None}
    run_ids = {i for e in items for k in ("run", "previous_run") if (i := _int(e.get(k))) is not None}
    batch_ids = {i for e in items if e.get("source") and (i := _int(e.get("batch"))) is not None}
    records = {r.id: r for r in session.execute(select(CreditRecord.id, CreditRecord.subject_id, CreditRecord.item_code,
                                                       CreditRecord.occurred_on, CreditRecord.decided_on)
                                                .where(CreditRecord.id.in_(rec_ids)))} if rec_ids else {}
    entries = {r.id: r for r in session.execute(select(ListEntry.id, ListEntry.subject_id, ListEntry.list_code,
                                                       ListEntry.published_on)
                                                .where(ListEntry.id.in_(entry_ids)))} if entry_ids else {}
    runs = {r.id: r for r in session.execute(select(EvaluationRun.id, EvaluationRun.model_name,
                                                    EvaluationRun.model_version, EvaluationRun.as_of)
                                             .where(EvaluationRun.id.in_(run_ids)))} if run_ids else {}
    files = {b.id: b.file_name for b in session.execute(select(Batch.id, Batch.file_name)
                                                        .where(Batch.id.in_(batch_ids)))} if batch_ids else {}
    sources = source_titles(session, {str(e["source"]) for e in items if e.get("source")}, lang)
    out = []
    for e in items:
        out.append(_one(e, en, lang, records, entries, runs, files, sources, alert_subject))
    return out


def _one(e: dict[str, Any], en: int, lang: str, records: dict[int, Any], entries: dict[int, Any],
         runs: dict[int, Any], files: dict[int, str], sources: dict[str, str], alert_subject: int | None) -> Said:
    if (rid := _int(e.get("record"))) is not None:
        r = records.get(rid)
        if r is None:
            return Said((f"记录 #{rid}（已不存在）", f"record #{rid} (no longer kept)")[en])
        item = labels.label("item", r.item_code, lang)
        when = (r.decided_on or r.occurred_on).isoformat()
        return Said((f"记录：{item}（{when}）", f"Record: {item} ({when})")[en], f"/subjects/{r.subject_id}#rec-{rid}",
                    "subjects.read", r.subject_id)
    if (eid := _int(e.get("list_entry"))) is not None:
        le = entries.get(eid)
        name = labels.label("list", le.list_code if le else e.get("list"), lang)
        on = le.published_on.isoformat() if le is not None and le.published_on else None
        text = (f"列入{name}" + (f"（{on} 公示）" if on else ""),
                f"Entry on the {name}" + (f" (published {on})" if on else ""))[en]
        return Said(text, f"/lists/entries/{eid}", "lists.read", le.subject_id if le else alert_subject)
    if (run_id := _int(e.get("run"))) is not None:
        def run_words(i: int | None) -> str | None:
            r = runs.get(i) if i is not None else None
            if r is None:
                return None
            model = labels.label("model", f"{r.model_name}@{r.model_version}", lang)
            return (f"{model}（评价日 {r.as_of.isoformat()}）", f"{model} (as of {r.as_of.isoformat()})")[en]

        this, before = run_words(run_id), run_words(_int(e.get("previous_run")))
        text = (f"评价批次：{this or '#' + str(run_id)}", f"Evaluation run: {this or '#' + str(run_id)}")[en]
        if before:
            text += (f"，对比上一批次 {before}", f", compared with the run before, {before}")[en]
        return Said(text, "/runs", "runs.read")
    if e.get("source"):
        titled = sources.get(str(e["source"]))
        bid = _int(e.get("batch"))
        text = (f"数据源：{titled}", f"Source: {titled}")[en] if titled else ("数据源", "Source")[en]
        if bid is not None:
            late = str(e.get("key") or "").startswith("late:")
            text += ((f"（批次 {bid}），最近一批文件" if late else f"（批次 {bid}），文件"),
                     (f" (batch {bid}), last file" if late else f" (batch {bid}), file"))[en]
        return Said(text, "/quality", "quality.read",
                    code=(files.get(bid) if bid is not None else None) or (None if titled else str(e["source"])),
                    batch=bid)
    for kind, page, perm, words in (("objection", "objections", "objections.read", ("异议", "Objection")),
                                    ("repair", "repairs", "repairs.read", ("信用修复申请", "Repair application"))):
        if (cid := _int(e.get(kind))) is not None:
            stage = labels.label(f"{kind}_status", e.get("stage"), lang) if e.get("stage") else ""
            due = str(e.get("deadline") or "")
            parts = [p for p in (stage, (f"期限 {due}", f"due {due}")[en] if due else "") if p]
            tail = (f"（{'，'.join(parts)}）", f" ({', '.join(parts)})")[en] if parts else ""
            return Said(f"{words[en]} #{cid}{tail}", f"/{page}/{cid}", perm, alert_subject)
    if (loan := _int(e.get("loan"))) is not None:
        bank = labels.label("organisation", e.get("bank"), lang) if e.get("bank") else ""
        return Said((f"贷款 #{loan}" + (f"（{bank}）" if bank else ""), f"Loan #{loan}" + (f" ({bank})" if bank else ""))[en])
    key = str(e.get("key") or "")
    return Said(("依据", "Cause")[en], code=key) if key else Said("—")


# ----------------------------------------------------------------------------- inbox messages

# For messages written before revision 0034 only (no `body_en`): the procedures' messages
# as `workflows` (objection, repair, conditions, materials, overdue), `complaints` and
# `documents` wrote them, and their English. Producers now write their English beside
# the Chinese, so a wording changed later needs no shape here; these stay for the rows
# already stored. `{x}` is the matched part as stored; labelled parts (a unit, an item,
# an outcome …) are said by their labels (`_say_parts`).
_D = r"\d{4}-\d{2}-\d{2}"
MESSAGE_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(rx, re.S), en) for rx, en in (
    (rf"^异议 (?P<id>\d+) 已受理: 记录 (?P<rec>\d+) 已标注为异议, 暂停公示和评价使用; 由(?P<unit>.+?)在 (?P<due>{_D}) 前处理。$",
     "Objection {id} received: record {rec} is marked as disputed, out of publication and evaluation meanwhile; "
     "{unit} decides by {due}."),
    (rf"^异议 (?P<id>\d+): 记录 (?P<rec>\d+) \((?P<item>.*?)\) 被提出异议, 请在 (?P<due>{_D}) 前作出处理"
     r"\(更正/删除/维持\)。理由: (?P<why>.*)$",
     "Objection {id}: record {rec} ({item}) is contested; decide by {due} (correct, delete or uphold). Reason: {why}"),
    (rf"^异议 (?P<id>\d+) 处理期限延长至 (?P<due>{_D})。理由: (?P<why>.*)$",
     "Objection {id}: its deadline is extended to {due}. Reason: {why}"),
    (r"^异议 (?P<id>\d+) 处理结果: (?P<outcome>[^。]+)。理由: (?P<why>.*?)。"
     r"(?P<review> 如不服, 可在收到本决定后申请复核\(限 (?P<times>\d+) 次\)。)?$",
     "Objection {id} decided: {outcome}. Reason: {why}.{review}"),
    (rf"^异议 (?P<id>\d+) 复核申请已受理, (?P<unit>.+?)在 (?P<due>{_D}) 前答复。$",
     "Objection {id}: the review request is received; {unit} answers by {due}."),
    (rf"^异议 (?P<id>\d+) 申请复核 \(原处理: (?P<outcome>[^,]+), (?P<unit>.+?)\), 请在 (?P<due>{_D}) 前答复。理由: (?P<why>.*)$",
     "Objection {id}: a review is asked for (decided before: {outcome}, by {unit}); answer by {due}. Reason: {why}"),
    (r"^异议 (?P<id>\d+) 复核结果: (?P<outcome>[^。]+)。理由: (?P<why>.*)。复核为最终处理。$",
     "Objection {id} reviewed: {outcome}. Reason: {why}. The review is final."),
    (r"^信用修复申请 (?P<id>\d+) 不符合条件：(?P<failures>.*)。$",
     "Repair application {id} does not meet the conditions: {failures}."),
    (rf"^信用修复申请 (?P<id>\d+) 已受理, (?P<unit>.+?)在 (?P<due>{_D}) 前转送或答复。$",
     "Repair application {id} received; {unit} forwards or answers it by {due}."),
    (rf"^信用修复申请 (?P<id>\d+) \(记录 (?P<rec>\d+), (?P<tier>[^)]+)\) 待转送(?P<unit>.+?), 期限 (?P<due>{_D})。$",
     "Repair application {id} (record {rec}, {tier}) to forward to {unit}, by {due}."),
    (rf"^信用修复申请 (?P<id>\d+) \(记录 (?P<rec>\d+)\) 已转送, 请在 (?P<due>{_D}) 前作出决定。$",
     "Repair application {id} (record {rec}) is forwarded to you: decide by {due}."),
    (rf"^信用修复申请 (?P<id>\d+) 已转送认定单位(?P<unit>.+?), (?P<due>{_D}) 前作出决定。$",
     "Repair application {id} is forwarded to the identifying unit, {unit}, which decides by {due}."),
    (r"^信用修复申请 (?P<id>\d+) 不予修复。理由: (?P<why>.*)$",
     "Repair application {id} is rejected. Reason: {why}"),
    (r"^信用修复申请 (?P<id>\d+) 已通过: 记录 (?P<rec>\d+) 已修复, 停止公示和共享"
     r"(?:; 移出名单 (?P<lists>\d+) 项)?(?:; 评价已重新计算 \((?P<grades>.*)\))?。$",
     "Repair application {id} is approved: record {rec} is repaired, no longer published or shared{lists}{grades}."),
    (r"^信用修复承诺书已在(?P<unit>.+?)窗口签署 \(承诺 (?P<cid>\d+), 签署人 (?P<who>.*)\), 承诺期至 (?P<due>\S+)。$",
     "The credit repair commitment was signed at the window of {unit} (commitment {cid}, signed by {who}); "
     "it runs until {due}."),
    (rf"^记录 (?P<rec>\d+) 的信用修复条件“(?P<cond>[^”]+)”已由(?P<unit>.+?)登记 \((?P<date>{_D})\)(?:: (?P<note>.*))?。$",
     "The credit repair condition “{cond}” of record {rec} was recorded by {unit} ({date}){note}."),
    (r"^(?P<what>异议|信用修复申请) (?P<id>\d+) 补充了材料: (?P<files>.*)。$",
     "{what} {id}: materials added: {files}."),
    (rf"^收到投诉 (?P<no>\S+)（(?P<who>.*)），请于 (?P<due>{_D}) 前分派。$",
     "Complaint {no} ({who}) received: assign it by {due}."),
    (rf"^投诉 (?P<no>\S+)（(?P<who>.*)）已分派给本部门，请于 (?P<due>{_D}) 前答复。$",
     "Complaint {no} ({who}) is assigned to your department: answer by {due}."),
    (rf"^(?P<what>异议|信用修复申请) (?P<id>\d+) 超期未办结 \(期限 (?P<due>{_D})\)\n"
     r"(?P=what) (?P=id)（(?P<status>[^）]+)）已超过办理期限 (?P=due)，责任单位：(?P<unit>.+?)。$",
     "{what} {id} is overdue (due {due})\n{what} {id} ({status}) is past its deadline, {due}; responsible: {unit}."),
    (r"^(?P<title>[^\n]+?)（(?P<unit>[^，\n]+)，(?P<serial>[^）\n]+)）\n(?P=unit)向你（单位）送达《(?P=title)》，"
     r"文书编号 (?P=serial)。请查阅附件；可在 (?P<url>\S+) 核验真伪。$",
     "{title} ({unit}, {serial})\n{unit} serves you (your unit) the document “{title}”, number {serial}. See the "
     "attachment; you can verify it at {url}."),
))
_CONDITIONS = {"履行义务": "obligations fulfilled", "信用修复培训": "credit repair training"}
_WHAT = {"异议": "Objection", "信用修复申请": "Repair application"}


def _reverse(*kinds: str) -> dict[str, str]:
    """Chinese names of labelled codes to their English (a message names them in Chinese)."""
    out: dict[str, str] = {}
    for kind in kinds:
        for zh, en in labels.names(kind).values():
            out.setdefault(zh, en)
    return out


def _say_parts(parts: dict[str, str | None], extra: dict[str, Any]) -> dict[str, str]:
    units = _reverse("department")
    said = {k: v or "" for k, v in parts.items()}
    if "unit" in parts:
        said["unit"] = units.get(said["unit"], said["unit"])
    if "outcome" in parts:
        said["outcome"] = _reverse("objection_outcome").get(said["outcome"], said["outcome"]).lower()
    if "tier" in parts:
        said["tier"] = _reverse("severity").get(said["tier"], said["tier"]).lower()
    if "status" in parts:
        said["status"] = _reverse("objection_status", "repair_status").get(said["status"], said["status"]).lower()
    if "item" in parts:
        said["item"] = _reverse("item").get(said["item"], said["item"])
    if "what" in parts:
        said["what"] = _WHAT.get(said["what"], said["what"])
    if "cond" in parts:
        said["cond"] = _CONDITIONS.get(said["cond"], said["cond"])
    if "note" in parts:
        said["note"] = f": {parts['note']}" if parts["note"] else ""
    if "review" in parts:
        n = int(parts.get("times") or 1)
        said["review"] = (f" If you disagree, you may ask for a review after receiving this decision "
                          f"({'once' if n == 1 else f'at most {n} times'}).") if parts["review"] else ""
    if "lists" in parts:
        n = int(parts["lists"]) if parts["lists"] else 0
        said["lists"] = f"; taken off {n} list{'s' if n != 1 else ''}" if n else ""
    if "grades" in parts:
        said["grades"] = f"; evaluations recalculated ({parts['grades']})" if parts["grades"] else ""
    if "failures" in parts and extra.get("failures_en"):
        said["failures"] = str(extra["failures_en"])
    return said


def say_message(body: str, lang: str, *, body_en: str | None = None, english: dict[str, Any] | None = None,
                extra: dict[str, Any] | None = None) -> str:
    """An inbox message's text in `lang`: as stored in Chinese; in English, the English
    its producer stored beside it (`body_en`), else — a message written before revision
    0034 — the English its notification was sent with (`english`: `payload["en"]`), else
    its known shape said in English (`MESSAGE_SHAPES`), else as stored."""
    if lang != "en":
        return body
    if body_en:
        return body_en
    if english and english.get("title"):
        return f"{english['title']}\n{english.get('body') or ''}".rstrip("\n")
    for rx, en in MESSAGE_SHAPES:
        m = rx.match(body or "")
        if m is not None:
            return en.format(**_say_parts(m.groupdict(), extra or {}))
    return body


# ----------------------------------------------------------------------------- a rule's basis

BASIS_EN = "Basis: "  # how an alert's English message gives its rule's citation (`rules.english`)
# The width of a punctuation mark and the spaces around it do not make another citation:
# the shipped citations moved from ASCII to full-width punctuation in Chinese sentences.
_NARROW = str.maketrans("（）：；，。", "():;,.")


def _citation_key(text: str) -> str:
    return re.sub(r"\s+", "", text.translate(_NARROW))


def say_basis(text: str, citation: str | None, citation_en: str | None) -> str:
    """An alert's English message with its rule's basis in English: a "Basis:" line that
    gives the rule's Chinese `citation` (an alert raised before the rule had
    `citation_en`, whose English kept the citation as written) says `citation_en`
    instead. A line that gives anything else — the citation of an earlier version of
    the rule, a basis already in English — stays as it was, and so does every line
    when the rule has no `citation_en`."""
    if not citation or not citation_en or BASIS_EN not in text:
        return text
    key = _citation_key(citation)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(BASIS_EN) and _citation_key(line[len(BASIS_EN):]) == key:
            lines[i] = BASIS_EN + citation_en
    return "\n".join(lines)
