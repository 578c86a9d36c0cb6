"""A statistics form as the files the upper authority asks for: an Excel workbook (one
sheet per table, openpyxl) and a PDF (reportlab), both in the reader's language.

Names in the tables are data (a department or street may be called anything), so:
in the workbook every cell is a typed value and a text starting with `=` is stored as
text, never a formula, and characters an .xlsx cannot hold (C0 controls) are dropped;
in the PDF every piece of text goes through `reports.pdftext.markup` (escaped,
printable, each character in a font that has it), as the credit report's does."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from creditgov.core import clock
from creditgov.core.tables import sheet_title
from creditgov.reports.pdftext import fonts, markup

WORDS = {"title": ("信用工作统计报表", "Credit work statistics form"), "name": ("名称", "Name"),
         "code": ("代码", "Code"), "total": ("合计", "Total"), "period": ("统计期间", "Period"),
         "generated": ("生成时间", "Generated"), "scoped": ("仅含本人数据范围内的主体", "Subjects in your data scope only")}


def word(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return en if lang == "en" else zh


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("", v)
    return v


def rows_of(table: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """A table as a header and rows of plain values (the last row the total)."""
    header = [word("code", lang), word("name", lang), *(c[lang] for c in table["columns"])]
    keys = [c["key"] for c in table["columns"]]
    body: list[list[Any]] = [[r["key"], r["name"][lang], *(r["values"][k] for k in keys)] for r in table["rows"]]
    body.append(["", word("total", lang), *(table["total"][k] for k in keys)])
    return header, body


def workbook(form: dict[str, Any], lang: str = "zh") -> bytes:
    wb = Workbook()
    for first in list(wb.worksheets):   # a new workbook comes with an empty first sheet
        wb.remove(first)
    for t in form["tables"]:
        ws = wb.create_sheet(title=sheet_title(t["title"][lang]))
        ws.append([_cell(t["title"][lang]), _cell(form["period"]["label"][lang])])
        header, body = rows_of(t, lang)
        for row in (header, *body):
            ws.append([_cell(v) for v in row])
            for c in ws[ws.max_row]:
                if isinstance(c.value, str) and c.value.startswith("="):
                    c.data_type = "s"   # text, not a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf(form: dict[str, Any], lang: str = "zh") -> bytes:
    f = fonts()
    h1 = ParagraphStyle("h1", fontName=f.main, fontSize=15, leading=20, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=f.main, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=3)
    body = ParagraphStyle("b", fontName=f.main, fontSize=8.5, leading=11)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=14 * mm, rightMargin=14 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=word("title", lang))
    period = form["period"]
    story: list[Any] = [
        Paragraph(markup(word("title", lang)), h1),
        Paragraph(markup(f"{word('period', lang)}: {period['label'][lang]} ({period['start']} – {period['last_day']}, "
                         f"{clock.CST_LABELS.get(lang, 'CST')})"), body),
        Paragraph(markup(f"{word('generated', lang)}: {clock.show(form['generated_at'], lang)}"), body)]
    if form.get("scoped"):
        story.append(Paragraph(markup(word("scoped", lang)), body))
    for t in form["tables"]:
        story.append(Paragraph(markup(t["title"][lang]), h2))
        header, rows = rows_of(t, lang)
        data = [[Paragraph(markup(v, limit=200), body) for v in header]]
        data += [[Paragraph(markup(v, limit=200), body) for v in row] for row in rows]
        width = doc.width
        first = [width * 0.14, width * 0.30]
        rest = (width - sum(first)) / max(1, len(header) - 2)
        tbl = Table(data, colWidths=[*first, *([rest] * (len(header) - 2))], repeatRows=1)
        tbl.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                                 ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [tbl, Spacer(1, 3 * mm)]
    doc.build(story)
    return buf.getvalue()
