"""The credit report (信用报告): a PDF per subject in the sections of the 信用中国
public credit report, with the score explanation and a QR code to its verification
page.

Every issue is stored (`CreditReport`: serial, subject, reader, SHA-256 of the bytes)
and audited, so a printed report can be checked against the platform and every
download is on the audit chain. Only public- and shared-class records enter a report:
restricted and secret data stay inside the platform. And only records in force on the
report date: the rule is the score explanation's own (`scoring.explain.file_exclusion`),
so a report never calls "active" what the explanation calls "publication period ended".
Codes are printed as their labels (`core.labels`, the catalogue's departments), times in
China Standard Time, and the score explanation in the words of `scoring.narrative`.
A report is printed in the reader's language: Chinese by default, English on request
(`reports.words` holds the report's own words in both); the ten national sections keep
their order in either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.commitments import service as commitments_service
from creditgov.core import clock, labels
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records import received as received_facts
from creditgov.reports import extras, overview
from creditgov.reports.models import CreditReport
from creditgov.reports.pdftext import fonts, markup, printable
from creditgov.reports.words import lang_of, section_title, t
from creditgov.scoring import bands, narrative
from creditgov.scoring import service as scoring_service
from creditgov.scoring.explain import file_exclusion
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

REPORT_CLASSES = frozenset({"public", "shared"})
SECTIONS = ("行政管理", "诚实守信", "严重失信主体名单", "经营异常", "信用承诺", "信用评价", "司法判决",
            "其他信息", "信用状况提升建议", "地方补充内容")
SERIOUS_LISTS = frozenset({"serious-dishonesty", "black"})
# Characters of one field a report prints: a long record text is cut with a note of its
# length (the whole text is on the platform), so every cell fits on a page.
CELL_LIMIT = 500
EVALUATION_ITEMS = frozenset({"tax.credit_grade", "credit.public_grade", "tourism.homestay_check"})


def section_of(record: dict[str, Any]) -> str:
    """Which 信用中国 section a record belongs to."""
    item = record["item"]
    if item.startswith("court."):
        return "司法判决"
    if item == "market.abnormal_operation":
        return "经营异常"
    if item.startswith("commitment."):
        return "信用承诺"
    if item in EVALUATION_ITEMS:
        return "信用评价"
    if record["polarity"] == "positive":
        return "诚实守信"
    if record["polarity"] == "negative":
        return "行政管理"
    return "其他信息"


@dataclass
class ReportData:
    serial: str
    issued_at: dt.datetime
    as_of: dt.date
    subject: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]]
    scores: list[dict[str, Any]]
    explanation: dict[str, Any] | None
    lists: list[dict[str, Any]]
    commitments: list[dict[str, Any]]
    advice: list[str]
    local: list[Any]  # lines, and flowables the domains above add (reports/extras.py)
    lang: str = "zh"
    # The upper platform's evaluations received by the exchange, in the report's words
    # (`received_rows`): shown in the credit evaluations section.
    received: list[dict[str, str]] = field(default_factory=list)


def _advice(records: list[dict[str, Any]], lists: list[dict[str, Any]], scores: list[dict[str, Any]],
            lang: str = "zh") -> list[str]:
    """Suggestions derived from the file itself (信用状况提升建议)."""
    out = []
    neg = [r for r in records if r["polarity"] == "negative"]
    if neg:
        out.append(t("advice_negative", lang, n=len(neg)))
    if any(e["list"] in SERIOUS_LISTS for e in lists):
        out.append(t("advice_serious", lang))
    if any(s["colour"] in ("yellow", "red") for s in scores):
        out.append(t("advice_colour", lang))
    if not out:
        out.append(t("advice_good", lang))
    return out


def received_rows(evaluations: list[dict[str, Any]], lang: str = "zh") -> list[dict[str, str]]:
    """Evaluations received from the upper platform (`records.received.evaluations`) as the
    report prints them, in `lang`: the platform in words with the name it signs with, the
    evaluation's date, its model (its title when this platform knows the model, else as
    received, with the version received), grade with the shared band, score, and when it
    was received (China Standard Time). What the sender wrote is kept as written."""
    out = []
    for e in evaluations:
        node = str(e["issuer"])
        platform = t("upper_platform" if e["upper"] else "other_platform", lang, node=node)
        model = _label("model", e["model"], e["model"], lang) if e["model"] else "—"
        if e["model_version"]:
            model = f"{model} {e['model_version']}"
        band = bands.LABELS.get(e["band"] or "")
        grade = str(e["grade"] or "—")
        if band:
            grade += f"（{band[0]}）" if lang == "zh" else f" ({band[1]})"
        out.append({"platform": platform, "as_of": e["as_of"].isoformat() if e["as_of"] else "—", "model": model,
                    "grade": grade, "score": e["score"] or "—", "received_at": clock.show(e["received_at"], lang)})
    return out


def gather(session: Session, keyring: KeyRing, *, subject_id: int, actor: str, purpose: str,
           lang: str = "zh") -> ReportData:
    """Everything the report shows, in `lang` ("zh", the default, or "en"); reading a
    person's file here is audited."""
    lang = lang_of(lang)
    as_of = clock.today()
    f = subject_service.credit_file(session, keyring, str(subject_id), actor=actor, purpose=purpose)
    personal = subject_service.is_personal(f.subject)
    records = in_force(f.records, as_of)
    names = narrative.Names(session, {int(r["id"]) for r in records}, lang)
    for r in records:
        r["item_label"] = names.item(r["item"]) if lang == "en" else r["item_name"]
        r["department_name"] = names.department(r["department"])
        r["status_label"] = _label("record_status", r["status"], narrative.status_text(r["status"], lang), lang)
    sections: dict[str, list[dict[str, Any]]] = {s: [] for s in SECTIONS}
    for r in records:
        sections[section_of(r)].append(r)
    scores = overview.subject_scores(session, subject_id)
    explanation = None
    if scores:
        try:
            e = scoring_service.explain_subject(session, keyring, str(subject_id), ref=scores[0]["ref"],
                                                as_of=as_of, actor=actor, purpose=purpose).as_dict()
            _row, model = scoring_service.get(session, scores[0]["ref"])
            explanation = narrative.narrate(session, e, model, lang)
        except (InvalidInput, NotFound):  # a model no longer valid for this subject: show the stored score
            explanation = None
    lists = [{**e, "list_name": names.list_name(e["list"]),
              "status_label": _label("list_status", e["status"], e["status"], lang)}
             for e in overview.list_entries_of(session, subject_id) if standing(e, as_of)]
    commitments = [commitments_service.as_dict(c) for c in commitments_service.of_subject(session, subject_id)]
    region = " / ".join(r["name"] for r in f.as_dict()["region"])
    local = [t("region_line", lang, region=region or "—")]
    local += [t("list_line", lang, name=e["list_name"], status=e["status_label"], on=e["published_on"] or "—")
              for e in lists if e["list"] not in SERIOUS_LISTS]
    local += extras.local_section(session, keyring, subject_id=subject_id, actor=actor, lang=lang)  # the credit code
    subj = f.as_dict()
    subj["display_name"] = subject_service.display_name(f.subject, masked=False)
    subj["personal"] = personal
    subj["kind_label"] = _label("subject_kind", subj["kind"], subj["kind"], lang)
    subj["industry_label"] = _label("industry", subj["industry"], subj["industry"], lang) if subj["industry"] else None
    received = received_rows(received_facts.evaluations(session, subject_id), lang)
    return ReportData(serial=f"CR{as_of:%Y%m%d}-{secrets.token_hex(6).upper()}", issued_at=clock.now(),
                      as_of=as_of, subject=subj, sections=sections, scores=scores, explanation=explanation, lists=lists,
                      commitments=commitments, advice=_advice(records, lists, scores, lang), local=local, lang=lang,
                      received=received)


