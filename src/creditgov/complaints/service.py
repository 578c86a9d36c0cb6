"""The rules of complaint handling (投诉处理).

A complaint is taken from the public page (anonymous, with an optional contact), the
counter (an office user entering it), the API, or a special supervisor's own page
(特约监督员: its observations, marked `supervisor`). At intake its deadlines are fixed in
working days on the product's calendar (`workflows.calendar`) from the policy
(`data/complaints.yaml`): acceptance — assignment to a department — within
`accept_days`, the reply within `reply_days` (one extension of `extension_days`). The
assigned department is told in its inbox (and the rules' other channels); the reply
reaches the complainant on the channel their contact allows (SMS for a mobile number,
e-mail for an address, when that channel is configured), and in any case on the public
status page under the complaint's number and query code. A substantiated complaint
against a known subject is proposed as a credit record through manual entry
(`ingest.manual`): a second person approves it and it goes through the ingestion
pipeline, so `creditgov ingest trace` shows it. Every step is on the audit chain.

The pages and the API take a complaint through `take` (`take_observation`): the same
complaint sent again by the same sender on the same day while it is still open — a
second click, the back button, a retried request — answers the first one instead of
filing a second. The same sender is a special supervisor, or a complainant who left a
contact; without one, the same words from two people are two complaints (the pages
redirect after filing, so a refreshed page does not send again). The query code is kept
only hashed, so the answer to the repeat cannot show the first code: it issues a fresh
one (`reissue_code`), which replaces the first — the answer the browser ends up showing
after a double click always holds a code that works."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from creditgov.alerts import service as alerts_service
from creditgov.catalog import departments
from creditgov.complaints.models import Complaint
from creditgov.complaints.schemas import CHANNELS, ComplaintIn, ComplaintsFile, ObservationIn
from creditgov.core import clock, labels
from creditgov.core.config import PolicyFile
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.ingest import manual
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from creditgov.workflows import calendar
from creditgov.workflows.notifications import Wording, tell

POLICY = PolicyFile(ComplaintsFile, "creditgov.complaints", "data/complaints.yaml")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$")
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def policy() -> ComplaintsFile:
    return POLICY.shipped()


def _contact_kind(contact: str) -> str:
    if MOBILE.match(contact):
        return "mobile"
    if EMAIL.match(contact):
        return "email"
    raise InvalidInput("the contact must be a mobile number (11 digits) or an e-mail address",
                       code="complaints.contact.invalid")


def query_hash(number: str, code: str) -> str:
    return hashlib.sha256(f"{number}:{code.strip().upper()}".encode()).hexdigest()


def _new_code() -> str:
    return secrets.token_hex(4).upper()


def file_complaint(session: Session, keyring: KeyRing, data: ComplaintIn, *, channel: str,
                   actor: str | None = None) -> tuple[Complaint, str]:
    """Take a complaint: (the complaint, its query code — shown once, kept only hashed)."""
    actor = actor or audit.default_actor()
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}")
    pol = policy()
    if data.category not in {c.code for c in pol.categories}:
        raise InvalidInput(f"unknown category {data.category!r}", code="complaints.category.unknown")
    contact = (data.contact or "").strip() or None
    kind = _contact_kind(contact) if contact else None
    code_given = (data.respondent_code or "").strip().upper() or None
    if code_given and not USCC.match(code_given):
        raise InvalidInput("the respondent's code must be an 18-character unified social credit code",
                           code="complaints.respondent.uscc")
    subject_id = (session.execute(select(Subject.id).where(Subject.uscc == code_given)).scalar_one_or_none()
                  if code_given else None)
    received_at = clock.now()
    received_on = clock.to_cst(received_at).date()
    cal = calendar.load(session)
    name = (data.complainant_name or "").strip() or None
    c = Complaint(number=f"tmp-{uuid.uuid4().hex[:24]}", channel=channel, category=data.category,
                  respondent_name=data.respondent_name.strip(), respondent_code=code_given, subject_id=subject_id,
                  content=data.content.strip(), complainant_name=keyring.encrypt(name) if name else None,
                  contact=keyring.encrypt(contact) if contact else None, contact_kind=kind, query_hash="",
                  status="received", received_at=received_at, received_on=received_on,
                  accept_due=cal.add_working_days(received_on, pol.accept_days),
                  due_on=cal.add_working_days(received_on, pol.reply_days), received_by=actor)
    session.add(c)
    session.flush()
    c.number = f"TS{received_on:%Y%m%d}-{c.id:05d}"
    code = _new_code()
    c.query_hash = query_hash(c.number, code)
    session.flush()
    audit.append(session, action="complaints.file", actor=actor, subject_id=subject_id,
                 detail={"complaint": c.id, "number": c.number, "channel": channel, "category": c.category,
                         "contact_kind": kind, "due_on": c.due_on.isoformat()})
    tell(session, recipient_kind="department", recipient="credit", subject_id=subject_id, topic="complaint.received",
         body=Wording(f"收到投诉 {c.number}（{c.respondent_name}），请于 {c.accept_due} 前分派。",
                      f"Complaint {c.number} ({c.respondent_name}) received: assign it by {c.accept_due}."),
         ref_kind="complaint", ref_id=c.id)
    return c, code


def file_observation(session: Session, keyring: KeyRing, data: ObservationIn, *, supervisor: str,
                     supervisor_name: str) -> tuple[Complaint, str]:
    """A special supervisor's observation (特约监督员的监督意见) enters the complaint
    procedure as a complaint whose channel marks its source (`supervisor`) and whose
    `received_by` names the supervisor's account: deadlines fixed at intake, the office
    told to assign it, answered like any complaint. The supervisor's name (from the
    account) is kept encrypted like any complainant's."""
    if not supervisor.startswith("user:"):
        raise InvalidInput("an observation is filed from a special supervisor's own account")
    c, code = file_complaint(session, keyring, _observation_as_complaint(data, supervisor_name),
                             channel="supervisor", actor=supervisor)
    audit.append(session, action="complaints.observation", actor=supervisor, subject_id=c.subject_id,
                 detail={"complaint": c.id, "number": c.number, "source": "supervisor"})
    return c, code


