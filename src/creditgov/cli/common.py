"""What every command shares: settings, sessions, the key ring, output and errors."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from creditgov.core import clock, db, labels, schema, settings, tables
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.security import keys
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant, Principal, Role, Scope

if TYPE_CHECKING:
    # The Context class TyperGroup.parse_args is typed with: typer vendors click as
    # typer._click (older typers, which depend on click itself, lack it and mypy
    # reads Any). Named here only for the override's signature.
    from typer._click import Context

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables.")
OutOpt = typer.Option(None, "--out", help="Write the rows to FILE: Excel (.xlsx) or CSV (.csv), by its suffix; "
                                         "labels in $CREDITGOV_LANG, times in China Standard Time.")


@dataclass
class State:
    db: str | None = None
    key_file: str | None = None
    _settings: settings.Settings | None = field(default=None, repr=False)
    _ring: KeyRing | None = field(default=None, repr=False)

    def reset(self, db: str | None, key_file: str | None) -> None:
        """A new command line (the tests run many in one process)."""
        self.db, self.key_file, self._settings, self._ring = db, key_file, None, None

    @property
    def settings(self) -> settings.Settings:
        if self._settings is None:
            self._settings = settings.resolve(self.db, self.key_file)
        return self._settings

    @property
    def url(self) -> str:
        return self.settings.db_url

    def key_source(self) -> keys.KeySource:
        return keys.source_for(self.settings)

    def keyring(self) -> KeyRing:
        """The store's key, refused unless it is the one the store was initialised with."""
        self.require_init()
        if self._ring is None:
            self._ring = keys.open_ring(self.url, self.key_source())
        return self._ring

    def require_init(self) -> None:
        """The store is initialised, and a key that is there is the store's: every
        command refuses another store's key, whether or not it reads personal data."""
        if not schema.is_initialised(self.url):
            raise ConfigError(f"database {self.url} is not initialised: run `creditgov init` first")
        if self._ring is None and self.key_source().exists():
            self._ring = keys.open_ring(self.url, self.key_source())


STATE = State()


@contextmanager
def session() -> Iterator[Session]:
    STATE.require_init()
    labels.use_store(STATE.url)  # tables name codes with this store's regions and catalogue
    with db.session_scope(STATE.url) as s:
        yield s


def label(kind: str, code: object) -> str:
    """A code's name for a command's table, in `CREDITGOV_LANG` (zh by default, as the
    catalogue's names; en for English): the one label catalogue (`core.labels`)."""
    return labels.label(kind, code, "en" if os.environ.get("CREDITGOV_LANG") == "en" else "zh")


def when(v: Any, *, seconds: bool = False) -> str:
    """A stored time for a command's table: China Standard Time to the minute (or the
    second), labelled in `CREDITGOV_LANG` (北京时间 / CST), as pages show it; JSON keeps
    the stored value."""
    return clock.show(v, "en" if os.environ.get("CREDITGOV_LANG") == "en" else "zh", seconds=seconds)


def known(value: str | None, codes: Iterable[str], option: str, kind: str | None = None) -> str | None:
    """A filter's value checked against the codes it can take: an unknown one is
    refused naming the known ones (with their names, given the label `kind`), never
    answered with an empty table."""
    if value is None:
        return None
    codes = list(codes)
    if value not in codes:
        def named(c: str) -> str:
            name = label(kind, c) if kind else c
            return f"{c} ({name})" if name != c else c
        raise InvalidInput(f"{option} {value!r} is not known; known: {', '.join(named(c) for c in codes) or 'none'}")
    return value


def lang() -> str:
    """The language of a command's tables and files: `CREDITGOV_LANG` (zh by default)."""
    return "en" if os.environ.get("CREDITGOV_LANG") == "en" else "zh"