def in_force(records: list[dict[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    """The credit file's records a report shows: public or shared class, and in force
    on `as_of` by the score explanation's rule (current version, occurred and published
    by then, publication period not ended, active that day)."""
    return [r for r in records if r["data_class"] in REPORT_CLASSES and file_exclusion(r, as_of) is None]


def standing(entry: dict[str, Any], as_of: dt.date) -> bool:
    """A list entry in force on `as_of`: published, taken effect, neither exited nor expired."""
    def day(v: str | None) -> dt.date | None:
        return dt.date.fromisoformat(v) if v else None

    pub, exp, ex = day(entry["published_on"]), day(entry["expires_on"]), day(entry["exited_on"])
    return (entry["status"] == "published" and pub is not None and pub <= as_of
            and (ex is None or ex > as_of) and (exp is None or exp > as_of))


def _label(kind: str, code: str | None, fallback: str | None, lang: str = "zh") -> str:
    """A code's label from the catalogue; `fallback` when the catalogue does not know it."""
    if code is None:
        return "—"
    text = labels.label(kind, code, lang)
    return text if text != code else (fallback or code)


def render_pdf(data: ReportData, verify_url: str) -> bytes:
    """The PDF bytes, in the data's language. Pure: the same data gives the same layout."""
    lang = data.lang
    font = fonts().main
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=base, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4,
                        textColor=colors.HexColor("#9b1c1c"))
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555"))

    def p(text: object, style: ParagraphStyle = base) -> Paragraph:
        return _p(text, style, lang)

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"{t('title', lang)} {data.serial}",
                            author=f"CreditGov {t('platform', lang)}",
                            subject=printable(data.subject["display_name"]))
    s = data.subject
    story: list[Any] = []
    qr = QrCodeWidget(verify_url)
    b = qr.getBounds()
    size = 30 * mm
    d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
    d.add(qr)
    head = Table([[[p(t("title", lang), h1), p(t("platform", lang), small),
                    p(f"{t('serial', lang)} {data.serial}"),
                    p(f"{t('issued', lang)} {clock.show(data.issued_at, lang)}　"
                      f"{t('as_of', lang)} {data.as_of.isoformat()}"),
                    p(f"{t('scan', lang)}{verify_url}", small)], d]],
                 colWidths=[135 * mm, 35 * mm])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [head, Spacer(1, 4 * mm)]
    ident = s["uscc"] or s["resident_id"] or "—"
    facts = [("name", s["display_name"]), ("kind", s["kind_label"]), ("ident", ident),
             ("region", " / ".join(r["name"] for r in s["region"]) or "—"), ("industry", s["industry_label"] or "—"),
             ("established", s["established_on"] or "—"), ("address", s["address"] or "—")]
    story.append(_table([[p(t(a, lang)), p(str(b_))] for a, b_ in facts], [50 * mm, 120 * mm]))
    none, open_ended = t("none", lang), t("open_ended", lang)

    def records_table(rows: list[dict[str, Any]]) -> Any:
        if not rows:
            return p(none)
        body = [[p(t(x, lang)) for x in ("date", "item", "department", "document", "status", "published_until")]]
        for r in rows:
            body.append([p(r["occurred_on"]), p(r["item_label"]), p(r["department_name"]),
                         p(r["document_no"] or r["grade"] or (r["value_display"] or {}).get(lang) or r["text"] or "—"),
                         p(r["status_label"]), p(r["published_until"] or open_ended)])
        return _table(body, [24 * mm, 37 * mm, 29 * mm, 41 * mm, 16 * mm, 23 * mm], header=True)

    for n, title in enumerate(SECTIONS, start=1):
        story.append(p(f"{n}. {section_title(title, lang)}", h2))
        if title == "严重失信主体名单":
            rows = [e for e in data.lists if e["list"] in SERIOUS_LISTS]
            story.append(p(none) if not rows else _table(
                [[p(t(x, lang)) for x in ("list", "status", "listed_on", "published_until", "decision_no")]] +
                [[p(str(v or "—")) for v in (e["list_name"], e["status_label"], e["published_on"],
                                              e["expires_on"] or open_ended, e["decision_no"])]
                 for e in rows], [40 * mm, 22 * mm, 28 * mm, 28 * mm, 52 * mm], header=True))
        elif title == "信用承诺":  # the commitment records, then the commitments signed: "None" when neither
            if data.sections[title] or not data.commitments:
                story.append(records_table(data.sections[title]))
            for c in data.commitments:
                story.append(p(t("commitment", lang, template=_label("commitment_template", c["template"],
                                                                     c["template"], lang),
                                 signed=c["signed_on"],
                                 status=_label("commitment_status", c["status"], c["status"], lang))))
        elif title == "信用评价":
            # Three sources: evaluation records of the catalogue (a tax credit grade …),
            # the platform's own scores and the upper platform's evaluations received by
            # the exchange. "None" only when all are empty.
            if data.sections[title] or not (data.scores or data.received):
                story.append(records_table(data.sections[title]))
            for sc in data.scores:
                story.append(p(t("score", lang, model=_label("model", sc["ref"], sc["ref"], lang), as_of=sc["as_of"],
                                 score=sc["score"], grade=sc["grade"], colour=_colour(sc["colour"], lang))))
            if data.explanation:
                story += explanation_story(data.explanation, base, small, lang)
            if data.received:
                story.append(p(t("received_heading", lang)))
                cols = ("platform", "as_of", "model", "grade", "score", "received_at")
                story.append(_table(
                    [[p(t(x, lang)) for x in ("evaluated_by", "evaluated_on", "model", "grade", "score_col",
                                              "received_at")]] +
                    [[p(r[c]) for c in cols] for r in data.received],
                    [32 * mm, 24 * mm, 36 * mm, 28 * mm, 16 * mm, 34 * mm], header=True))
        elif title == "信用状况提升建议":
            for a in data.advice:
                story.append(p("· " + a))
        elif title == "地方补充内容":
            for line in data.local:
                story.append(p(line) if isinstance(line, str) else line)
        else:
            story.append(records_table(data.sections[title]))
    story += [Spacer(1, 6 * mm), p(t("footer", lang), small)]
    doc.build(story)
    return buf.getvalue()


def explanation_story(e: dict[str, Any], base: ParagraphStyle, small: ParagraphStyle,
                      lang: str = "zh") -> list[Any]:
    """The score explanation as the subject's own view shows it (`scoring.narrative`):
    the summary, the steps from the model's base, one sentence per indicator, and the
    notes on records counted twice."""
    out: list[Any] = [_p(t("explanation", lang) + e["summary"], base, lang),
                      _p(narrative.steps_line(e["waterfall"], e["score"], lang), base, lang)]
    rows = [[_p(t(x, lang), base, lang) for x in ("indicator", "points", "sentence")]]
    for it in e["items"] + e["bonuses"]:
        rows.append([_p(f"{it['dimension']} · {it['label']}" if it["dimension"] != it["label"] else it["label"], base,
                        lang),
                     _p(it["points_display"], base, lang), _p(it["sentence"], small, lang)])
    out.append(_table(rows, [40 * mm, 16 * mm, 114 * mm], header=True))
    out += [_p(t("note", lang) + n, small, lang) for n in e["notes"]]
    return out


def _colour(c: str, lang: str = "zh") -> str:
    pair = narrative.COLOURS.get(c)
    return c if pair is None else pair[1 if lang == "en" else 0]


def _p(text: object, style: ParagraphStyle, lang: str = "zh") -> Paragraph:
    """The report's only way to a paragraph: the text shown literally (`pdftext.markup`),
    at most `CELL_LIMIT` characters of it."""
    value = markup(text, limit=CELL_LIMIT, lang=lang)
    return Paragraph(value, style if _HAN.search(str(text)) else _latin(style))


# Text with Han characters wraps anywhere (CJK rules); text without breaks between
# words only, so a Latin word (`environment`) never breaks in its middle.
_HAN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@lru_cache(maxsize=32)
def _latin_style(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(style.name + "-latin", parent=style, wordWrap=None)


def _latin(style: ParagraphStyle) -> ParagraphStyle:
    return _latin_style(style)


def _table(rows: list[list[Any]], widths: list[float], header: bool = False) -> Table:
    # splitInRow: a row taller than what is left of a page (a narrow column of wide
    # text) continues on the next page instead of failing the report with a layout error.
    t = Table(rows, colWidths=widths, repeatRows=1 if header else 0, splitInRow=1)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3e8e8")))
    t.setStyle(TableStyle(style))
    return t


def issue(session: Session, keyring: KeyRing, *, subject_id: int, actor: str, purpose: str,
          verify_base: str, lang: str = "zh") -> tuple[bytes, CreditReport]:
    """Build, store and audit one report in `lang` (Chinese by default). `verify_base`
    is the public address the QR code points at (…/verify/); the report serial is appended."""
    data = gather(session, keyring, subject_id=subject_id, actor=actor, purpose=purpose, lang=lang)
    pdf = render_pdf(data, verify_base.rstrip("/") + "/" + data.serial)
    top = data.scores[0] if data.scores else None
    row = CreditReport(serial=data.serial, subject_id=subject_id, issued_at=data.issued_at, issued_to=actor,
                       purpose=purpose, sha256=hashlib.sha256(pdf).hexdigest(),
                       model=top["ref"] if top else None, grade=top["grade"] if top else None)
    session.add(row)
    session.flush()
    audit.append(session, action="report.download", actor=actor, subject_id=subject_id, purpose=purpose,
                 detail={"serial": data.serial, "sha256": row.sha256})
    return pdf, row


def register_document(session: Session, *, serial: str, subject_id: int, issued_to: str, purpose: str,
                      sha256: str | None, kind: str, ref: int) -> CreditReport:
    """Keep a printed document under its serial and its identity (`kind`, the document's
    kind code; `ref`, the id of what it is about), so the QR code on it is verified like
    a report's (`verify`, the public /verify page) and a reprint finds it
    (`issued_documents`)."""
    row = CreditReport(serial=serial, subject_id=subject_id, issued_at=clock.now(), issued_to=issued_to,
                       purpose=purpose[:200], sha256=sha256, kind=kind, ref=ref)
    session.add(row)
    return row


def issued_documents(session: Session, kind: str, refs: Iterable[int]) -> dict[tuple[int, int], str]:
    """The serial each document of `kind` about `refs` was first issued under, by
    (ref, subject): a document printed again is a copy of that one. Keyed by its subject
    too, so a document about a thing now of another subject is not given a number whose
    verification names the first."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    first: dict[tuple[int, int], str] = {}
    for ref, subject_id, serial in session.execute(
            select(CreditReport.ref, CreditReport.subject_id, CreditReport.serial)
            .where(CreditReport.kind == kind, CreditReport.ref.in_(wanted)).order_by(CreditReport.id)):
        first.setdefault((int(ref), int(subject_id)), serial)
    return first


def verify(session: Session, serial: str) -> dict[str, Any]:
    """What a verifier may learn from a serial: that it is genuine, when it was
    issued, about whom (a resident's name masked), the evaluation it states (the model
    named in `labels`, as the public page shows it) and the digest of its bytes."""
    row = session.execute(select(CreditReport).where(CreditReport.serial == serial)).scalar()
    if row is None:
        raise NotFound(f"no credit report {serial!r} was issued by this platform")
    s = session.get(Subject, row.subject_id)
    assert s is not None
    personal = s.resident_id_index is not None
    return labels.annotate({"serial": row.serial, "genuine": True,
                            "issued_at": row.issued_at.isoformat(timespec="seconds"),
                            "subject": mask_name(s.name) if personal else s.name, "uscc": None if personal else s.uscc,
                            "model": row.model, "grade": row.grade, "sha256": row.sha256}, model="model", grade="grade")


def digest_matches(session: Session, serial: str, pdf: bytes) -> bool:
    row = session.execute(select(CreditReport).where(CreditReport.serial == serial)).scalar()
    if row is None:
        raise NotFound(f"no credit report {serial!r} was issued by this platform")
    return row.sha256 == hashlib.sha256(pdf).hexdigest()