@dataclass(frozen=True)
class Intake:
    """What a submission came to: a new complaint with its query code (shown once), or
    the same complaint filed earlier (`created` False) with a fresh query code that
    replaces the one given before (`replaced`; `code` None where the answer shows no
    code — a special supervisor's page)."""

    complaint: Complaint
    code: str | None
    created: bool
    replaced: bool = False


def reissue_code(session: Session, c: Complaint, *, actor: str) -> str:
    """A fresh query code for the complaint, for its sender's repeated submission: its
    hash replaces the stored one, so the code given before stops working (only hashes
    are kept, so the first code cannot be shown again). Audited."""
    code = _new_code()
    c.query_hash = query_hash(c.number, code)
    session.flush()
    audit.append(session, action="complaints.code_reissued", actor=actor, subject_id=c.subject_id,
                 detail={"complaint": c.id, "number": c.number, "channel": c.channel})
    return code


def _same_sender_lock(session: Session, channel: str, actor: str, data: ComplaintIn) -> None:
    """Serialise intakes of one sender's same complaint, so two clicks in flight file
    it once (PostgreSQL; SQLite's writers are serial already: BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        key = "\x1f".join([channel, actor, data.category, data.respondent_name.strip(), data.content.strip()])
        k = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})


def resubmitted(session: Session, keyring: KeyRing, data: ComplaintIn, *, channel: str,
                actor: str) -> Complaint | None:
    """The open complaint this sender filed today on this channel with the same
    category, respondent (name and code), content, complainant's name and contact —
    compared as `file_complaint` keeps them (trimmed; the code in capitals) — if any.
    Only a sender who can be told apart counts: a special supervisor (its own account)
    or a complainant who left a contact; anonymous words alike are two complaints."""
    code_given = (data.respondent_code or "").strip().upper() or None
    q = (select(Complaint).where(
        Complaint.channel == channel, Complaint.received_by == actor,
        Complaint.received_on == clock.to_cst(clock.now()).date(), Complaint.status != "replied",
        Complaint.category == data.category, Complaint.respondent_name == data.respondent_name.strip(),
        Complaint.respondent_code.is_(None) if code_given is None else Complaint.respondent_code == code_given,
        Complaint.content == data.content.strip()).order_by(Complaint.id))
    name = (data.complainant_name or "").strip() or None
    contact = (data.contact or "").strip() or None
    if contact is None and channel != "supervisor":
        # Without a contact the sender is nobody in particular (the public form, a walk-in
        # at the counter): two people may well send the same words about the same shop,
        # and each is a complaint. Only a known sender's same complaint is a retry.
        return None
    for c in session.execute(q).scalars():
        # Name and contact are encrypted under a fresh nonce each: compared in the clear.
        if ((keyring.decrypt(c.complainant_name) if c.complainant_name else None) == name
                and (keyring.decrypt(c.contact) if c.contact else None) == contact):
            return c
    return None


def _answered_before(session: Session, keyring: KeyRing, data: ComplaintIn, *, channel: str,
                     actor: str, reissue: bool = True) -> Intake | None:
    """This sender's same complaint already open from today, as an intake that filed
    nothing, once any other copy in flight has been filed (`_same_sender_lock`); with
    a fresh query code replacing the first (`reissue`) for an answer that shows one."""
    _same_sender_lock(session, channel, actor, data)
    earlier = resubmitted(session, keyring, data, channel=channel, actor=actor)
    if earlier is None:
        return None
    if not reissue:
        return Intake(earlier, None, False)
    return Intake(earlier, reissue_code(session, earlier, actor=actor), False, replaced=True)


def take(session: Session, keyring: KeyRing, data: ComplaintIn, *, channel: str, actor: str) -> Intake:
    """A complaint from a form or the API: filed, unless this sender's same complaint is
    already open from today (`resubmitted`), which then answers for it with a fresh
    query code."""
    earlier = _answered_before(session, keyring, data, channel=channel, actor=actor)
    if earlier is not None:
        return earlier
    c, code = file_complaint(session, keyring, data, channel=channel, actor=actor)
    return Intake(c, code, True)


def _observation_as_complaint(data: ObservationIn, supervisor_name: str) -> ComplaintIn:
    return ComplaintIn(category=data.category, respondent_name=data.respondent_name,
                       respondent_code=data.respondent_code, content=data.content,
                       complainant_name=supervisor_name[:100] or None, contact=data.contact)


def take_observation(session: Session, keyring: KeyRing, data: ObservationIn, *, supervisor: str,
                     supervisor_name: str, reissue: bool = True) -> Intake:
    """A special supervisor's observation, filed once as `take` files. Its page shows no
    query code (the supervisor follows its observations there): it passes `reissue`
    False, so a code the API gave stays valid."""
    earlier = _answered_before(session, keyring, _observation_as_complaint(data, supervisor_name),
                               channel="supervisor", actor=supervisor, reissue=reissue)
    if earlier is not None:
        return earlier
    c, code = file_observation(session, keyring, data, supervisor=supervisor, supervisor_name=supervisor_name)
    return Intake(c, code, True)


def get(session: Session, complaint_id: int, *, lock: bool = False) -> Complaint:
    q = select(Complaint).where(Complaint.id == complaint_id)
    c = session.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if c is None:
        raise NotFound(f"complaint {complaint_id} not found")
    return c


def by_number(session: Session, number: str, code: str) -> Complaint:
    """The public status lookup: number and query code must both match."""
    c = session.execute(select(Complaint).where(Complaint.number == number.strip())).scalar_one_or_none()
    if c is None or not secrets.compare_digest(c.query_hash, query_hash(c.number, code)):
        raise NotFound("no complaint with this number and query code", code="complaints.lookup.no_match")
    return c


def assign(session: Session, complaint_id: int, *, department: str, note: str | None = None,
           actor: str | None = None) -> Complaint:
    actor = actor or audit.default_actor()
    c = get(session, complaint_id, lock=True)
    if c.status == "replied":
        raise Conflict(f"complaint {c.number} was already answered", code="complaints.answered",
                       params={"number": c.number})
    departments.require(session, department)
    c.department_code, c.assigned_at, c.assigned_by, c.status = department, clock.now(), actor, "assigned"
    c.assign_note = (note or "").strip()[:2000] or None
    audit.append(session, action="complaints.assign", actor=actor, subject_id=c.subject_id,
                 detail={"complaint": c.id, "department": department})
    tell(session, recipient_kind="department", recipient=department, subject_id=c.subject_id,
         topic="complaint.assigned",
         body=Wording(f"投诉 {c.number}（{c.respondent_name}）已分派给本部门，请于 {c.due_on} 前答复。",
                      f"Complaint {c.number} ({c.respondent_name}) is assigned to your department: answer by "
                      f"{c.due_on}."),
         ref_kind="complaint", ref_id=c.id)
    return c


def extend(session: Session, complaint_id: int, *, reason: str, actor: str | None = None) -> Complaint:
    """Extend the reply deadline once by the policy's `extension_days`, telling the complainant."""
    actor = actor or audit.default_actor()
    c = get(session, complaint_id, lock=True)
    pol = policy()
    if c.status == "replied":
        raise Conflict(f"complaint {c.number} was already answered", code="complaints.answered",
                       params={"number": c.number})
    if not reason.strip():
        raise InvalidInput("an extension needs a reason", code="complaints.extension.no_reason")
    base = calendar.load(session).add_working_days(c.received_on, pol.reply_days)
    if pol.extension_days == 0:
        raise Conflict("the complaints policy allows no extension", code="complaints.no_extension")
    if c.due_on != base:
        raise Conflict(f"complaint {c.number} was already extended", code="complaints.extended",
                       params={"number": c.number})
    c.due_on = calendar.load(session).add_working_days(c.due_on, pol.extension_days)
    audit.append(session, action="complaints.extend", actor=actor, subject_id=c.subject_id,
                 detail={"complaint": c.id, "due_on": c.due_on.isoformat(), "reason": reason.strip()[:500]})
    return c


