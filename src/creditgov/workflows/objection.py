"""Objection (异议): filing, the one extension, the decision, the one review and
withdrawal, and the objections as listed and shown. A record's status moves only
through `records.service.change_status` (here and in `outcomes.py`); the steps that
reach the lists are composed in `flows.py`."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock, labels
from creditgov.core.clock import iso
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.exchange import apply as exchange_apply
from creditgov.lists import exits as list_exits
from creditgov.lists import upper as upper_lists
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from creditgov.scoring import current
from creditgov.security import service as audit
from creditgov.workflows import calendar
from creditgov.workflows.common import (
    cases,
    claim,
    get_item,
    get_objection,
    get_record,
    get_subject,
)
from creditgov.workflows.materials import materials, store_materials
from creditgov.workflows.models import OBJECTION_OPEN, OBJECTION_OUTCOMES, Objection
from creditgov.workflows.notifications import (
    Wording,
    item_name,
    tell_department,
    tell_subject,
    unit_name,
    word,
)
from creditgov.workflows.outcomes import apply_outcome, parse_corrections
from creditgov.workflows.rules import rules


def _shape(fmt: str, **groups: str) -> str:
    """The pattern of a text written with `fmt` (its `{field}`s, as `str.format` fills
    them): the literal parts escaped, each field a named group of the pattern given
    (any text when none is), so a shape is made from the very format its writer uses."""
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", fmt):
        out += [re.escape(fmt[pos:m.start()]), f"(?P<{m.group(1)}>{groups.get(m.group(1), '.*')})"]
        pos = m.end()
    return "^" + "".join(out) + re.escape(fmt[pos:]) + "$"


# The reasons a record's status change is given (`records.service.change_status`) and a
# list entry's steps are noted with, stored as written in English — the history's record —
# and said on a page in its language by `say_reason`: each shape with its Chinese and
# English words (the outcome, the deciding department and the severity named by their
# labels, a change and its cause in words). Whose they are: an objection's, here and in
# `outcomes.apply_outcome`; a repair approved and a publication period ended, in `flows`;
# a change another platform sent, in `exchange.apply` (`REASON`); and the lists': an exit
# when the publication period ended (`lists.exits`), the exits `flows` asks for when a
# record is repaired or deleted, an upper platform's entry imported, sent or removed
# (`lists.upper`).
REASON_SHAPES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple((re.compile(rx, re.S), zh, en) for rx, zh, en in (
    (r"^objection (?P<id>\d+) received \((?P<filing>[^)]*)\)$", "异议 #{id} 已受理（受理编号 {filing}）",
     "Objection #{id} received (filing no. {filing})"),
    (r"^objection (?P<id>\d+): review requested$", "异议 #{id} 已申请复核", "Objection #{id}: review requested"),
    (r"^objection (?P<id>\d+) withdrawn: (?P<why>.*)$", "异议 #{id} 已撤回：{why}", "Objection #{id} withdrawn: {why}"),
    (r"^objection (?P<id>\d+) (?P<stage>decided|reviewed): (?P<outcome>\w+) — (?P<why>.*)$",
     "异议 #{id} {stage}：{outcome}——{why}", "Objection #{id} {stage}: {outcome} — {why}"),
    (r"^credit repair application (?P<id>\d+) approved by (?P<department>\S+)$",
     "信用修复申请 #{id} 经{department}批准", "Credit repair application #{id} approved by {department}"),
    (r"^publication ended on (?P<day>\d{4}-\d{2}-\d{2}) \((?P<months>\d+) months, (?P<severity>\w+)\); "
     r"obligations fulfilled$", "公示期已于 {day} 届满（{months} 个月，{severity}），义务已履行",
     "Publication ended on {day} ({months} months, {severity}); obligations fulfilled"),
    (_shape(exchange_apply.REASON, kind="|".join(map(re.escape, exchange_apply.STATUS_OF)), node=r"\S+"),
     "{kind}（平台 {node} 经数据交换通知{cause}）", "{kind} (sent by platform {node} through the exchange{cause})"),
    (_shape(list_exits.EXPIRY_REASON), "公示期届满", "Publication period ended"),
    (r"^record (?P<record>\d+) repaired \(application (?P<id>\d+)\)$", "记录 #{record} 已修复（信用修复申请 #{id}）",
     "Record #{record} repaired (credit repair application #{id})"),
    (r"^record deleted after objection (?P<id>\d+): (?P<why>.*)$", "异议 #{id} 处理后记录已删除：{why}",
     "Record deleted after objection #{id}: {why}"),
    (r"^record deleted on review of objection (?P<id>\d+): (?P<why>.*)$", "异议 #{id} 复核后记录已删除：{why}",
     "Record deleted on review of objection #{id}: {why}"),
    (_shape(upper_lists.SENT), "由 {source} 经数据交换下发", "Sent by {source} through the exchange"),
    (_shape(upper_lists.IMPORTED, file=r"[^()]*"), "从 {source} 导入（文件 {file}）", "Imported from {source} (file {file})"),
    (_shape(upper_lists.REMOVED), "已由 {source} 移出", "Removed by {source}"),
))
_STAGES = {"decided": ("处理决定", "decided"), "reviewed": ("复核决定", "review decided")}
_NO_REASON = "no reason given"
# A status change another platform sent (`exchange.apply.STATUS_OF`), and its cause there.
_CHANGES = {"record.repaired": ("记录已修复", "Record repaired"), "record.revoked": ("记录已撤销", "Record revoked"),
            "record.publication-ended": ("公示期届满", "Publication ended"),
            "record.archived": ("记录已归档", "Record archived")}
_CAUSES = {"repair": ("对方平台的信用修复申请 #{v}", "the sending platform's credit repair application #{v}"),
           "objection": ("对方平台的异议 #{v}", "the sending platform's objection #{v}"),
           "expiry": ("对方平台 {v} 的公示期满处理", "the sending platform's end of publication periods on {v}"),
           "retention": ("对方平台 {v} 的保存期满处理", "the sending platform's end of retention periods on {v}")}


def _cause(cause: str, en: int) -> str:
    """The sender's cause in words, after the words before it ("" for none given); a
    cause of another shape as the sender wrote it."""
    if cause == exchange_apply.NO_CAUSE:
        return ""
    kind, sep, value = cause.partition(":")
    if sep and kind in _CAUSES and re.fullmatch(r"\d+|\d{4}-\d{2}-\d{2}", value):
        cause = _CAUSES[kind][en].format(v=value)
    return ("；", "; ")[en] + cause


def say_reason(reason: str | None, lang: str = "zh") -> str:
    """A status change's (or a list step's) stored reason in `lang` when it is one of the
    known shapes (`REASON_SHAPES`); any other reason as stored."""
    text = reason or ""
    en = int(lang == "en")
    for rx, zh_words, en_words in REASON_SHAPES:
        m = rx.match(text)
        if m is None:
            continue
        parts = m.groupdict()
        if parts.get("why") == _NO_REASON:
            parts["why"] = ("未说明理由", _NO_REASON)[en]
        if "stage" in parts:
            parts["stage"] = _STAGES[parts["stage"]][en]
        if "outcome" in parts:
            parts["outcome"] = labels.label("objection_outcome", parts["outcome"], lang)
        if "department" in parts:
            parts["department"] = labels.label("department", parts["department"], lang)
        if "severity" in parts:
            parts["severity"] = labels.label("severity", parts["severity"], lang)
        if "kind" in parts:
            parts["kind"] = _CHANGES[parts["kind"]][en]
        if "cause" in parts:
            parts["cause"] = _cause(parts["cause"], en)
        return (zh_words, en_words)[en].format(**parts)
    return text


def file_objection(session: Session, *, subject_id: int, record_ids: Sequence[int], reason: str,
                   channel: str = "self", evidence: Sequence[Path] = (), files_dir: Path | None = None,
                   actor: str | None = None) -> list[Objection]:
    """Receive an objection: each named record is marked disputed at once (withheld
    from publication and evaluation while the case is open) and routed to the
    department that supplied it, due in the configured working days."""
    actor = actor or audit.default_actor()
    if channel not in ("self", "window"):
        raise InvalidInput("channel is 'self' (the subject) or 'window' (staff on its behalf)")
    if not reason.strip():
        raise InvalidInput("an objection needs its reasons", code="workflows.objection.no_reason")
    if not record_ids:
        raise InvalidInput("name at least one record", code="workflows.objection.no_record")
    get_subject(session, subject_id)
    r = rules(session)
    cal = calendar.load(session)
    today = clock.today()
    due = cal.add_working_days(today, r.objection.handling_working_days)
    filing_no = f"YY-{today:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    out = []
    for rid in dict.fromkeys(record_ids):
        rec = get_record(session, rid, lock=True)
        if rec.subject_id != subject_id:
            raise InvalidInput(f"record {rid} is not in this subject's file", code="workflows.record.other_file",
                               params={"record": rid})
        if not rec.is_current:
            raise InvalidInput(f"record {rid} is an old version; object to the current one",
                               code="workflows.objection.old_version", params={"record": rid})
        if rec.status == "disputed":
            raise InvalidInput(f"record {rid} is already under objection", code="workflows.record.disputed",
                               params={"record": rid})
        if rec.status != "active":
            raise InvalidInput(f"record {rid} is {rec.status}; only a record in force can be contested",
                               code="workflows.objection.not_in_force", params={"record": rid, "status": rec.status})
        now = clock.now()
        o = Objection(filing_no=filing_no, subject_id=subject_id, record_id=rec.id,
                      department_code=rec.department_code, channel=channel, filed_by=actor, reason=reason.strip(),
                      received_on=today, due_on=due, status="open", created_at=now, updated_at=now)
        session.add(o)
        session.flush()
        records_service.change_status(session, record_id=rec.id, to_status="disputed", actor=actor,
                                      reason=f"objection {o.id} received ({filing_no})")
        store_materials(session, owner_kind="objection", owner_id=o.id, files=evidence, files_dir=files_dir,
                        actor=actor)
        audit.append(session, action="objection.file", actor=actor, subject_id=subject_id,
                     detail={"objection": o.id, "filing": filing_no, "record": rec.id, "channel": channel,
                             "department": rec.department_code, "due_on": due.isoformat(),
                             "evidence": [Path(f).name for f in evidence]})
        tell_subject(session, subject_id, "objection.received", Wording(
            f"异议 {o.id} 已受理: 记录 {rec.id} 已标注为异议, 暂停公示和评价使用; "
            f"由{unit_name(session, rec.department_code)}在 {due.isoformat()} 前处理。",
            f"Objection {o.id} received: record {rec.id} is marked as disputed, out of publication and evaluation "
            f"meanwhile; {unit_name(session, rec.department_code, 'en')} decides by {due.isoformat()}."),
            "objection", o.id)
        tell_department(session, rec.department_code, subject_id, "objection.assigned", Wording(
            f"异议 {o.id}: 记录 {rec.id} ({item_name(session, rec.item_code)}) 被提出异议, "
            f"请在 {due.isoformat()} 前作出处理(更正/删除/维持)。理由: {reason.strip()}",
            f"Objection {o.id}: record {rec.id} ({item_name(session, rec.item_code, 'en')}) is contested; decide by "
            f"{due.isoformat()} (correct, delete or uphold). Reason: {reason.strip()}"), "objection", o.id)
        out.append(o)
    # the disputed records are out of evaluation while the case is open: the subject stands anew
    current.reevaluate_after(session, subject_id=subject_id, cause=f"objection:{out[0].id}", actor=actor)
    return out


def records_by_reference(session: Session, *, subject_id: int, ref: str) -> list[int]:
    """The current records of a subject a clerk names at the window: by record number,
    or by the document number (文号) on the decision the subject brings."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("name the record: its number or its document number (文号)",
                           code="workflows.record.unnamed")
    q = select(CreditRecord.id).where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True))
    if ref.lstrip("#").isdigit() and len(ref) < 11:
        ids = list(session.execute(q.where(CreditRecord.id == int(ref.lstrip("#")))).scalars())
    else:
        # A decision may carry several records: the ones in force (objections contest
        # those); else all, for `file_objection` to say why none can be contested.
        rows = session.execute(select(CreditRecord.id, CreditRecord.status).where(
            CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True),
            CreditRecord.document_no == ref).order_by(CreditRecord.id)).all()
        ids = [i for i, st in rows if st == "active"] or [i for i, _st in rows]
    if not ids:
        raise NotFound(f"no current record {ref!r} in this subject's file", code="workflows.record.no_such",
                       params={"ref": ref})
    return ids


