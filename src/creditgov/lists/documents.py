"""The written notice (告知书) and decision (认定决定书) of a list entry.

国办发〔2020〕49号 asks that before a subject is put on the serious-dishonesty list it
is told the facts, the basis and its rights (陈述申辩), and that the identifying unit
then decides in writing, naming the subject and its legal representative, and setting
the publication period (1 to 3 years) for the case. Both documents are built here from
the entry, the list definition and the store, kept as structured data (for the API and
the command) and as text (stored with the procedure step, so the history shows
exactly what was sent).

What was sent is the Chinese text and stays as stored. An English page reads each
document rendered in English from the same entry, list and store (`reading`), with the
Chinese as sent beside it; when the data no longer renders the stored Chinese exactly
(a subject renamed, a list's basis reloaded since), the reading says so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem, Department
from creditgov.core.clock import day_in_words, iso
from creditgov.lists.models import ListEntry
from creditgov.lists.schemas import ListDef
from creditgov.records.models import CreditRecord
from creditgov.subjects.models import Subject, SubjectLink

REMEDIES = "对认定决定不服的，可依法申请行政复议或者提起行政诉讼；符合条件的，可依法申请信用修复。"
REMEDIES_EN = ("A party that disagrees with the decision may apply for administrative reconsideration or bring an "
               "administrative lawsuit according to law; where the conditions are met, it may apply for credit repair "
               "according to law.")


@dataclass(frozen=True)
class Party:
    """The subject as a document names it."""

    subject_id: int
    name: str
    code: str | None  # credit code, or the masked ID number of a person
    legal_representative: str | None


def party(session: Session, subject_id: int) -> Party:
    s = session.get(Subject, subject_id)
    if s is None:  # the entry's foreign key makes this impossible
        raise LookupError(subject_id)
    rep = session.execute(
        select(Subject.name).join(SubjectLink, SubjectLink.person_id == Subject.id)
        .where(SubjectLink.firm_id == subject_id, SubjectLink.role == "legal_representative")
        .order_by(SubjectLink.id).limit(1)).scalar()
    return Party(s.id, s.name, s.uscc or s.resident_id_masked, rep)


def _said(text: str) -> str:
    """A Chinese sentence's text without its own full stop (one is added after it)."""
    return text.rstrip().rstrip("。.")


def _unit_name(session: Session, code: str | None, lang: str = "zh") -> str:
    d = session.get(Department, code) if code else None
    if d is None:
        return code or "—"
    return (d.name_en or d.name_zh) if lang == "en" else d.name_zh  # as core.labels names the unit


def facts(session: Session, entry: ListEntry, lang: str = "zh", d: ListDef | None = None) -> str:
    """What happened: the record the entry rests on, or the stated basis. In English the
    catalogue item and the department by their English names and a criterion's basis in
    its English (`d` given); the record's own text as recorded."""
    basis = d.basis_in(entry.basis, lang) if d is not None else entry.basis
    if entry.record_id is not None:
        rec = session.get(CreditRecord, entry.record_id)
        if rec is not None:
            item = session.get(CatalogItem, rec.item_code)
            en = lang == "en"
            what = ((item.name_en or item.name_zh) if en else item.name_zh) if item else rec.item_code
            unit = _unit_name(session, rec.department_code, lang)
            if en:
                doc = f", document {rec.document_no}" if rec.document_no else ""
                told = f": {rec.text}" if rec.text else ""
                return f"{iso(rec.occurred_on)} {what} ({unit}{doc}){told}; {basis or ''}".strip("; ")
            # Chinese punctuation and dates in the Chinese text (the record's own words as recorded).
            doc = f"，文书 {rec.document_no}" if rec.document_no else ""
            told = f"：{rec.text}" if rec.text else ""
            return "；".join(x for x in (f"{day_in_words(rec.occurred_on, 'zh')} {what}（{unit}{doc}）{told}", basis) if x)
    return basis or "—"