def operator_grant(permission: str) -> Grant:
    """What a command at the server reads: the whole county, people named, as the
    credit office's pages show it (the shell is the operator's, not a public reader's)."""
    who = Principal(role=Role.CREDIT_OFFICE, username=audit.default_actor(), via="cli")
    return Grant(who, permission, Scope.ALL)


def writable(path: Path | None, option: str = "--out", *, make_folder: bool = False) -> None:
    """Refuses an output file that cannot be written, in one line and before any work
    is done or recorded: every command that writes a file (a report, a printed
    document, a workbook, an export) checks it first, so nothing is issued, numbered or
    put on the audit chain for a file nobody receives. Refused: a missing folder, a
    path that is a folder, a file or folder this user may not write (tried, not
    guessed from the mode bits: an administrator's shell may write anywhere but a
    read-only disk). `make_folder`: the command makes a missing folder (a chart), so
    only the nearest folder that exists must be writable."""
    if path is None:
        return
    folder = path.parent
    try:
        if path.is_dir():
            raise InvalidInput(f"{option} {path}: that is a folder; give a file's name")
        if make_folder:
            writable_folder(folder, option)
            return
        if not folder.exists():
            raise InvalidInput(f"{option} {path}: the folder {folder} does not exist")
        if not folder.is_dir():
            raise InvalidInput(f"{option} {path}: {folder} is not a folder")
        if path.exists():
            with open(path, "ab"):  # opened to write, not changed
                pass
        else:
            fd, probe = tempfile.mkstemp(prefix=".creditgov-", suffix=".probe", dir=folder)
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise InvalidInput(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


def writable_folder(path: Path | None, option: str = "--out") -> None:
    """`writable` for a command that writes a folder (made with its parents when
    missing): refused when the path is a file, or when the nearest folder that exists
    cannot be written in."""
    if path is None:
        return
    there = path
    try:
        if path.exists() and not path.is_dir():
            raise InvalidInput(f"{option} {path}: that is a file, not a folder")
        while not there.exists() and there != there.parent:
            there = there.parent
        if not there.is_dir():
            raise InvalidInput(f"{option} {path}: {there} is not a folder")
        fd, probe = tempfile.mkstemp(prefix=".creditgov-", suffix=".probe", dir=there)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidInput(f"{option} {path}: cannot write in {there} ({exc.strerror or exc})") from None


def save(path: Path, data: bytes | str, option: str = "--out") -> None:
    """Writes a command's file (after `writable`), a failure said in one line. Called
    inside the command's session where the act is recorded, so a file that could not
    be written rolls the act back with it."""
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


def check_out(path: Path | None) -> None:
    """Refuses an `--out` file that is neither .xlsx nor .csv, or cannot be written,
    before any work is done."""
    if path is not None:
        tables.format_of(path)
        writable(path)


def write_out(path: Path, *, table: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
              json_out: bool = False, detail: dict[str, Any] | None = None) -> int:
    """A list command's `--out FILE` (issue 19): the rows its `--json` prints, as the
    page's export writes them (`core.tables`: .xlsx or .csv by the suffix), and the
    export on the audit chain as the pages write theirs. Says where and how many."""
    try:
        n = tables.write_file(path, title=title, header=header, rows=rows)
    except OSError as exc:  # `check_out` found it writable; the disk may still refuse (full, gone)
        raise InvalidInput(f"--out {path}: cannot write there ({exc.strerror or exc})") from None
    with db.session_scope(STATE.url) as s:
        audit.append(s, action=f"{table}.export", actor=audit.default_actor(),
                     detail={"format": tables.format_of(path), "file": str(path), **(detail or {}), "rows": n})
    if json_out:
        emit_json({"out": str(path), "rows": n})
    else:
        console.print(f"wrote {n} rows to {path}")
    return n


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class DefaultGroup(TyperGroup):
    """A group that runs its `run` command when the first word is not a subcommand,
    so `creditgov ingest DIR` and `creditgov ingest trace 5` both read naturally."""

    default_cmd = "run"

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_cmd, *args]
        return super().parse_args(ctx, args)