def extend_objection(session: Session, *, objection_id: int, reason: str, department: str,
                     actor: str | None = None) -> Objection:
    """The one extension: the deadline moves to the maximum total working days from
    receipt. Asked before the first deadline passes, with the reason."""
    actor = actor or audit.default_actor()
    o = get_objection(session, objection_id)
    r = rules(session).objection
    if department != o.department_code:
        raise InvalidInput(f"objection {objection_id} is handled by {o.department_code!r}, not {department!r}",
                           code="workflows.objection.other_department",
                           params={"id": objection_id, "department": o.department_code})
    if o.status != "open":
        raise InvalidInput(f"objection {objection_id} is {o.status}; only an open objection can be extended",
                           code="workflows.objection.not_open", params={"id": objection_id, "status": o.status})
    if r.extensions < 1:
        raise InvalidInput("the rules in force allow no extension", code="workflows.objection.no_extension")
    if o.extended_on is not None:
        raise InvalidInput(f"objection {objection_id} was already extended on {o.extended_on}; "
                           f"the rules allow {r.extensions} extension", code="workflows.objection.extended",
                           params={"id": objection_id, "count": r.extensions})
    if not reason.strip():
        raise InvalidInput("an extension needs its reason", code="workflows.reason.missing")
    today = clock.today()
    if today > o.due_on:
        raise InvalidInput(f"objection {objection_id} was due on {o.due_on}; an extension must come before that",
                           code="workflows.objection.extend_late", params={"id": objection_id, "due": o.due_on})
    due = calendar.load(session).add_working_days(o.received_on, r.max_total_working_days)
    claim(session, Objection, o.id, ("open",), {"due_on": due, "extended_on": today,
                                                  "extension_reason": reason.strip()}, "objection")
    o = get_objection(session, objection_id)
    audit.append(session, action="objection.extend", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "due_on": due.isoformat(), "reason": reason.strip()})
    tell_subject(session, o.subject_id, "objection.extended", Wording(
        f"异议 {o.id} 处理期限延长至 {due.isoformat()}。理由: {reason.strip()}",
        f"Objection {o.id}: its deadline is extended to {due.isoformat()}. Reason: {reason.strip()}"),
        "objection", o.id)
    return o


