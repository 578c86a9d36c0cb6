"""The demo county (2,000 subjects, seed 7), built once per test session the way an
operator builds it — `creditgov generate`, `init`, `ingest` — and copied per test."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from creditgov.core import db

SUBJECTS, SEED, TODAY = 2000, 7, "2026-11-01"


@dataclass(frozen=True)
class Demo:
    folder: Path  # the generated ingestion folder
    db: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def key(self) -> Path:
        return Path(str(self.db) + ".key")


def _cli(*args: str) -> None:
    from creditgov.cli.main import app

    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    if res.exit_code != 0:
        raise RuntimeError(f"creditgov {' '.join(args)} failed: {res.output}")


def template(base: Path) -> Demo:
    """Build (or reuse) the session's demo store under `base`."""
    demo = Demo(base / "county", base / "demo.db")
    if demo.db.exists():
        return demo
    base.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("CREDITGOV_TODAY")
    os.environ["CREDITGOV_TODAY"] = TODAY
    try:
        _cli("generate", "--out", str(demo.folder), "--subjects", str(SUBJECTS), "--seed", str(SEED))
        tmp = base / "building.db"
        _cli("--db", str(tmp), "init")
        _cli("--db", str(tmp), "ingest", str(demo.folder))
        # The county's own recent records (last month's court cases) raise their
        # alerts now; with no channels configured yet they go to inboxes only.
        _cli("--db", str(tmp), "worker", "once")
        db.engine_for(f"sqlite:///{tmp}").dispose()
        shutil.move(str(tmp) + ".key", str(demo.key))
        shutil.move(str(tmp), str(demo.db))
    finally:
        if old is None:
            os.environ.pop("CREDITGOV_TODAY", None)
        else:
            os.environ["CREDITGOV_TODAY"] = old
    return demo


def copy(demo: Demo, dst: Path) -> Demo:
    dst.mkdir(parents=True, exist_ok=True)
    out = Demo(demo.folder, dst / "demo.db")
    shutil.copyfile(demo.db, out.db)
    shutil.copyfile(demo.key, out.key)
    return out
