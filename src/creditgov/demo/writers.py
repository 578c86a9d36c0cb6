"""The file writers: a streaming xlsx writer, and the sink that writes one data file (csv,
jsonl or xlsx) and inserts and counts its dirt.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditgov.demo.draw import _break
from creditgov.demo.ids import _RIC_ALPHABET, _USCC_ALPHABET

if TYPE_CHECKING:
    from creditgov.demo.context import _Ctx


# Dirt rates (per row of a records file).
BAD_ID_RATE = 0.01
FULLWIDTH_RATE = 0.005
DUP_RATE = 0.005

_FW = str.maketrans("0123456789", "０１２３４５６７８９")


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>'),
}
_XLSX_COLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _xml(s: str) -> str:
    if "&" in s or "<" in s or ">" in s:
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s


class _XlsxWriter:
    """A minimal streaming .xlsx writer: one sheet, inline strings, fixed zip timestamps.

    Why not openpyxl: without lxml its write-only mode manages about 5,000 rows a second
    (the household roll has 550,000 rows at a million subjects), and it stamps the current
    time into the package, which would break byte-identical output. openpyxl and Excel
    both read what this writes.
    """

    def __init__(self, path: Path, sheet: str, stamp: dt.date) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self._stamp = (stamp.year, stamp.month, stamp.day, 0, 0, 0)
        workbook = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{_xml(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        for name, text in (*_XLSX_PARTS.items(), ("xl/workbook.xml", workbook)):
            self._zip.writestr(self._info(name), text.encode("utf-8"))
        self._fh = self._zip.open(self._info("xl/worksheets/sheet1.xml"), "w")
        self._buf: list[str] = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
        self._r = 0

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def append(self, values: Sequence[Any]) -> None:
        self._r += 1
        r = str(self._r)
        out = [f'<row r="{r}">']
        for col, v in zip(_XLSX_COLS, values, strict=False):
            kind = type(v)
            if v is None or v == "":
                continue
            if kind is int or kind is float:
                out.append(f'<c r="{col}{r}"><v>{v}</v></c>')
                continue
            s = _xml(v if kind is str else str(v))
            t = "<t>" if s == s.strip() else '<t xml:space="preserve">'
            out.append(f'<c r="{col}{r}" t="inlineStr"><is>{t}{s}</t></is></c>')
        out.append("</row>")
        self._buf.append("".join(out))
        if len(self._buf) >= 4000:
            self._fh.write("".join(self._buf).encode("utf-8"))
            self._buf.clear()

    def close(self) -> None:
        self._buf.append("</sheetData></worksheet>")
        self._fh.write("".join(self._buf).encode("utf-8"))
        self._fh.close()
        self._zip.close()


class _Sink:
    """One data file being written, with its dirt counters.

    The dirt lives here so every file counts what it inserted: the counts come back in
    the summary and tests (or a demo) can compare them with what ingestion rejected.
    """

    def __init__(self, ctx: _Ctx, file: str, fmt: str, header: Sequence[str], *,
                 encoding: str = "utf-8", sheet: str | None = None, newline: str = "\n",
                 bad: bool = True, fullwidth: bool = True, dup: bool = True) -> None:
        self.ctx, self.file = ctx, file
        self.rng = ctx.rng(f"dirt:{file}")
        self.bad_rate = BAD_ID_RATE if bad else 0.0
        self.fw_rate = FULLWIDTH_RATE if fullwidth else 0.0
        self.id_cut = self.bad_rate + self.fw_rate
        self.dup_rate = DUP_RATE if dup else 0.0
        self.rows = self.dups = self.bad = self.fw_ids = self.fw_amounts = 0
        self.extra: dict[str, int] = {}
        self._next = 250_000
        path = ctx.data / file
        self._fh: Any = None
        self._xlsx: _XlsxWriter | None = None
        if fmt == "csv":
            self._fh = open(path, "w", encoding=encoding, newline="")  # noqa: SIM115 - closed in close()
            w = csv.writer(self._fh, lineterminator=newline)
            w.writerow(header)
            self._emit: Callable[[Sequence[Any]], Any] = w.writerow
        elif fmt == "jsonl":
            self._fh = open(path, "w", encoding=encoding, newline="\n")  # noqa: SIM115
            # One encoder for the file: json.dumps with arguments builds a new one per call.
            keys, write = tuple(header), self._fh.write
            encode = json.JSONEncoder(ensure_ascii=False).encode

            def emit(values: Sequence[Any]) -> None:
                write(encode(dict(zip(keys, values, strict=True))) + "\n")
            self._emit = emit
        elif fmt == "xlsx":
            self._xlsx = _XlsxWriter(path, sheet or "Sheet1", ctx.as_of)
            self._xlsx.append(header)
            self._emit = self._xlsx.append
        else:  # pragma: no cover - programming error
            raise ValueError(fmt)

    def uscc(self, code: str) -> str:
        return self._ident(code, _USCC_ALPHABET)

    def rid(self, code: str) -> str:
        return self._ident(code, _RIC_ALPHABET)

    def _ident(self, code: str, alphabet: str) -> str:
        u = self.rng.random()
        return code if u >= self.id_cut else self.dirty(code, u, alphabet)

    def dirty(self, code: str, u: float, alphabet: str) -> str:
        """The rare path of `_ident` (u < id_cut), split out for hot loops that inline the draw."""
        if u < self.bad_rate:
            self.bad += 1
            return _break(code, alphabet, self.rng)
        self.fw_ids += 1
        return code.translate(_FW)

    def amount(self, text: str) -> str:
        if self.fw_rate and self.rng.random() < self.fw_rate:
            return self.fullwidth(text)
        return text

    def fullwidth(self, text: str) -> str:
        self.fw_amounts += 1
        return text.translate(_FW)

    def tick(self, n: int) -> None:
        """Count n rows a hot loop emitted itself."""
        self.rows += n
        if self.rows >= self._next:
            self._next += 250_000
            self.ctx.say(self.file, self.rows)

    def count(self, what: str, n: int = 1) -> None:
        self.extra[what] = self.extra.get(what, 0) + n

    def row(self, values: Sequence[Any]) -> None:
        self._emit(values)
        self.rows += 1
        if self.dup_rate and self.rng.random() < self.dup_rate:
            self._emit(values)
            self.rows += 1
            self.dups += 1
        if self.rows >= self._next:
            self._next += 250_000
            self.ctx.say(self.file, self.rows)

    def close(self) -> None:
        if self._xlsx is not None:
            self._xlsx.close()
        else:
            self._fh.close()
        counts = {"rows": self.rows, "duplicate_rows": self.dups, "bad_identifiers": self.bad,
                  "fullwidth_identifiers": self.fw_ids, "fullwidth_amounts": self.fw_amounts, **self.extra}
        self.ctx.files[self.file] = counts
        self.ctx.say(self.file, self.rows)
