"""Table exports for the pages (issue 19): the rows a page shows, as Excel (openpyxl's
write-only workbook) or CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese),
streamed to the reader. The caller builds the rows with the same scope and masking as
the page; this module only writes them.

A CSV is produced row by row as the response is sent. A workbook cannot be written
piecewise to the network (it is a zip whose directory comes last), so it is written
row by row to a spooled temporary file (in memory up to 8 MB, then on disk) and then
sent in 64 KB chunks. A cell starting with `=`, `+`, `-` or `@` is written as text with
a leading apostrophe in CSV (no formula runs when a spreadsheet opens the file); in the
workbook every cell is a typed value, never a formula."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 1 << 16


def _csv_cell(v: Any) -> str:
    s = "" if v is None else str(v)
    return "'" + s if s.startswith(_FORMULA) else s


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    for row in rows:
        buf.seek(0)
        buf.truncate()
        w.writerow([_csv_cell(v) for v in row])
        yield buf.getvalue().encode("utf-8")


def _xlsx_cell(ws: Any, v: Any) -> Any:
    if isinstance(v, str) and v.startswith("="):
        # Stored as a string: openpyxl writes a str starting with "=" as a formula.
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        return c
    return v


def _xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "export")
    ws.append(list(header))
    for row in rows:
        ws.append([_xlsx_cell(ws, v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as f:
        wb.save(f)
        f.seek(0)
        while chunk := f.read(_CHUNK):
            yield chunk


def stream(fmt: str, *, filename: str, title: str, header: Sequence[str],
           rows: Iterable[Sequence[Any]]) -> StreamingResponse:
    """The rows as a download named `filename`.`fmt` (`xlsx` or `csv`)."""
    body = _xlsx(title, header, rows) if fmt == "xlsx" else _csv(header, rows)
    name = f"{filename}.{fmt}"
    disposition = f"attachment; filename=\"{name.encode('ascii', 'replace').decode()}\"; " \
                  f"filename*=UTF-8''{quote(name)}"
    return StreamingResponse(body, media_type=FORMATS[fmt], headers={"Content-Disposition": disposition})
