"""Where the database and the key file are.

Order for the database: `--db URL`, then `CREDITGOV_DB`, then `creditgov.db` in the
working folder. The key file is never inside the database: `CREDITGOV_KEY_FILE`, or
beside a SQLite database (`<db>.key`), or `creditgov.key` in the working folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB_FILE = "creditgov.db"


@dataclass(frozen=True)
class Settings:
    db_url: str
    key_file: Path

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


def _normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        # A bare path means a SQLite file.
        return f"sqlite:///{Path(url).resolve()}"
    return url


def resolve(db: str | None = None, key_file: str | None = None) -> Settings:
    url = _normalise_url(db or os.environ.get("CREDITGOV_DB") or DEFAULT_DB_FILE)
    key = key_file or os.environ.get("CREDITGOV_KEY_FILE")
    if key:
        key_path = Path(key)
    elif url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        key_path = Path(url.removeprefix("sqlite:///") + ".key")
    else:
        key_path = Path("creditgov.key")
    return Settings(db_url=url, key_file=key_path.resolve())
