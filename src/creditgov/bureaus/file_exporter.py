"""The shipped exporter: one file per run in a folder the bureau collects from.

`pbc-crc-000003.jsonl` (or `.csv`) and beside it `pbc-crc-000003.manifest.json` (the
format, the run, how many records and subjects, the file's size and SHA-256). Each is
written to a temporary file in the same folder, flushed to disk and renamed into place,
the manifest last: a reader that sees a manifest sees the whole file it describes, and
a process killed midway leaves at most a `.tmp-*.part` file, never a half file under a
run's name. Folder 0700, files 0600 (they carry identifiers).

JSON Lines: one JSON object per line, UTF-8, `\\n` between lines; every character a
reader might take for a line break (U+0085, U+2028, U+2029, and the control characters
JSON escapes anyway) is written escaped, so a line is always one record. CSV: RFC 4180,
UTF-8, a header row, every field quoted, CRLF between rows (a line break inside a
value stays inside its quotes). docs/bureaus.md."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from creditgov.bureaus.exporters import FIELDS, DeliveryError, Exporter, ExporterSettings, RunFile
from creditgov.core.files import private_dir

# Characters str.splitlines() and some JSON Lines readers break lines at that JSON
# itself does not escape.
_LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class FileSettings(ExporterSettings):
    folder: str = Field(min_length=1, max_length=500, description="absolute, or relative to the export folder")
    format: Literal["jsonl", "csv"] = "jsonl"


def json_line(row: dict[str, Any]) -> str:
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in _LINE_BREAKS.items():
        text = text.replace(ch, esc)
    return text


def write_atomically(path: Path, data: bytes) -> None:
    """A temporary file in the same folder, flushed, then renamed over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileExporter(Exporter):
    Settings = FileSettings
    settings: FileSettings

    @property
    def folder(self) -> Path:
        p = Path(self.settings.folder)
        return p if p.is_absolute() else self.base / p

    def format_name(self) -> str:
        return f"creditgov.bureau/1+{self.settings.format}"

    def file_name(self, seq: int) -> str:
        return f"{self.bureau}-{seq:06d}.{self.settings.format}"

    def render(self, rows: list[dict[str, Any]]) -> bytes:
        if self.settings.format == "jsonl":
            return "".join(json_line({k: r[k] for k in FIELDS}) + "\n" for r in rows).encode("utf-8")
        buf = io.StringIO(newline="")
        w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(FIELDS)
        for r in rows:
            w.writerow(["" if r[k] is None else r[k] for k in FIELDS])
        return buf.getvalue().encode("utf-8")

    def deliver(self, run: RunFile) -> str:
        target = self.folder / run.file_name
        manifest = json.dumps(run.manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        try:
            private_dir(self.folder)
            write_atomically(target, run.content)
            write_atomically(self.folder / f"{target.stem}.manifest.json", manifest.encode("utf-8"))
        except OSError as exc:
            raise DeliveryError(f"bureau {run.bureau}: run {run.seq} not written to {self.folder}: {exc}") from exc
        return str(target)
