"""List notices (告知书) and list decisions (认定决定书) printed to PDF.

The documents' content is the lists domain's (`lists.documents`: party, facts, basis,
rights, deadline; decision number, period, exit conditions, remedies): this module
lays it out, Chinese first, one page-set per entry, with the office's seal image
(`seal.py`) and a QR code to the platform's verification page. Each printed document
gets a serial kept by the reports domain (`reports.service.register_document`) under
its kind and the id of what it is about, so the QR code is verified like a credit
report's and a reprint finds the serial it was first issued under. Every piece of
data goes into the PDF through `reports.pdftext.markup` (escaped, printable, each
character in a font that has it). A bulk run prints a whole batch — a list's entries
notified (or decided) on one day — as one PDF; every run is on the audit chain.

A document is dated by its own act, not by its printing (every date written out as
official documents write it, `core.clock.day_in_words`): a notice by the day the entry
was notified (`notified_on`, the day its reply window counts from), a decision by the
day it was decided (`approved_on`; an objection's or a repair's `decided_on`), an
inspection notice by the day the task was assigned. The moment of printing is shown
apart, labelled as such, under the verification line."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.clock import day_in_words
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.documents.seal import seal_png
from creditgov.lists import documents as list_documents
from creditgov.lists.models import CreditList, ListEntry
from creditgov.lists.queries import definition
from creditgov.reports import service as reports
from creditgov.reports.pdftext import fonts, markup
from creditgov.security import service as audit

KINDS = {"notice": ("信用名单列入告知书", "Notice before listing"),
         "decision": ("信用名单认定决定书", "Listing decision")}
MAX_ENTRIES = 2000


@dataclass(frozen=True)
class Printed:
    pdf: bytes
    serials: list[tuple[int, str]]   # (entry id, serial), in print order
    placeholder_seal: bool


def entries(session: Session, *, list_code: str, kind: str, on: dt.date | None = None,
            entry_ids: list[int] | None = None) -> list[ListEntry]:
    """The batch: a list's entries notified (`notice`) or decided (`decision`) — on day
    `on` when given — or the named entries, in id order."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if session.get(CreditList, list_code) is None:
        raise NotFound(f"list {list_code!r} not found", code="documents.list.not_found", params={"list": list_code})
    col = ListEntry.notified_on if kind == "notice" else ListEntry.approved_on
    q = select(ListEntry).where(ListEntry.list_code == list_code, col.is_not(None)).order_by(ListEntry.id)
    if on is not None:
        q = q.where(col == on)
    if entry_ids:
        q = q.where(ListEntry.id.in_(entry_ids))
    rows = list(session.execute(q.limit(MAX_ENTRIES + 1)).scalars())
    if len(rows) > MAX_ENTRIES:
        raise InvalidInput(f"more than {MAX_ENTRIES} documents in one run: narrow it by --on",
                           code="documents.batch.too_many", params={"max": MAX_ENTRIES})
    return rows


def _styles() -> dict[str, ParagraphStyle]:
    font = fonts().main
    base = ParagraphStyle("base", fontName=font, fontSize=11, leading=19, wordWrap="CJK", firstLineIndent=0)
    return {"base": base,
            "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=1, spaceAfter=4,
                                    textColor=colors.HexColor("#9b1c1c")),
            "sub": ParagraphStyle("sub", parent=base, fontSize=9, leading=13, alignment=1,
                                  textColor=colors.HexColor("#555555")),
            "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
            "right": ParagraphStyle("right", parent=base, alignment=2)}


def _p(text: object, style: ParagraphStyle, *, bold_label: str | None = None, limit: int | None = 4000) -> Paragraph:
    label = f"<b>{markup(bold_label)}</b>" if bold_label else ""
    return Paragraph(label + markup(text, limit=limit), style)


def _qr(url: str) -> Drawing:
    qr = QrCodeWidget(url)
    b = qr.getBounds()
    size = 26 * mm
    d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
    d.add(qr)
    return d


def _body(kind: str, doc: dict[str, Any], entry: ListEntry) -> list[tuple[str, str]]:
    p = doc["party"]
    party = f"{p['name']}（{p['code'] or '—'}）"
    if p["legal_representative"]:
        party += f"；法定代表人（负责人）：{p['legal_representative']}"
    if kind == "notice":
        return [("当事人：", party),
                ("", f"经核查，本机关拟将你（单位）列入《{doc['list']}》。现将有关事项告知如下："),
                ("一、事实：", doc["facts"]), ("二、依据：", doc["basis"]),
                ("三、认定单位：", doc["identifying_unit"]),
                ("四、权利：", f"你（单位）有权在{day_in_words(entry.response_due, 'zh')}（含当日）前向认定单位提出陈述和申辩，"
                             "逾期未提出的，视为放弃陈述和申辩的权利。"),
                ("五、救济：", list_documents.REMEDIES)]
    period = (f"自公示之日起 {doc['publication_months']} 个月" if doc["publication_months"] else "不设公示期限")
    heard = doc["representation"] or "当事人未在期限内提出陈述和申辩。"
    return [("当事人：", party), ("决定书文号：", doc["decision_no"] or "—"),
            ("", f"{doc['identifying_unit']}决定将你（单位）列入《{doc['list']}》。"),
            ("一、事实：", doc["facts"]), ("二、依据：", doc["basis"]), ("三、陈述申辩：", heard),
            ("四、公示期限：", period), ("五、移出条件：", "；".join(doc["exit"]) or "—"),
            ("六、救济：", doc["remedies"])]


