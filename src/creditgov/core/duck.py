"""DuckDB as the product opens it: every core, a bounded share of the machine's memory
and a folder of its own to spill into.

Left to itself DuckDB takes up to 80 % of the machine's memory and spills into `.tmp`
under whatever folder the process happens to run in. Evaluating four million subjects
(85 million records) it held 18 GB of this machine's 23, beside the run's scores in
Python and the store's own server: the next size up would have been killed for memory
rather than slowed down. So every DuckDB the product opens for evaluation, analysis or
the record segments gets a limit — `CREDITGOV_DUCKDB_MEMORY`, a size (`8GB`, `512MB`,
`16GiB`) or a share of the machine (`40%`), half of it by default — and spills what does
not fit into a folder of its own under `CREDITGOV_DUCKDB_SPILL` (the system's temporary
folder by default), which DuckDB makes when it first spills and removes when it closes.
At one million subjects a run needs about 3 GB and the limit changes nothing; held to
1 GB it takes twice as long and finishes (docs/scale.md).
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from creditgov.core.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

MEMORY_ENV = "CREDITGOV_DUCKDB_MEMORY"
SPILL_ENV = "CREDITGOV_DUCKDB_SPILL"
#: The share of the machine's memory a DuckDB may hold when `CREDITGOV_DUCKDB_MEMORY` is unset.
DEFAULT_SHARE = 50
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_MIN_BYTES = 64 * 10**6


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its control group's
    limit when that is lower (a container)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def memory_limit(value: str | None = None) -> int:
    """The memory limit in bytes: `value` (else `CREDITGOV_DUCKDB_MEMORY`) as a size or a
    percentage of `machine_memory`, half of it when unset. Refused with a clear error
    when it is neither, or below 64 MB."""
    text = (os.environ.get(MEMORY_ENV, "") if value is None else value).strip()
    if not text:
        return machine_memory() * DEFAULT_SHARE // 100
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%|[kmgt]?i?b?)", text, re.IGNORECASE)
    unit = m.group(2).lower() if m else ""
    if m is None or (unit not in _UNITS and unit != "%") or (unit == "%" and not 0 < float(m.group(1)) <= 100):
        raise ConfigError(f"{MEMORY_ENV}={text!r} is neither a size (8GB, 512MB, 16GiB) nor a share "
                          "of the machine's memory (1% to 100%)")
    size = int(machine_memory() * float(m.group(1)) / 100) if unit == "%" else int(float(m.group(1)) * _UNITS[unit])
    if size < _MIN_BYTES:
        raise ConfigError(f"{MEMORY_ENV}={text!r} is less than the 64 MB DuckDB needs to run a plan")
    return size


def spill_folder() -> Path:
    """A folder of this connection's own to spill into, not made yet: DuckDB makes it
    when it first spills and removes it when the connection closes."""
    base = Path(os.environ.get(SPILL_ENV, "").strip() or tempfile.gettempdir())
    return base / f"creditgov-duckdb-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def connect(*, threads: int | None = None, spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the product's settings: `threads` (every core by
    default), `memory_limit` and a spill folder (`spill`, else `spill_folder`)."""
    import duckdb

    limit = memory_limit()  # refused before anything is opened
    folder = spill or spill_folder()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"DuckDB's spill folder {folder.parent} ({SPILL_ENV}) cannot be made: {exc}") from exc
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET threads = {threads or max(1, os.cpu_count() or 1)}")
        con.execute(f"SET memory_limit = '{limit // 2**10}KiB'")
        con.execute(f"SET temp_directory = '{str(folder).replace(chr(39), chr(39) * 2)}'")
    except BaseException:
        con.close()
        raise
    return con