def decide_objection(session: Session, *, objection_id: int, outcome: str, reason: str, department: str,
                     corrections: dict[str, str] | None = None, actor: str | None = None) -> Objection:
    """The supplying department decides: corrected (a new version), deleted (revoked)
    or upheld (back in force). Always with the reason the subject is told."""
    actor = actor or audit.default_actor()
    if outcome not in OBJECTION_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {list(OBJECTION_OUTCOMES)}")
    if not reason.strip():
        raise InvalidInput("a decision needs its reason", code="workflows.reason.missing")
    o = get_objection(session, objection_id)
    if department != o.department_code:
        raise InvalidInput(f"objection {objection_id} is decided by {o.department_code!r} (who supplied the "
                           f"record), not {department!r}", code="workflows.objection.other_department",
                           params={"id": objection_id, "department": o.department_code})
    if outcome == "corrected":  # checked against the contested record's item before anything moves
        parse_corrections(corrections, get_item(session, get_record(session, o.record_id).item_code))
    today = clock.today()
    claim(session, Objection, o.id, ("open",), {"status": "decided", "outcome": outcome,
                                                  "decision_reason": reason.strip(), "decided_on": today,
                                                  "decided_by": actor}, "objection")
    o = get_objection(session, objection_id)
    rec = get_record(session, o.record_id, lock=True)
    after = apply_outcome(session, o=o, rec=rec, outcome=outcome, reason=reason.strip(), corrections=corrections,
                          actor=actor, stage="decided")
    if after.id != rec.id:
        o.result_record_id = after.id
    session.flush()
    r = rules(session).objection
    late = today > o.due_on
    audit.append(session, action="objection.decide", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "outcome": outcome, "reason": reason.strip(), "record": rec.id,
                         "result_record": o.result_record_id, "due_on": o.due_on.isoformat(), "late": late})
    review = (f" 如不服, 可在收到本决定后申请复核(限 {r.reviews} 次)。" if r.reviews else "")
    review_en = (" If you disagree, you may ask for a review after receiving this decision "
                 f"({'once' if r.reviews == 1 else f'at most {r.reviews} times'})." if r.reviews else "")
    tell_subject(session, o.subject_id, f"objection.{outcome}", Wording(
        f"异议 {o.id} 处理结果: {word('objection_outcome', outcome)}。理由: {reason.strip()}。{review}",
        f"Objection {o.id} decided: {word('objection_outcome', outcome, 'en')}. Reason: {reason.strip()}.{review_en}"),
        "objection", o.id)
    return o


