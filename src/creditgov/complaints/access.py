"""Read logic the complaints API, pages and commands share: the scope of a grant,
a complaint as shown (the complainant's name and contact masked; in full only on an
audited read by the office), and the codes' Chinese and English labels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.complaints import service
from creditgov.complaints.models import Complaint
from creditgov.core import clock, labels
from creditgov.core.errors import NotFound
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.security.scopes import Grant, Scope

STATUS_LABELS = {"received": ("待分派", "Received"), "assigned": ("办理中", "Being handled"),
                 "replied": ("已答复", "Answered")}
OUTCOME_LABELS = {"substantiated": ("经查属实", "Substantiated"), "unsubstantiated": ("经查不属实", "Unsubstantiated"),
                  "not_accepted": ("不予受理", "Not accepted")}
CHANNEL_LABELS = {"public": ("网站", "Public page"), "counter": ("窗口", "Counter"), "api": ("接口", "API"),
                  "supervisor": ("特约监督员", "Special supervisor")}


# What the answer to a sender's repeated complaint says beside the fresh query code
# (`service.reissue_code`): the pages say it through their catalogue, the API from here.
CODE_REPLACED = ("相同的投诉此前已登记为 {number}，本次提交没有重复登记。这是为该投诉新发的查询码，"
                 "它取代此前给出的查询码，原查询码已不能再用。",
                 "The same complaint was registered before as {number}; this submission did not register it "
                 "again. This is a new query code for it: it replaces the one given before, which no longer works.")


def intake_answer(got: service.Intake, lang: str) -> dict[str, Any]:
    """What an API answer adds about the intake: whether it filed a complaint, and for a
    repeated one that its query code is new and replaces the earlier (in `lang`)."""
    out: dict[str, Any] = {"created": got.created, "query_code_replaces_earlier": got.replaced}
    if got.replaced:
        out["message"] = CODE_REPLACED[1 if lang == "en" else 0].format(number=got.complaint.number)
    return out


def category_labels() -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_zh, c.name_en) for c in service.policy().categories}


def mask_contact(v: str) -> str:
    if "@" in v:
        user, _, host = v.partition("@")
        return (user[:1] + "***@" + host) if user else "***@" + host
    return v[:3] + "****" + v[-4:] if len(v) >= 8 else "****"


def _label(table: dict[str, tuple[str, str]], code: str | None) -> dict[str, Any] | None:
    if code is None:
        return None
    zh, en = table.get(code, (code, code))
    return {"code": code, "label_zh": zh, "label_en": en}


def in_scope(grant: Grant, c: Complaint) -> bool:
    if grant.scope is Scope.ALL:
        return True
    return grant.scope is Scope.DEPARTMENT and c.department_code == grant.principal.department_code


def listing(session: Session, grant: Grant, *, status: str | None = None, limit: int | None = 200) -> list[Complaint]:
    """The complaints the grant reaches, newest first (`limit=None`: all, for exports)."""
    q = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if grant.scope is not Scope.ALL:
        q = q.where(Complaint.department_code == (grant.principal.department_code or "-"))
    if status:
        q = q.where(Complaint.status == status)
    return list(session.execute(q).scalars())


def one(session: Session, grant: Grant, complaint_id: int) -> Complaint:
    c = service.get(session, complaint_id)
    if not in_scope(grant, c):
        raise NotFound(f"complaint {complaint_id} not found")
    return c


def as_dict(keyring: KeyRing, c: Complaint, *, full: bool = False) -> dict[str, Any]:
    """A complaint as shown; `full` (the office's audited read) shows name and contact."""
    name = keyring.decrypt(c.complainant_name) if c.complainant_name else None
    contact = keyring.decrypt(c.contact) if c.contact else None
    return {
        "id": c.id, "number": c.number, "channel": _label(CHANNEL_LABELS, c.channel),
        "category": _label(category_labels(), c.category), "respondent_name": c.respondent_name,
        "respondent_code": c.respondent_code, "subject_id": c.subject_id, "content": c.content,
        "complainant_name": (name if full else mask_name(name)) if name else None,
        "contact": (contact if full else mask_contact(contact)) if contact else None,
        "contact_kind": c.contact_kind, "status": _label(STATUS_LABELS, c.status),
        "received_at": clock.to_cst(c.received_at).isoformat(), "accept_due": c.accept_due.isoformat(),
        "due_on": c.due_on.isoformat(), "department": c.department_code,
        "assigned_at": clock.to_cst(c.assigned_at).isoformat() if c.assigned_at else None,
        "outcome": _label(OUTCOME_LABELS, c.outcome), "reply": c.reply,
        "replied_at": clock.to_cst(c.replied_at).isoformat() if c.replied_at else None,
        "on_time": c.on_time, "overdue": service.overdue(c), "manual_entry_id": c.manual_entry_id,
    }


def read_full(session: Session, keyring: KeyRing, grant: Grant, complaint_id: int) -> dict[str, Any]:
    """The complaint with the complainant's name and contact: a personal read, audited."""
    c = one(session, grant, complaint_id)
    audit.append(session, action="complaints.read", actor=grant.principal.actor, subject_id=c.subject_id,
                 purpose="complaint handling", detail={"complaint": c.id})
    return as_dict(keyring, c, full=True)


def public_status(c: Complaint) -> dict[str, Any]:
    """What the complainant sees with number and query code: no personal data."""
    return {"number": c.number, "status": _label(STATUS_LABELS, c.status), "due_on": c.due_on.isoformat(),
            "received_at": clock.to_cst(c.received_at).isoformat(), "outcome": _label(OUTCOME_LABELS, c.outcome),
            "reply": c.reply, "replied_at": clock.to_cst(c.replied_at).isoformat() if c.replied_at else None,
            "on_time": c.on_time}


def observations(session: Session, grant: Grant, *, limit: int = 200) -> list[dict[str, Any]]:
    """A supervisor's own observations as it may see them: the public status (no
    complainant data) plus what it wrote."""
    q = (select(Complaint).where(Complaint.channel == "supervisor", Complaint.received_by == grant.principal.actor)
         .order_by(Complaint.id.desc()).limit(limit))
    return [{**public_status(c), "id": c.id, "respondent_name": c.respondent_name, "content": c.content,
             "category": _label(category_labels(), c.category), "accept_due": c.accept_due.isoformat()}
            for c in session.execute(q).scalars()]


def in_scope_all(grant: Grant) -> bool:
    return grant.scope is Scope.ALL


HEADER = {"zh": ["投诉编号", "状态", "渠道", "投诉类别", "被投诉单位", "部门", "收到时间(北京时间)", "受理期限", "答复期限",
                 "已超期", "办理结果", "答复时间(北京时间)", "按期答复"],
          "en": ["Number", "Status", "Channel", "Category", "Respondent", "Department", "Received (CST)",
                 "Accept by", "Answer by", "Overdue", "Outcome", "Answered (CST)", "Answered on time"]}
_YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}


