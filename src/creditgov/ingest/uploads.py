"""A department's file sent through the pages or the API (数据报送): the officer chooses one
of the source specs its department supplies (the credit office any), and the file is
kept in the store's own files folder and ingested there and then through the same
service as `creditgov ingest` (`service.ingest_plans`): one batch in one transaction
with its records, quarantined rows and audit entry, nothing left of a file that fails,
the same file sent again adding nothing. The edges (`pages.py`, `views.py`) hand over
the file's name as sent and its bytes; this module knows no HTTP.

Where a file is kept: `<files folder>/ingest/<source>/<sha256>/<name>` — the folder
`workflows.materials.files_dir_for` names, made 0700 with files 0600 whatever the umask
(`core/files.py`); the name is the one sent without folders, control or direction
characters, at most 120 characters. A file whose ingestion fails is removed again
unless a batch already took the same bytes. A server killed between keeping the file and
committing its batch leaves the file without a batch: harmless, and sending it again
ingests it; one killed while the file arrived leaves a part under `ingest/.incoming/`,
removed by an upload a day later.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core.db import session_scope
from creditgov.core.errors import ConfigError, Conflict, InvalidInput, NotFound
from creditgov.core.files import private_dir
from creditgov.ingest import service
from creditgov.ingest.models import Batch, SpecVersion
from creditgov.ingest.schemas import SourceSpec
from creditgov.security import rotation
from creditgov.security.crypto import KeyRing

UPLOAD_MB_ENV = "CREDITGOV_INGEST_UPLOAD_MB"
DEFAULT_UPLOAD_MB = 50
FRAMING = 1 << 20  # the request's multipart framing and other fields, on top of the file
# What a file of each format may be called (its name's suffix, in any case).
SUFFIXES = {"csv": (".csv", ".txt"), "xlsx": (".xlsx",), "jsonl": (".jsonl", ".json")}
FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel (XLSX)", "jsonl": "JSON Lines"}
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}  # as standards name them
NAME_CHARS, NAME_BYTES = 120, 200  # a kept name (a file system's limit is 255 bytes)
_DROPPED = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # control, format (direction marks), surrogates, line breaks
STALE_SECONDS = 24 * 3600  # a half-written upload older than this was cut off, not still arriving


def upload_limit_mb() -> int:
    """The largest file one upload may be, in MB: `$CREDITGOV_INGEST_UPLOAD_MB`, else 50."""
    raw = os.environ.get(UPLOAD_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_UPLOAD_MB
    try:
        mb = int(raw)
    except ValueError:
        mb = 0
    if mb < 1:
        raise ConfigError(f"{UPLOAD_MB_ENV}={raw!r}: give the largest upload as a whole number of MB (1 or more)")
    return mb


def upload_limit() -> int:
    return upload_limit_mb() * 1024 * 1024


def request_ceiling() -> int:
    """What the upload routes accept as a whole request (`max_body_size`): the limit plus
    the form's framing. A file over the limit within it is refused in words; a request
    over it is cut off as it arrives (413) before anything is kept."""
    return upload_limit() + FRAMING


# ----------------------------------------------------------------------------- what may be sent


def _newest(session: Session) -> Iterator[tuple[SourceSpec, SpecVersion]]:
    newest: dict[str, SpecVersion] = {}
    for sv in session.execute(select(SpecVersion).order_by(SpecVersion.id)).scalars():
        newest[sv.name] = sv
    for sv in newest.values():
        try:
            yield service.spec_of_version(sv), sv
        except ConfigError:  # a text an older release accepted and this one does not: not offered
            continue


def sendable(session: Session, unit: str | None) -> list[tuple[SourceSpec, SpecVersion]]:
    """The sources an account may send files of, each by its newest registered spec
    version: its own department's (`unit`), or every one (None: the credit office), by
    department and name."""
    found = [(spec, sv) for spec, sv in _newest(session) if unit is None or spec.department == unit]
    return sorted(found, key=lambda p: (p[0].department, p[0].name))


def spec_to_send(session: Session, source: str, unit: str | None) -> tuple[SourceSpec, SpecVersion]:
    """The newest spec version of `source`, if the account may send its files: another
    department's source answers 404, as another department's batch does."""
    row = session.execute(select(SpecVersion).where(SpecVersion.name == source)
                          .order_by(SpecVersion.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no source spec {source!r} is registered", code="ingest.upload.unknown_spec",
                       params={"source": source})
    spec = service.spec_of_version(row)
    if unit is not None and spec.department != unit:
        raise NotFound(f"source {source!r} is sent by department {spec.department!r}, not yours",
                       code="ingest.upload.other_department", params={"department": spec.department})
    return spec, row


# ----------------------------------------------------------------------------- the file


def clean_name(name: str | None) -> str:
    """A sent file's name as it is kept and shown: no folders, no control, direction or
    line-break characters, no leading dots, at most 120 characters and 200 bytes (its
    suffix kept). A browser sends a name's double quote as `%22` and its line breaks as
    `%0A`/`%0D` (the HTML form encoding): the quote is given back, the breaks dropped."""
    base = (name or "").replace("%22", '"').replace("%0A", "").replace("%0D", "")
    base = base.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c) not in _DROPPED).strip().lstrip(".").strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or len(suffix) > 9:
        stem, dot, suffix = base, "", ""
    stem = stem[:max(0, NAME_CHARS - len(dot + suffix))]
    while stem and len((stem + dot + suffix).encode()) > NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip() + dot + suffix) if stem else "upload" + dot + suffix


def _check_format(spec: SourceSpec, name: str) -> None:
    allowed = SUFFIXES[spec.format]
    if Path(name).suffix.lower() not in allowed:
        raise InvalidInput(f"{name}: source {spec.name} takes {spec.format} files ({', '.join(allowed)})",
                           code="ingest.upload.wrong_format",
                           params={"file": name, "format": FORMAT_NAMES[spec.format], "suffixes": " ".join(allowed)})


def _sweep(incoming: Path) -> None:
    """Remove what uploads cut off by a killed server left half written (a day old)."""
    stale = time.time() - STALE_SECONDS
    for left in incoming.glob("upload-*"):
        try:
            if left.stat().st_mtime < stale:
                left.unlink()
        except FileNotFoundError:  # swept by another request meanwhile
            pass


def _keep(data: BinaryIO, name: str, source: str, files_dir: Path) -> tuple[Path, bool]:
    """The bytes written under the files folder by their SHA-256: (the kept file, whether
    this call made it). Refuses an empty file and one over the limit, keeping nothing."""
    limit_mb = upload_limit_mb()
    limit = limit_mb * 1024 * 1024
    incoming = private_dir(files_dir / "ingest" / ".incoming")
    _sweep(incoming)
    fd, tmp = tempfile.mkstemp(dir=incoming, prefix="upload-")  # created 0600
    try:
        h, size = hashlib.sha256(), 0
        if data.seekable():
            data.seek(0)
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(partial(data.read, 1 << 20), b""):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(f"{name} is larger than {limit_mb} MB", code="ingest.upload.too_large",
                                       params={"file": name, "mb": limit_mb})
                h.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput(f"{name} is empty", code="ingest.upload.empty", params={"file": name})
        path = private_dir(files_dir / "ingest" / source / h.hexdigest()) / name
        if path.exists():  # the same bytes under the same name: kept already
            os.unlink(tmp)
            return path, False
        os.replace(tmp, path)
        return path, True
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _forget(url: str, source: str, path: Path) -> None:
    """Remove a kept file whose ingestion failed, unless a batch of the source took the
    same bytes (another upload of the same file, at the same moment)."""
    with session_scope(url) as s:
        taken = s.execute(select(Batch.id).where(Batch.source == source, Batch.file_hash == path.parent.name)
                          .limit(1)).first()
    if taken is None:
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:  # another name for the same bytes is kept there
            pass


def ingest_upload(url: str, keyring: KeyRing, *, source: str, unit: str | None, filename: str | None,
                  data: BinaryIO, files_dir: Path, actor: str) -> dict[str, Any]:
    """Keep one sent file and ingest it as one batch through the newest spec version of
    `source`; returns the batch's summary (`batch`, `source`, `file` and its counts).
    `unit`: the department the sender is kept to (None: the credit office). Any refusal
    (another department's source, a file of the wrong format, empty or too large, missing
    columns, undecodable) leaves nothing: no batch, no kept file."""
    if not (filename or "").strip():
        raise InvalidInput("choose the file to upload", code="ingest.upload.no_file")
    name = clean_name(filename)
    with session_scope(url) as s:
        spec, sv = spec_to_send(s, source, unit)
        text = sv.text
        if rotation.unfinished(s) is not None:  # the service would refuse it in a configuration's words
            raise Conflict("the store's key is being rotated; send the file once the rotation has finished",
                           code="ingest.upload.rotating")
    _check_format(spec, name)
    path, made = _keep(data, name, spec.name, files_dir)
    try:
        summary = service.ingest_plans(url, keyring, [service.Plan(spec, text, [path])], actor=actor,
                                       parallel=False)
    except BaseException:
        if made:
            _forget(url, spec.name, path)
        raise
    return summary.batches[0]
