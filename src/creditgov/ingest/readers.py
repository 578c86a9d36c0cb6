"""Readers turn a source file into (line number, raw row) pairs of strings."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import NoReturn

from creditgov.core.errors import InvalidInput
from creditgov.ingest.schemas import SourceSpec

RawRow = dict[str, str]


@dataclass
class Chunk:
    """Consecutive rows of one file. Tabular files (CSV, XLSX) give `header` and rows as
    lists of strings in header order, exactly as long as the header; JSON lines, and
    tabular files whose header repeats a name, give rows as dicts (header None)."""

    header: list[str] | None
    lines: list[int]
    rows: list[list[str]] | list[RawRow]


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_rows(spec: SourceSpec, path: Path) -> Iterator[tuple[int, RawRow]]:
    if spec.format == "csv":
        yield from _csv(spec, path)
    elif spec.format == "jsonl":
        yield from _jsonl(spec, path)
    else:
        yield from _xlsx(spec, path)


def read_chunks(spec: SourceSpec, path: Path, size: int = 5000) -> Iterator[Chunk]:
    """The file in chunks of `size` rows, without building a dict per row where the
    format allows (see `Chunk`). The same rows and line numbers as `read_rows`."""
    if spec.format == "jsonl":
        it = _jsonl(spec, path)
        for part in iter(lambda: list(islice(it, size)), []):
            yield Chunk(None, [ln for ln, _ in part], [r for _, r in part])
        return
    header, parts = _csv_lists(spec, path, size) if spec.format == "csv" else _xlsx_lists(spec, path, size)
    if header is None:
        return
    if len(set(header)) != len(header):  # a repeated column name: keep the dict semantics
        for lines, rows in parts:
            yield Chunk(None, lines, [dict(zip(header, r, strict=False)) for r in rows])
        return
    for lines, rows in parts:
        if rows:
            yield Chunk(header, lines, rows)


_Parts = Iterator[tuple[list[int], list[list[str]]]]


def _csv_lists(spec: SourceSpec, path: Path, size: int) -> tuple[list[str] | None, _Parts]:
    fh = path.open("r", encoding=spec.encoding, newline="", errors="strict")
    reader = csv.reader(fh, delimiter=spec.delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        _check_header(spec, path, header)
    except StopIteration:
        fh.close()
        return None, iter(())
    except UnicodeDecodeError as exc:
        fh.close()
        _undecodable(spec, path, exc)
    except csv.Error as exc:
        fh.close()
        _unreadable(path, exc)
    except BaseException:
        fh.close()
        raise
    n = len(header)

    def parts() -> _Parts:
        line = 2  # of the first record after the header; empty records count, as in read_rows
        with fh:
            try:
                for part in iter(lambda: list(islice(reader, size)), []):
                    first, line = line, line + len(part)
                    if min(map(len, part)) == n == max(map(len, part)):  # the usual case: no per-row work
                        yield list(range(first, line)), part
                        continue
                    lines, rows = [], []
                    for ln, row in enumerate(part, start=first):
                        if not row:
                            continue
                        k = len(row)
                        if k != n:  # short rows are padded; extra cells are not part of the row
                            row = row[:n] if k > n else row + [""] * (n - k)
                        lines.append(ln)
                        rows.append(row)
                    yield lines, rows
            except UnicodeDecodeError as exc:
                _undecodable(spec, path, exc)
            except csv.Error as exc:
                _unreadable(path, exc)

    return header, parts()


def _xlsx_lists(spec: SourceSpec, path: Path, size: int) -> tuple[list[str] | None, _Parts]:
    it = _xlsx_raw(spec, path)
    try:
        header = [_cell(h).strip() for h in next(it)]
    except StopIteration:
        return None, iter(())
    _check_header(spec, path, header)
    n = len(header)

    def body() -> Iterator[tuple[int, list[str]]]:
        for line, values in enumerate(it, start=2):
            if all(v == "" or v is None for v in values):
                continue
            row = [_cell(v) for v in values[:n]]
            if len(row) < n:  # calamine gives rectangular ranges; padded all the same
                row += [""] * (n - len(row))
            yield line, row

    rows = body()

    def parts() -> _Parts:
        for part in iter(lambda: list(islice(rows, size)), []):
            yield [ln for ln, _ in part], [r for _, r in part]

    return header, parts()


def _csv(spec: SourceSpec, path: Path) -> Iterator[tuple[int, RawRow]]:
    with path.open("r", encoding=spec.encoding, newline="", errors="strict") as fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            _undecodable(spec, path, exc)
        except csv.Error as exc:
            _unreadable(path, exc)
        _check_header(spec, path, header)
        n = len(header)
        try:
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) < n:
                    row = row + [""] * (n - len(row))
                yield line, dict(zip(header, row, strict=False))
        except UnicodeDecodeError as exc:
            _undecodable(spec, path, exc)
        except csv.Error as exc:
            _unreadable(path, exc)


def _jsonl(spec: SourceSpec, path: Path) -> Iterator[tuple[int, RawRow]]:
    checked = False
    with path.open("r", encoding=spec.encoding) as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                # A malformed line is a bad row, kept with its reason, not a failed run.
                yield line, {"__unparsed__": text.rstrip("\n"), "__error__": f"malformed JSON line: {exc}"}
                continue
            row = {k: _cell(v) for k, v in obj.items()}
            if not checked:
                _check_header(spec, path, list(row))
                checked = True
            yield line, row


def _xlsx_raw(spec: SourceSpec, path: Path) -> Iterator[Sequence[object]]:
    # calamine (Rust) reads a sheet an order of magnitude faster than openpyxl.
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_name(spec.sheet) if spec.sheet else wb.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for unreadable workbooks
        raise InvalidInput(f"{path.name}: not a readable XLSX workbook ({exc})", code="ingest.file.not_xlsx",
                           params={"file": path.name}) from None
    return iter(sheet.iter_rows())


def _xlsx(spec: SourceSpec, path: Path) -> Iterator[tuple[int, RawRow]]:
    rows = _xlsx_raw(spec, path)
    try:
        header = [_cell(h).strip() for h in next(rows)]
    except StopIteration:
        return
    _check_header(spec, path, header)
    for line, values in enumerate(rows, start=2):
        if all(v == "" or v is None for v in values):
            continue
        yield line, {h: _cell(v) for h, v in zip(header, values, strict=False)}


def _check_header(spec: SourceSpec, path: Path, header: list[str]) -> None:
    wanted = set(spec.columns.values()) | set(spec.attributes.values())
    missing = sorted(wanted - set(header))
    if missing:
        raise InvalidInput(f"{path.name}: columns {missing} named by spec {spec.name} are not in the file",
                           code="ingest.file.missing_columns", params={"file": path.name, "columns": ", ".join(missing)})


def _undecodable(spec: SourceSpec, path: Path, exc: UnicodeDecodeError) -> NoReturn:
    raise InvalidInput(f"{path.name}: cannot decode as {spec.encoding}: {exc.reason}",
                       code="ingest.file.undecodable", params={"file": path.name, "encoding": spec.encoding}) from None


def _unreadable(path: Path, exc: csv.Error) -> NoReturn:
    """A CSV file the reader cannot split into rows (a field longer than the reader's
    limit, a NUL byte where the reader refuses one): the file is refused whole."""
    raise InvalidInput(f"{path.name}: not a readable CSV file ({exc})", code="ingest.file.not_csv",
                       params={"file": path.name}) from None