def export_rows(complaints: Iterable[Complaint], *, lang: str = "zh") -> Iterator[list[Any]]:
    """Complaints as export rows (issue 19): the list's columns named in `lang`, times
    in China Standard Time — for the page's export (`listing` under the page's filter)
    and the command's `--out`. No complainant's name or contact: the list does not show
    them (only the audited read of one complaint does)."""
    cats = category_labels()
    yes, no = _YES_NO["en" if lang == "en" else "zh"]

    def name(table: dict[str, tuple[str, str]], code: str | None) -> str:
        if code is None:
            return ""
        zh, en = table.get(code, (code, code))
        return en if lang == "en" else zh

    def flag(v: bool | None) -> str:
        return "" if v is None else yes if v else no

    for c in complaints:
        yield [c.number, name(STATUS_LABELS, c.status), name(CHANNEL_LABELS, c.channel), name(cats, c.category),
               c.respondent_name, labels.label("department", c.department_code, lang) if c.department_code else "",
               clock.show(c.received_at, lang, label=False, seconds=True), c.accept_due.isoformat(),
               c.due_on.isoformat(), flag(service.overdue(c)), name(OUTCOME_LABELS, c.outcome),
               clock.show(c.replied_at, lang, label=False, seconds=True) if c.replied_at else "", flag(c.on_time)]


STATS_HEADER = {"zh": ["部门", "收到", "已答复", "按期答复", "办理中", "已超期", "按期率"],
                "en": ["Department", "Received", "Answered", "Answered on time", "Being handled", "Overdue",
                       "On-time rate"]}
# The statistics' row of complaints no department holds yet: not the status's word
# ("Received" is a column of the same table).
UNASSIGNED = {"zh": "尚未分派", "en": "Not yet assigned"}


def stats_rows(stats: list[dict[str, Any]], *, lang: str = "zh") -> Iterator[list[Any]]:
    """The statistics by department (`service.stats`, narrowed as the page narrows it)
    as export rows: departments by their labels, the on-time rate as a fraction."""
    for r in stats:
        yield [labels.label("department", r["department"], lang) if r["department"] else UNASSIGNED[lang],
               r["received"], r["answered"], r["on_time"], r["open"], r["overdue"],
               "" if r["on_time_rate"] is None else round(r["on_time_rate"], 4)]