def reply(session: Session, keyring: KeyRing, complaint_id: int, *, outcome: str, text: str,
          actor: str | None = None) -> Complaint:
    """Answer the complaint. `substantiated` against a known subject proposes a credit
    record (manual entry, to be approved by a second person)."""
    actor = actor or audit.default_actor()
    c = get(session, complaint_id, lock=True)
    if c.status == "replied":
        raise Conflict(f"complaint {c.number} was already answered", code="complaints.answered",
                       params={"number": c.number})
    if outcome not in ("substantiated", "unsubstantiated", "not_accepted"):
        raise InvalidInput("outcome must be substantiated, unsubstantiated or not_accepted")
    if outcome != "not_accepted" and c.department_code is None:
        raise Conflict("assign the complaint to a department before answering it", code="complaints.unassigned")
    body = (text or "").strip()
    if len(body) < 2:
        raise InvalidInput("the reply needs a text", code="complaints.reply.empty")
    now = clock.now()
    c.outcome, c.reply, c.replied_at, c.replied_by, c.status = outcome, body[:4000], now, actor, "replied"
    c.replied_on = clock.to_cst(now).date()
    c.on_time = c.replied_on <= c.due_on
    if outcome == "substantiated" and c.respondent_code:
        # The pipeline refuses dates after `clock.today()`; with CREDITGOV_TODAY pinned
        # (demos, tests) the moment's China date can run a day past the pinned day.
        today = clock.today()
        e = manual.propose(session, keyring, kind="record", department=c.department_code or "credit",
                           fields={"identifier": c.respondent_code, "name": c.respondent_name,
                                   "item": policy().record_item, "occurred_on": min(c.received_on, today).isoformat(),
                                   "decided_on": min(c.replied_on, today).isoformat(), "text": body[:2000],
                                   "document_no": c.number},
                           reason=f"投诉 {c.number} 经查属实 (complaint substantiated)", actor=actor)
        c.manual_entry_id = e.id
    audit.append(session, action="complaints.reply", actor=actor, subject_id=c.subject_id,
                 detail={"complaint": c.id, "outcome": outcome, "on_time": c.on_time,
                         "manual_entry": c.manual_entry_id})
    _tell_complainant(session, keyring, c)
    return c