def request_review(session: Session, *, objection_id: int, reason: str, actor: str | None = None) -> Objection:
    """The one review (复核) of a decision that went against the subject: the record in
    force is marked disputed again while the review authority looks at it."""
    actor = actor or audit.default_actor()
    o = get_objection(session, objection_id)
    r = rules(session)
    if r.objection.reviews < 1:
        raise InvalidInput("the rules in force allow no review", code="workflows.review.none")
    if o.status != "decided":
        raise InvalidInput(f"objection {objection_id} is {o.status}; a review follows a decision, once",
                           code="workflows.review.not_decided", params={"id": objection_id, "status": o.status})
    if o.outcome == "deleted":
        raise InvalidInput(f"objection {objection_id} was decided in the subject's favour (deleted)",
                           code="workflows.review.in_favour", params={"id": objection_id})
    if not reason.strip():
        raise InvalidInput("a review request needs its reasons", code="workflows.reason.missing")
    today = clock.today()
    due = calendar.load(session).add_working_days(today, r.objection.review_working_days)
    target_id = o.result_record_id or o.record_id
    claim(session, Objection, o.id, ("decided",), {"status": "reviewing", "review_requested_on": today,
                                                     "review_reason": reason.strip(), "review_due_on": due,
                                                     "review_authority": r.objection.review_authority,
                                                     "overdue_alerted_on": None}, "objection")
    o = get_objection(session, objection_id)
    rec = get_record(session, target_id, lock=True)
    if rec.status == "active" and rec.is_current:
        records_service.change_status(session, record_id=rec.id, to_status="disputed", actor=actor,
                                      reason=f"objection {o.id}: review requested")
    audit.append(session, action="objection.review", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "record": rec.id, "due_on": due.isoformat(), "reason": reason.strip(),
                         "authority": r.objection.review_authority})
    authority = r.objection.review_authority
    tell_subject(session, o.subject_id, "objection.review", Wording(
        f"异议 {o.id} 复核申请已受理, {unit_name(session, authority)}在 {due.isoformat()} 前答复。",
        f"Objection {o.id}: the review request is received; {unit_name(session, authority, 'en')} answers by "
        f"{due.isoformat()}."), "objection", o.id)
    tell_department(session, authority, o.subject_id, "objection.review", Wording(
        f"异议 {o.id} 申请复核 (原处理: {word('objection_outcome', o.outcome)}, "
        f"{unit_name(session, o.department_code)}), 请在 {due.isoformat()} 前答复。理由: {reason.strip()}",
        f"Objection {o.id}: a review is asked for (decided before: {word('objection_outcome', o.outcome, 'en')}, "
        f"by {unit_name(session, o.department_code, 'en')}); answer by {due.isoformat()}. Reason: {reason.strip()}"),
        "objection", o.id)
    return o


