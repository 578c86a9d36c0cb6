"""Readers turn a source file into (line number, raw row) pairs of strings."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

from creditgov.core.errors import InvalidInput
from creditgov.ingest.schemas import SourceSpec

RawRow = dict[str, str]


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


def _csv(spec: SourceSpec, path: Path) -> Iterator[tuple[int, RawRow]]:
    with path.open("r", encoding=spec.encoding, newline="", errors="strict") as fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path.name}: cannot decode as {spec.encoding}: {exc.reason}") from None
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
            raise InvalidInput(f"{path.name}: cannot decode as {spec.encoding}: {exc.reason}") from None


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


def _xlsx(spec: SourceSpec, path: Path) -> Iterator[tuple[int, RawRow]]:
    # calamine (Rust) reads a sheet an order of magnitude faster than openpyxl.
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_name(spec.sheet) if spec.sheet else wb.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for unreadable workbooks
        raise InvalidInput(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    rows = sheet.iter_rows()
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
        raise InvalidInput(f"{path.name}: columns {missing} named by spec {spec.name} are not in the file")
