"""DuckDB as the product opens it: every core, a bounded share of the machine's memory
and a folder of its own on disk to spill into.

Left to itself DuckDB takes up to 80 % of the machine's memory and spills into `.tmp`
under whatever folder the process happens to run in. Evaluating four million subjects
(85 million records) it needs about 11 GB of this machine's 23, and more with every
subject; its own bound, 80 %, leaves too little for the run's Python side and the
store's server beside it, so a larger county would be killed for memory rather than
slowed down. So every DuckDB the product opens gets a limit —
`CREDITGOV_DUCKDB_MEMORY`, a size (`8GB`, `512MB`, `16GiB`) or a share of the memory
DuckDB sees (`40%`: the machine's, or its container's or service's control group), half
of it by default — and spills what does not fit into a folder of its own under
`CREDITGOV_DUCKDB_SPILL`, by default the user's cache folder
(`$XDG_CACHE_HOME/creditgov/duckdb-spill`, else `~/.cache/…`): on disk, where the system's
temporary folder is often memory itself (tmpfs), which would spill into the very memory
the limit saves. DuckDB makes the folder when it first spills and removes it when the
connection closes; a process killed meanwhile leaves it, and the next connection on the
same host removes the folders of processes that are gone.

The limit is per connection: a run's snapshot and the SQLite reader it starts, or two
analyses served at once, each get it (docs/scoring.md).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from creditgov.core.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

MEMORY_ENV = "CREDITGOV_DUCKDB_MEMORY"
SPILL_ENV = "CREDITGOV_DUCKDB_SPILL"
#: The share of the memory DuckDB sees that one connection may hold when `CREDITGOV_DUCKDB_MEMORY` is unset.
DEFAULT_SHARE = 50
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_PRINTED = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}
_MIN_BYTES = 64 * 10**6
_PREFIX = "creditgov-duckdb-"


@lru_cache(maxsize=1)
def machine_memory() -> int:
    """Bytes of memory DuckDB sees for this process: its own default limit is 80 % of it
    (DuckDB reads the machine's memory and the control group's limit, v1 or v2, the
    process is in — a container's or a service's), so that default over 0.8."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    finally:
        con.close()
    m = re.fullmatch(r"([\d.]+)\s*(\w+)", str(row[0] if row else ""))
    if m is None or m.group(2) not in _PRINTED:
        raise ConfigError(f"DuckDB printed its memory limit as {row!r}: set {MEMORY_ENV} to a size")
    return int(float(m.group(1)) * _PRINTED[m.group(2)] / 0.8)


def memory_limit(value: str | None = None) -> int:
    """The memory limit in bytes: `value` (else `CREDITGOV_DUCKDB_MEMORY`) as a size or a
    percentage of `machine_memory`, half of it when unset. Refused with a clear error
    when it is neither, below 64 MB or more than the memory there is."""
    text = (os.environ.get(MEMORY_ENV, "") if value is None else value).strip()
    if not text:
        return machine_memory() * DEFAULT_SHARE // 100
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%|[kmgt]?i?b?)", text, re.IGNORECASE)
    unit = m.group(2).lower() if m else ""
    if m is None or (unit not in _UNITS and unit != "%") or (unit == "%" and not 0 < float(m.group(1)) <= 100):
        raise ConfigError(f"{MEMORY_ENV}={text!r} is neither a size (8GB, 512MB, 16GiB) nor a share "
                          "of the machine's memory (above 0% up to 100%)")
    size = int(machine_memory() * float(m.group(1)) / 100) if unit == "%" else int(float(m.group(1)) * _UNITS[unit])
    if size < _MIN_BYTES:
        raise ConfigError(f"{MEMORY_ENV}={text!r} is less than the 64 MB DuckDB needs to run a plan")
    if size > machine_memory():
        raise ConfigError(f"{MEMORY_ENV}={text!r} is more than the {machine_memory() / 10**9:.1f} GB of memory "
                          "this process has (the machine's, or its control group's limit)")
    return size


def spill_base() -> Path:
    """The folder the connections' spill folders go in, made if need be: refused with a
    clear error when it cannot be made or written to (before a run, not when it first
    spills)."""
    given = os.environ.get(SPILL_ENV, "").strip()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(given) if given else (Path(cache) if cache else Path.home() / ".cache") / "creditgov" / "duckdb-spill"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"DuckDB's spill folder {base} ({SPILL_ENV}) cannot be made: {exc}") from exc
    if not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(f"DuckDB's spill folder {base} ({SPILL_ENV}) cannot be written to by this process")
    return base


def check() -> None:
    """Refuse a malformed limit or an unusable spill folder now, before a run starts."""
    memory_limit()
    spill_base()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _sweep(base: Path, host: str) -> None:
    """Remove the spill folders this host's processes left when they were killed."""
    for old in base.glob(f"{_PREFIX}{host}-*"):
        pid = old.name[len(_PREFIX) + len(host) + 1:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def spill_folder() -> Path:
    """A folder of this connection's own to spill into, not made yet: DuckDB makes it
    when it first spills and removes it when the connection closes."""
    base, host = spill_base(), re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64]
    _sweep(base, host)
    return base / f"{_PREFIX}{host}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def connect(*, threads: int | None = None, spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the product's settings: `threads` (every core by
    default), `memory_limit` and a spill folder (`spill`, whose parent must exist;
    else `spill_folder`)."""
    import duckdb

    limit = memory_limit()  # refused before anything is opened
    folder = spill or spill_folder()
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET threads = {threads or max(1, os.cpu_count() or 1)}")
        con.execute(f"SET memory_limit = '{limit // 2**10}KiB'")
        con.execute(f"SET temp_directory = '{str(folder).replace(chr(39), chr(39) * 2)}'")
    except BaseException:
        con.close()
        raise
    return con
