"""Where the database, the key file and the record segments are.

Order for the database: `--db URL`, then `CREDITGOV_DB`, then `creditgov.db` in the
working folder. The key file is never inside the database, and its default place never
depends on the folder a command is run from (a second folder would otherwise mean a
second key for the same store): `--key-file` or `CREDITGOV_KEY_FILE`; else beside a
SQLite database (`<db>.key`); else, for a server database, a file named by the store's
identity in the user's configuration folder (`key_home()`, `store_identity()`).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from sqlalchemy.engine import make_url

from creditgov.core.errors import ConfigError

DEFAULT_DB_FILE = "creditgov.db"
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


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


def key_home() -> Path:
    """The user's folder of store keys: `$XDG_CONFIG_HOME/creditgov/keys`, or
    `~/.config/creditgov/keys` when that variable is unset."""
    base = os.environ.get("XDG_CONFIG_HOME")
    return (Path(base) if base else Path.home() / ".config") / "creditgov" / "keys"


def _search_path(options: str | None) -> str | None:
    """The first schema of a `search_path` set in the URL's libpq `options`
    (`-csearch_path=s`, `-c search_path=s,public`, `--search_path=s`)."""
    if not options:
        return None
    try:
        words = shlex.split(options)
    except ValueError:
        words = options.split()
    for n, word in enumerate(words):
        setting = word
        if word == "-c" and n + 1 < len(words):
            setting = words[n + 1]
        elif word.startswith("-c"):
            setting = word[2:]
        elif word.startswith("--"):
            setting = word[2:]
        name, sep, value = setting.partition("=")
        if sep and name.strip().replace("-", "_") == "search_path":
            first = value.split(",")[0].strip().strip('"')
            return first or None
    return None


def _one(value: str | tuple[str, ...] | None) -> str | None:
    return value[0] if isinstance(value, tuple) else value


def store_identity(url: str) -> tuple[str, ...]:
    """What names a server store, without its password or user: (host, port,
    database) and, when the URL sets a `search_path`, its first schema. Two URLs
    that differ only in user, password or driver name the same store."""
    u = make_url(url)
    backend = u.get_backend_name()
    host = u.host or _one(u.query.get("host")) or "localhost"
    port = u.port or _one(u.query.get("port")) or DEFAULT_PORTS.get(backend, 0)
    parts = (host, str(port), u.database or "")
    schema = _search_path(_one(u.query.get("options")))
    return (*parts, schema) if schema else parts


def _file_part(text: str) -> str:
    """One path component that cannot climb out of its folder: percent-encoded
    UTF-8, every character but ASCII letters, digits, `_`, `-` and `.` (a leading
    dot too)."""
    out = quote(text, safe="")
    return re.sub(r"^\.", "%2E", out) or "%00"


def default_key_file(url: str) -> Path:
    """Beside a SQLite file (`<db>.key`); otherwise in `key_home()`:
    `<host>-<port>/<database>.key`, or `<host>-<port>/<database>/<schema>.key` when
    the URL sets a schema."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///") + ".key")
    if url.startswith("sqlite"):
        return key_home() / "sqlite-memory.key"
    host, port, database, *schema = store_identity(url)
    folder = key_home() / _file_part(f"{host}-{port}")
    if schema:
        return folder / _file_part(database) / (_file_part(schema[0]) + ".key")
    return folder / (_file_part(database) + ".key")


@dataclass(frozen=True)
class SegmentPlace:
    """Where one store's record segments are (scoring/segments.py): `url` as Spark and
    pyarrow read it (file:///…, s3a://…, hdfs://…) and whether the deployment named it
    (`CREDITGOV_SEGMENTS`, a place every Spark executor can read) or it is a default
    folder on this machine."""
    url: str
    configured: bool


def segment_place(url: str) -> SegmentPlace | None:
    """`CREDITGOV_SEGMENTS` (a folder or a file://, s3a:// or hdfs:// URL) holds one
    sub-folder per store, named as the key files are (`<host>-<port>/<database>[/<schema>]`
    for a server store, `sqlite/<file name>-<hash of its path>` for a SQLite file).
    Unset: beside a SQLite file (`<db>.segments`); a server store then keeps none (None):
    its manifest is shared by every machine that serves it, so its files must be in one
    place they all reach, which only the deployment can name — a default folder per
    machine would have each one find the others' files missing and rebuild the copy."""
    root = (os.environ.get("CREDITGOV_SEGMENTS") or "").strip().rstrip("/")
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if not path or url in ("sqlite://", "sqlite:///:memory:"):
            raise ConfigError("an in-memory SQLite store keeps no record segments")
        resolved = Path(path).resolve()
        if not root:
            return SegmentPlace(Path(f"{resolved}.segments").as_uri(), False)
        import hashlib

        digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
        sub = ["sqlite", _file_part(f"{resolved.name}-{digest}")]
    else:
        host, port, database, *schema = store_identity(url)
        sub = [_file_part(f"{host}-{port}"), _file_part(database), *(_file_part(s) for s in schema)]
        if not root:
            return None
    if "://" not in root:
        root = Path(root).expanduser().resolve().as_uri()
    scheme = root.split("://", 1)[0]
    if scheme not in ("file", "s3a", "s3", "hdfs", "viewfs", "gs", "abfs", "abfss"):
        raise ConfigError(f"CREDITGOV_SEGMENTS {root!r}: expected a folder or a file://, s3a:// or hdfs:// URL")
    return SegmentPlace("/".join([root, *sub]), True)


def public_url() -> str | None:
    """The platform's public address (`CREDITGOV_PUBLIC_URL`, e.g.
    `https://credit.example.gov.cn`): what a printed report's QR code points at, so a
    bank scanning it with a phone reaches the platform rather than the address the
    downloader happened to use. Unset: None (the request's own address is used)."""
    value = (os.environ.get("CREDITGOV_PUBLIC_URL") or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"CREDITGOV_PUBLIC_URL must be an http(s) address without query, not {value!r}")
    return value.rstrip("/")


def resolve(db: str | None = None, key_file: str | None = None) -> Settings:
    url = _normalise_url(db or os.environ.get("CREDITGOV_DB") or DEFAULT_DB_FILE)
    key = key_file or os.environ.get("CREDITGOV_KEY_FILE")
    key_path = Path(key).expanduser() if key else default_key_file(url)
    return Settings(db_url=url, key_file=key_path.resolve())