def notice(session: Session, entry: ListEntry, d: ListDef) -> dict[str, Any]:
    p = party(session, entry.subject_id)
    unit = session.get(Department, entry.identifying_unit) if entry.identifying_unit else None
    return {"document": "告知书", "list": d.name_zh, "list_en": d.name_en,
            "party": asdict(p), "facts": facts(session, entry), "basis": d.legal_basis.strip(),
            "facts_en": facts(session, entry, "en", d), "basis_en": d.legal_basis_in("en"),
            "identifying_unit": _unit_name(session, entry.identifying_unit),
            "identifying_unit_en": (unit.name_en or unit.name_zh) if unit else (entry.identifying_unit or "—"),
            "rights": f"陈述申辩：{day_in_words(entry.response_due, 'zh')}前（含当日）；{REMEDIES}",
            "deadline": iso(entry.response_due), "window": d.response_window.model_dump()}


# How the response window is counted, in the notice's words.
_COUNTING = {"working": "个工作日", "calendar": "日"}
_COUNTING_EN = {"working": "working days", "calendar": "days"}


def notice_text(doc: dict[str, Any], lang: str = "zh") -> str:
    """The notice as text: in Chinese (what is sent and kept with the step) naming the
    list by its Chinese name only; in English (a reading, never what was sent) naming it
    by its English name, the facts and the basis in English where the document has them
    (`facts_en`, `basis_en`), the subject's and the record's own words as recorded."""
    p = doc["party"]
    days, counting = doc["window"]["days"], doc["window"]["counting"]
    if lang == "en":
        rep = f"; legal representative (person in charge) {p['legal_representative']}" \
            if p["legal_representative"] else ""
        return (f"[Notice] {p['name']} ({p['code'] or '—'}){rep}: you are to be placed on the {doc['list_en']}. "
                f"Facts: {doc.get('facts_en') or doc['facts']}. Basis: {doc.get('basis_en') or doc['basis']}. "
                "Identifying unit: "
                f"{doc.get('identifying_unit_en') or doc['identifying_unit']}. You may state your case and defend "
                f"yourself until {doc['deadline']} inclusive ({days} {_COUNTING_EN.get(counting, 'days')}).")
    rep = f"；法定代表人（负责人）：{p['legal_representative']}" if p["legal_representative"] else ""
    due = day_in_words(dt.date.fromisoformat(doc["deadline"]) if doc["deadline"] else None, "zh")
    return (f"【告知书】{p['name']}（{p['code'] or '—'}）{rep}：拟将您列入《{doc['list']}》。"
            f"事实：{_said(doc['facts'])}。依据：{_said(doc['basis'])}。认定单位：{doc['identifying_unit']}。"
            f"您有权在{due}前（含当日）提出陈述申辩（{days}{_COUNTING.get(counting, '日')}）。")


def decision(session: Session, entry: ListEntry, d: ListDef, months: int | None) -> dict[str, Any]:
    p = party(session, entry.subject_id)
    rng = d.publication_range
    return {"document": "认定决定书", "decision_no": entry.decision_no, "list": d.name_zh,
            "list_en": d.name_en, "party": asdict(p), "facts": facts(session, entry),
            "basis": d.legal_basis.strip(), "identifying_unit": _unit_name(session, entry.identifying_unit),
            "facts_en": facts(session, entry, "en", d), "basis_en": d.legal_basis_in("en"),
            "identifying_unit_en": _unit_name(session, entry.identifying_unit, "en"),
            "representation": entry.representation,
            "publication_months": months,
            "publication_range": (rng.model_dump() if rng else None),
            "exit": [e.text for e in d.exit_conditions], "exit_en": [e.text_en or e.text for e in d.exit_conditions],
            "remedies": REMEDIES, "remedies_en": REMEDIES_EN}