def decide_review(session: Session, *, objection_id: int, outcome: str, reason: str, unit: str,
                  corrections: dict[str, str] | None = None, actor: str | None = None) -> Objection:
    """The review authority's final word, with the same three outcomes."""
    actor = actor or audit.default_actor()
    if outcome not in OBJECTION_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {list(OBJECTION_OUTCOMES)}")
    if not reason.strip():
        raise InvalidInput("a review decision needs its reason", code="workflows.reason.missing")
    o = get_objection(session, objection_id)
    if o.status == "reviewing" and unit != o.review_authority:
        raise InvalidInput(f"the review of objection {objection_id} is for {o.review_authority!r}, not {unit!r}",
                           code="workflows.review.other_unit",
                           params={"id": objection_id, "department": o.review_authority})
    target_id = o.result_record_id or o.record_id
    if outcome == "corrected":
        parse_corrections(corrections, get_item(session, get_record(session, target_id).item_code))
    rec = get_record(session, target_id, lock=True)
    if rec.status != "disputed" and outcome != "upheld":
        raise InvalidInput(f"record {rec.id} is {rec.status}; the review cannot {outcome} it")
    claim(session, Objection, o.id, ("reviewing",), {"status": "reviewed", "review_outcome": outcome,
                                                       "review_decision_reason": reason.strip(),
                                                       "review_decided_on": clock.today(),
                                                       "review_decided_by": actor}, "objection")
    o = get_objection(session, objection_id)
    rec = get_record(session, target_id)
    if rec.status == "disputed":
        after = apply_outcome(session, o=o, rec=rec, outcome=outcome, reason=reason.strip(),
                              corrections=corrections, actor=actor, stage="reviewed")
        if after.id != rec.id:
            o.result_record_id = after.id
    session.flush()
    audit.append(session, action="objection.review.decide", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "outcome": outcome, "reason": reason.strip(), "record": rec.id,
                         "result_record": o.result_record_id})
    tell_subject(session, o.subject_id, f"objection.review.{outcome}", Wording(
        f"异议 {o.id} 复核结果: {word('objection_outcome', outcome)}。理由: {reason.strip()}。复核为最终处理。",
        f"Objection {o.id} reviewed: {word('objection_outcome', outcome, 'en')}. Reason: {reason.strip()}. "
        "The review is final."), "objection", o.id)
    return o