OUTCOME_ZH = {"substantiated": "经查属实", "unsubstantiated": "经查不属实", "not_accepted": "不予受理"}


def _tell_complainant(session: Session, keyring: KeyRing, c: Complaint) -> None:
    if not c.contact or not c.contact_kind:
        return
    channel = "sms" if c.contact_kind == "mobile" else "email"
    outcome_en = labels.label("complaint_outcome", c.outcome, "en").lower()
    english = {"title": f"The answer to complaint {c.number}",
               "body": f"Your complaint {c.number} is closed: {outcome_en}. {c.reply}"}
    alerts_service.notify_address(
        session, principal=f"complaint:{c.id}", channel=channel, address=keyring.decrypt(c.contact),
        title=f"投诉 {c.number} 答复", body=f"您的投诉 {c.number} 已办结：{OUTCOME_ZH.get(c.outcome or '', '')}。{c.reply}",
        key=f"complaint:{c.id}:reply", payload={"complaint": c.number, "en": english})


def overdue(c: Complaint, today: dt.date | None = None) -> bool:
    return c.status != "replied" and (today or clock.today()) > c.due_on


def stats(session: Session, *, since: dt.date | None = None, until: dt.date | None = None) -> list[dict[str, Any]]:
    """Per department (unassigned as `None`): received, answered, on time, open,
    overdue, and the on-time rate of the answered (None when none was answered)."""
    q = select(Complaint.department_code, Complaint.status, Complaint.on_time, Complaint.due_on,
               func.count()).group_by(Complaint.department_code, Complaint.status, Complaint.on_time, Complaint.due_on)
    if since:
        q = q.where(Complaint.received_on >= since)
    if until:
        q = q.where(Complaint.received_on <= until)
    today = clock.today()
    rows: dict[str | None, dict[str, Any]] = {}
    for dept, status, on_time, due_on, n in session.execute(q):
        r = rows.setdefault(dept, {"department": dept, "received": 0, "answered": 0, "on_time": 0, "open": 0,
                                   "overdue": 0})
        r["received"] += n
        if status == "replied":
            r["answered"] += n
            r["on_time"] += n if on_time else 0
        else:
            r["open"] += n
            r["overdue"] += n if today > due_on else 0
    out = sorted(rows.values(), key=lambda r: (r["department"] is None, r["department"] or ""))
    for r in out:
        r["on_time_rate"] = round(r["on_time"] / r["answered"], 4) if r["answered"] else None
    return out
