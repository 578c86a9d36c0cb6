"""Table exports for the pages (issue 19): the rows a page shows, as Excel (openpyxl's
write-only workbook) or CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese),
streamed to the reader. The caller builds the rows with the same scope and masking as
the page; the writing itself (and why no cell becomes a formula) is `core.tables`,
which the commands' `--out FILE` share.

A CSV is produced row by row as the response is sent; a workbook is written row by row
to a spooled temporary file and then sent in 64 KB chunks. When the caller knows how
many rows it sends (`count`), the response says so in `X-Row-Count`, so a client can
show progress against the rows arriving (CSV: one line per row)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from creditgov.core import tables
from creditgov.core.tables import FORMATS

_csv = tables.csv_chunks
_xlsx = tables.xlsx_chunks
FMT = "^(xlsx|csv)$"  # the path pattern of an export's format

__all__ = ["FMT", "FORMATS", "stream"]


def stream(fmt: str, *, filename: str, title: str, header: Sequence[str],
           rows: Iterable[Sequence[Any]], count: int | None = None) -> StreamingResponse:
    """The rows as a download named `filename`.`fmt` (`xlsx` or `csv`)."""
    body = tables.chunks(fmt, title=title, header=header, rows=rows)
    name = f"{filename}.{fmt}"
    headers = {"Content-Disposition": f"attachment; filename=\"{name.encode('ascii', 'replace').decode()}\"; "
                                      f"filename*=UTF-8''{quote(name)}"}
    if count is not None:
        headers["X-Row-Count"] = str(count)
    return StreamingResponse(body, media_type=FORMATS[fmt], headers=headers)
