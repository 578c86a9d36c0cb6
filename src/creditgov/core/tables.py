"""Tables written as Excel or CSV (issue 19), shared by the pages' downloads
(`web/exports.py`, streamed to the reader) and the commands' `--out FILE` (written by
the file's suffix). The caller builds the rows with its reader's scope, masking and
labels; this module only writes them, and knows no domain.

CSV is UTF-8 with a byte-order mark (so Excel reads the Chinese), produced row by row.
A workbook cannot be written piecewise (it is a zip whose directory comes last), so it
is written row by row by openpyxl's write-only workbook to a spooled temporary file (in
memory up to 8 MB, then on disk) and read back in 64 KB chunks. A CSV cell starting
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe (no formula
runs when a spreadsheet opens the file); in the workbook every cell is a typed value,
never a formula, and a control character XML cannot hold is written as U+FFFD."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from creditgov.core.errors import InvalidInput

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 1 << 16


def _csv_cell(v: Any) -> str:
    s = "" if v is None else str(v)
    return "'" + s if s.startswith(_FORMULA) else s


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The table as CSV, one chunk per row (the first with the byte-order mark)."""
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
    if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v):
        # XML 1.0 cannot hold most control characters: each becomes U+FFFD, visibly.
        v = ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)
    if isinstance(v, str) and v.startswith("="):
        # Stored as a string: openpyxl writes a str starting with "=" as a formula.
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        return c
    return v


def xlsx_chunks(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The table as one worksheet named `title` (cut to Excel's 31 characters)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title(title))
    ws.append(list(header))
    for row in rows:
        ws.append([_xlsx_cell(ws, v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as f:
        wb.save(f)
        f.seek(0)
        while chunk := f.read(_CHUNK):
            yield chunk


def sheet_title(title: str) -> str:
    """A sheet's name from a title: Excel refuses some characters and more than 31."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)
    return clean[:31] or "export"


def chunks(fmt: str, *, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    if fmt not in FORMATS:
        raise InvalidInput(f"export as one of {', '.join(FORMATS)}, not {fmt!r}")
    return xlsx_chunks(title, header, rows) if fmt == "xlsx" else csv_chunks(header, rows)


def format_of(path: Path) -> str:
    """`xlsx` or `csv` by the file's suffix; anything else is refused before any work."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInput(f"--out needs a .xlsx or .csv file, not {path.name!r}")
    return fmt


def write_file(path: Path, *, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Writes the table to `path` (.xlsx or .csv by its suffix); returns the rows written."""
    fmt = format_of(path)
    n = 0

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal n
        for row in rows:
            n += 1
            yield row

    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks(fmt, title=title, header=header, rows=counted()):
                f.write(chunk)
        tmp.replace(path)  # a half-written file never carries the final name
    finally:
        tmp.unlink(missing_ok=True)
    return n