@dataclass(frozen=True)
class Doc:
    """One document ready to print: what the page says, about whom, from whom."""

    ref: int                       # the entry's (objection's, repair's) id
    subject_id: int
    title_zh: str
    title_en: str
    unit: str
    body: list[tuple[str, str]]
    dated: dt.date                 # the act's own day (notified, decided, assigned): the date signed
    unit_en: str = ""              # the issuing unit in English (what sending it says in English)


def list_docs(session: Session, rows: list[ListEntry], kind: str) -> list[Doc]:
    out: list[Doc] = []
    defs: dict[str, Any] = {}
    title_zh, title_en = KINDS[kind]
    for e in rows:
        d = defs.setdefault(e.list_code, definition(session, e.list_code))
        data = (list_documents.notice(session, e, d) if kind == "notice"
                else list_documents.decision(session, e, d, e.publication_months))
        dated = e.notified_on if kind == "notice" else e.approved_on
        assert dated is not None  # `entries` keeps the notified (decided) entries only
        out.append(Doc(e.id, e.subject_id, title_zh, title_en, data["identifying_unit"], _body(kind, data, e), dated,
                       data.get("identifying_unit_en") or data["identifying_unit"]))
    return out


def render(session: Session, docs: list[Doc], *, kind: str, verify_base: str, actor: str,
           new_service: bool = False) -> Printed:
    """One PDF for the batch, each document on its own page(s); each registered under
    its serial for verification. A document printed again keeps the serial it was first
    issued under (a copy); `new_service` (`sending.send`: serving it again is a second
    service) gives it a new one."""
    if not docs:
        raise NotFound("no documents in this batch", code="documents.batch.empty")
    st = _styles()
    seal, is_placeholder = seal_png()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=18 * mm, title=f"{docs[0].title_zh}（{len(docs)} 份）",
                            author="CreditGov 基层信用智治平台")
    story: list[Any] = []
    serials: list[tuple[int, str]] = []
    today = clock.today()
    cst = clock.to_cst(clock.now())
    printed_at = f"{day_in_words(cst.date(), 'zh')} {cst:%H:%M}（北京时间）"
    # A document keeps its number: printed again, it is a copy of the one issued first
    # (the serial registered for its kind and reference), not a new document.
    issued = {} if new_service else reports.issued_documents(session, kind, [dd.ref for dd in docs])
    for i, dd in enumerate(docs):
        serial = issued.get((dd.ref, dd.subject_id)) or f"WS{today:%Y%m%d}-{secrets.token_hex(6).upper()}"
        url = verify_base.rstrip("/") + "/" + serial
        if i:
            story.append(PageBreak())
        story += [_p(dd.unit, st["sub"]), _p(dd.title_zh, st["title"]),
                  _p(f"{dd.title_en} · 文书编号 {serial}", st["sub"]), Spacer(1, 6 * mm)]
        for label, text in dd.body:
            story.append(_p(text, st["base"], bold_label=label or None))
            story.append(Spacer(1, 2 * mm))
        seal_img = Image(io.BytesIO(seal), width=38 * mm, height=38 * mm)
        sign = [_p(dd.unit, st["right"]), _p(day_in_words(dd.dated, "zh"), st["right"])]   # the date signed
        if is_placeholder:
            sign.append(_p("（样章 SPECIMEN：未配置正式印章图像，本件不具效力）", st["small"]))
        foot = Table([[_qr(url), sign, seal_img]], colWidths=[32 * mm, 76 * mm, 40 * mm])
        foot.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story += [Spacer(1, 8 * mm), foot, _p(f"扫码或访问 {url} 核验本文书真伪。打印时间：{printed_at}", st["small"])]
        serials.append((dd.ref, serial))
    doc.build(story)
    pdf = buf.getvalue()
    digest = hashlib.sha256(pdf).hexdigest()
    for (_ref, serial), dd in zip(serials, docs, strict=True):
        if (dd.ref, dd.subject_id) not in issued:
            reports.register_document(session, serial=serial, subject_id=dd.subject_id, issued_to=actor,
                                      purpose=f"{dd.title_zh} {kind} {dd.ref}", sha256=None, kind=kind, ref=dd.ref)
    session.flush()
    audit.append(session, action="documents.print", actor=actor,
                 detail={"kind": kind, "refs": [x[0] for x in serials], "serials": [x[1] for x in serials],
                         "sha256": digest, "placeholder_seal": is_placeholder})
    return Printed(pdf, serials, is_placeholder)


def print_batch(session: Session, *, list_code: str, kind: str, verify_base: str, on: dt.date | None = None,
                entry_ids: list[int] | None = None, actor: str | None = None) -> Printed:
    actor = actor or audit.default_actor()
    rows = entries(session, list_code=list_code, kind=kind, on=on, entry_ids=entry_ids)
    return render(session, list_docs(session, rows, kind), kind=kind, verify_base=verify_base, actor=actor)