def withdraw_objection(session: Session, *, objection_id: int, reason: str, actor: str | None = None) -> Objection:
    """The subject withdraws an open objection: the record returns to force."""
    actor = actor or audit.default_actor()
    o = get_objection(session, objection_id)
    target_id = o.result_record_id or o.record_id
    claim(session, Objection, o.id, OBJECTION_OPEN, {"status": "withdrawn"}, "objection")
    o = get_objection(session, objection_id)
    rec = get_record(session, target_id, lock=True)
    if rec.status == "disputed":
        records_service.change_status(session, record_id=rec.id, to_status="active", actor=actor,
                                      reason=f"objection {o.id} withdrawn: {reason.strip() or _NO_REASON}")
    audit.append(session, action="objection.withdraw", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "reason": reason.strip()})
    current.reevaluate_after(session, subject_id=o.subject_id, cause=f"objection:{o.id}", actor=actor)
    return o


def objections(session: Session, *, subject_id: int | None = None, status: str | Sequence[str] | None = None,
               department: str | None = None, limit: int = 200) -> list[Objection]:
    """Objections, newest first; `status` is one status or several (e.g. OBJECTION_OPEN)."""
    return cases(session, Objection, subject_id=subject_id, status=status, department=department, limit=limit)


def objection_deadline(o: Objection) -> dt.date | None:
    """The date the open stage must be answered by (None when nothing is pending)."""
    if o.status == "open":
        return o.due_on
    if o.status == "reviewing":
        return o.review_due_on
    return None


def objection_dict(session: Session, o: Objection, today: dt.date | None = None,
                   cal: calendar.WorkCalendar | None = None) -> dict[str, Any]:
    """An objection for output; pass `cal` when listing many (one read of the overrides)."""
    today = today or clock.today()
    deadline = objection_deadline(o)
    cal = cal or calendar.load(session)
    left = None
    if deadline is not None:
        left = cal.working_days_between(today, deadline) if deadline >= today else -cal.working_days_between(
            deadline, today)
    return {
        "id": o.id, "filing_no": o.filing_no, "subject_id": o.subject_id, "record_id": o.record_id,
        "department": o.department_code, "channel": o.channel, "filed_by": o.filed_by, "reason": o.reason,
        "received_on": iso(o.received_on), "due_on": iso(o.due_on), "extended_on": iso(o.extended_on),
        "extension_reason": o.extension_reason, "status": o.status, "outcome": o.outcome,
        "decision_reason": o.decision_reason, "decided_on": iso(o.decided_on), "decided_by": o.decided_by,
        "result_record_id": o.result_record_id,
        "review": None if o.review_requested_on is None else {
            "requested_on": iso(o.review_requested_on), "reason": o.review_reason, "due_on": iso(o.review_due_on),
            "authority": o.review_authority, "outcome": o.review_outcome, "decision_reason": o.review_decision_reason,
            "decided_on": iso(o.review_decided_on), "decided_by": o.review_decided_by},
        "deadline": iso(deadline), "working_days_left": left,
        "overdue": deadline is not None and today > deadline,
        "evidence": materials(session, "objection", o.id),
    }
