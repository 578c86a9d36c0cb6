"""A run killed with SIGKILL midway leaves no partial batch; the next run completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from tests import big_files

from creditgov.core.db import session_scope
from creditgov.ingest.models import Batch
from creditgov.records.models import CreditRecord

ROWS = 200_000


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "creditgov.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_minus_nine_midway_leaves_nothing_half_done(mini: Path, tmp_path: Path) -> None:
    big_files.penalties(mini / "data" / "market_penalties_big.csv", ROWS)
    db_file = tmp_path / "k.db"
    url = f"sqlite:///{db_file}"
    env = {**os.environ, "CREDITGOV_DB": str(db_file), "CREDITGOV_TODAY": "2026-11-01"}
    assert _cli("init", env=env).wait(timeout=120) == 0

    proc = _cli("ingest", str(mini), "--json", env=env)
    wal = Path(str(db_file) + "-wal")
    deadline = time.monotonic() + 120
    # Wait until the big batch is writing (the WAL grows past a few MB), then kill.
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 4_000_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    big_files.assert_nothing_half_done(url, "market_penalties_big.csv")
    with session_scope(url) as s:
        # every committed batch's accepted records are all there, no more, no fewer
        for b in s.execute(select(Batch)).scalars():
            n = s.execute(select(func.count(CreditRecord.id)).where(CreditRecord.batch_id == b.id)).scalar_one()
            if b.kind == "file" and b.source not in ("market_registration", "grid_households", "market_links"):
                assert n == b.accepted + b.corrected

    done = _cli("ingest", str(mini), "--json", env=env)
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err.decode()
    with session_scope(url) as s:
        total = s.execute(select(func.count(CreditRecord.id)).where(
            CreditRecord.source == "market_penalties")).scalar_one()
    assert total == ROWS + 3  # the big file plus the three good rows of the small one