def _decision_text_en(doc: dict[str, Any]) -> str:
    p = doc["party"]
    rep = f"; legal representative (person in charge) {p['legal_representative']}" \
        if p["legal_representative"] else ""
    heard = (f" The party's representation: {doc['representation']}." if doc["representation"]
             else " The party made no representation within the time allowed.")
    rng = doc["publication_range"]
    period = (f" Publication period: {doc['publication_months']} months from publication"
              + (f" (chosen for this case within {rng['min_months']}–{rng['max_months']} months)" if rng else "")
              + "." if doc["publication_months"] else " No publication period.")
    return (f"[Decision {doc['decision_no'] or '—'}] {doc.get('identifying_unit_en') or doc['identifying_unit']} "
            f"decides to place {p['name']} ({p['code'] or '—'}){rep} on the {doc['list_en']}. "
            f"Facts: {doc.get('facts_en') or doc['facts']}. Basis: {doc.get('basis_en') or doc['basis']}.{heard}"
            f"{period} Exit: {'; '.join(doc.get('exit_en') or doc['exit'])}. "
            f"{doc.get('remedies_en') or doc['remedies']}")


def decision_text(doc: dict[str, Any], lang: str = "zh") -> str:
    """The decision as text: in Chinese (what is decided and kept with the step), or in
    English for reading (`_decision_text_en`)."""
    if lang == "en":
        return _decision_text_en(doc)
    p = doc["party"]
    rep = f"；法定代表人（负责人）：{p['legal_representative']}" if p["legal_representative"] else ""
    heard = (f"当事人陈述申辩：{_said(doc['representation'])}。" if doc["representation"]
             else "当事人未在期限内陈述申辩。")
    rng = doc["publication_range"]
    period = (f"公示期限：自公示之日起 {doc['publication_months']} 个月"
              + (f"（本案在 {rng['min_months']}–{rng['max_months']} 个月范围内确定）" if rng else "") + "。"
              if doc["publication_months"] else "不设公示期限。")
    return (f"【认定决定书 {doc['decision_no'] or '—'}】{doc['identifying_unit']}决定将{p['name']}"
            f"（{p['code'] or '—'}）{rep}列入《{doc['list']}》。事实：{_said(doc['facts'])}。"
            f"依据：{_said(doc['basis'])}。{heard}{period}移出：{'；'.join(_said(x) for x in doc['exit'])}。"
            f"{doc['remedies']}")


def reading(session: Session, entry: ListEntry, d: ListDef, step: str, note: str | None,
            lang: str) -> dict[str, Any] | None:
    """A step's stored text as a page in `lang` reads it, or None where the text is shown
    as stored (any step in Chinese; a reason, a representation). The notice and the
    decision are rendered in English from the entry, the list and the store: `faithful`
    says whether those still render the Chinese as stored (else the reading is made from
    what they hold today, and the page says so); `sent` is the Chinese as stored. A
    proposal's note — the criterion's basis — reads in its English when unchanged."""
    if lang != "en" or not note:
        return None
    if step == "propose":
        return {"text": d.basis_in(note, lang), "faithful": True, "sent": None}
    if step == "notify":
        doc = notice(session, entry, d)
        zh = notice_text(doc)
        return {"text": notice_text(doc, "en"), "faithful": zh == note or _bare(zh) == _bare(note), "sent": note}
    if step == "approve":
        doc = decision(session, entry, d, entry.publication_months)
        added = _after(note, decision_text(doc))  # the deciding officer's own note, as written
        return {"text": decision_text(doc, "en") + (added or ""), "faithful": added is not None, "sent": note}
    return None


# Texts stored before the Chinese documents took Chinese punctuation and dates wrote
# ASCII `, ; : . ( )`, ISO dates and spaces: compared without them, the same data
# renders them still (`reading`'s `faithful`).
_PUNCTUATION = re.compile(r"[\s,;:.()，；：。（）]")
_ZH_DAY = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def _bare(text: str) -> str:
    text = _ZH_DAY.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text)
    return _PUNCTUATION.sub("", text)


def _after(note: str, zh: str) -> str | None:
    """What a stored decision note adds after the decision's text `zh` (the officer's own
    note, from a line break on), or None when the note does not begin with it."""
    if note.startswith(zh):
        return note[len(zh):]
    want = _bare(zh)
    for i in [n for n, ch in enumerate(note) if ch == "\n"] + [len(note)]:
        if _bare(note[:i]) == want:
            return note[i:]
    return None
