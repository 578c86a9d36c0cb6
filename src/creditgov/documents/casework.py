"""Objection decisions (异议处理决定书) and credit-repair decisions (信用修复决定书)
printed like the list documents (`service.render`): from the decided cases of the
objection and repair procedures, read from their tables, each dated the day it was
decided."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import labels
from creditgov.core.clock import day_in_words
from creditgov.core.errors import InvalidInput
from creditgov.documents.service import Doc, Printed, render
from creditgov.lists.documents import party
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.workflows.models import Objection, RepairApplication

TITLES = {"objection": ("异议处理决定书", "Objection decision"), "repair": ("信用修复决定书", "Credit repair decision")}
REVIEW = "对处理结果不服的，可自收到本决定书之日起向上一级信用主管部门申请复核。"


def _unit(session: Session, code: str, lang: str = "zh") -> str:
    d = session.get(Department, code)
    if d is None:
        return code
    return (d.name_en or d.name_zh) if lang == "en" else d.name_zh


def _record(session: Session, record_id: int) -> str:
    rec = session.get(CreditRecord, record_id)
    if rec is None:
        return f"记录 {record_id}"
    item = session.get(CatalogItem, rec.item_code)
    doc = f"，文书 {rec.document_no}" if rec.document_no else ""
    return f"{day_in_words(rec.occurred_on, 'zh')} {item.name_zh if item else rec.item_code}{doc}"


def _party(session: Session, subject_id: int) -> str:
    p = party(session, subject_id)
    return f"{p.name}（{p.code or '—'}）" + (f"；法定代表人（负责人）：{p.legal_representative}"
                                          if p.legal_representative else "")


def docs(session: Session, kind: str, *, on: dt.date | None = None, ids: list[int] | None = None) -> list[Doc]:
    """The decided cases of `kind` — decided on day `on`, or the named ones — as documents."""
    if kind not in TITLES:
        raise InvalidInput(f"kind must be one of {', '.join(TITLES)}")
    zh, en = TITLES[kind]
    out: list[Doc] = []
    if kind == "objection":
        q = select(Objection).where(Objection.decided_on.is_not(None)).order_by(Objection.id)
        if on is not None:
            q = q.where(Objection.decided_on == on)
        if ids:
            q = q.where(Objection.id.in_(ids))
        for o in session.execute(q.limit(2001)).scalars():
            out.append(Doc(o.id, o.subject_id, zh, en, _unit(session, o.department_code), [
                ("当事人：", _party(session, o.subject_id)), ("受理编号：", o.filing_no),
                ("异议信息：", _record(session, o.record_id)), ("异议理由：", o.reason),
                ("收到日期：", day_in_words(o.received_on, "zh")),
                ("处理结果：", labels.label("objection_outcome", o.outcome) or "—"),
                ("理由：", o.decision_reason or "—"), ("决定日期：", day_in_words(o.decided_on, "zh")),
                ("救济：", REVIEW)], _decided(o.decided_on), _unit(session, o.department_code, "en")))
    else:
        r = select(RepairApplication).where(RepairApplication.decided_on.is_not(None)).order_by(RepairApplication.id)
        if on is not None:
            r = r.where(RepairApplication.decided_on == on)
        if ids:
            r = r.where(RepairApplication.id.in_(ids))
        for a in session.execute(r.limit(2001)).scalars():
            out.append(Doc(a.id, a.subject_id, zh, en, _unit(session, a.department_code), [
                ("当事人：", _party(session, a.subject_id)), ("修复事项：", _record(session, a.record_id)),
                ("申请日期：", day_in_words(a.applied_on, "zh")),
                ("决定：", labels.label("repair_status", a.status) or a.status),
                ("理由：", a.decision_reason or _unmet_zh(a.eligibility) or a.refusal_reason or "—"),
                ("决定日期：", day_in_words(a.decided_on, "zh")),
                ("说明：", "准予修复的，自决定之日起停止公示，并向共享该信息的平台推送修复结果。"
                         if a.status == "approved" else REVIEW)], _decided(a.decided_on),
                           _unit(session, a.department_code, "en")))
    if len(out) > 2000:
        raise InvalidInput("more than 2000 documents in one run: narrow it by day", code="documents.batch.too_many",
                           params={"max": 2000})
    return out


def _decided(day: dt.date | None) -> dt.date:
    """A decision is dated the day it was decided (the query keeps decided cases only)."""
    assert day is not None
    return day


_ISO_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def _unmet_zh(eligibility: dict[str, Any] | None) -> str:
    """A refused application's unmet conditions as the check said them in Chinese (the
    stored `refusal_reason` is the English of the API and the command line), its dates
    written as the document writes a date (checks stored before the pages wrote dates out
    wrote them ISO)."""
    said = "；".join(c.get("detail_zh") or c.get("detail") or "" for c in (eligibility or {}).get("checks") or []
                    if not c.get("met"))

    def day(m: re.Match[str]) -> str:
        try:
            return day_in_words(dt.date(int(m[1]), int(m[2]), int(m[3])), "zh")
        except ValueError:  # not a date after all: as written
            return m[0]

    return _ISO_DAY.sub(day, said)


def print_cases(session: Session, *, kind: str, verify_base: str, on: dt.date | None = None,
                ids: list[int] | None = None, actor: str | None = None) -> Printed:
    actor = actor or audit.default_actor()
    return render(session, docs(session, kind, on=on, ids=ids), kind=kind, verify_base=verify_base, actor=actor)
