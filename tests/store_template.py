"""One migrated, catalogued store per test session, copied into each test's database.

Bringing an empty database to the newest migration and loading the shipped catalogue
took one to two seconds, and several hundred tests start from exactly that store. The
session builds it once per database kind and each test gets a copy: SQLite through
the backup API, PostgreSQL by replaying a `pg_dump` of the template schema (tables,
indexes, triggers, functions, sequences and rows) into the test's own schema. The
migrations themselves keep their own tests (tests/core/test_schema.py), which upgrade
empty stores step by step."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from creditgov.catalog import service as catalog_service
from creditgov.core import db, files, schema

_templates: dict[str, SqliteTemplate | PostgresTemplate] = {}


def fill(url: str) -> str:
    """Make the empty database at `url` (a SQLite file, or a PostgreSQL URL whose
    search_path names an empty schema) an initialised store: schema at head, the
    shipped catalogue loaded. The template of its kind is built at the first call."""
    if url.startswith("sqlite"):
        key = "sqlite"
        if key not in _templates:
            _templates[key] = SqliteTemplate(Path(tempfile.mkdtemp(prefix="creditgov-template-")))
    else:
        key = url.rsplit("options=", 1)[0].rstrip("?&")
        if key not in _templates:
            _templates[key] = PostgresTemplate(key)
    _templates[key].copy_to(url)
    return url


def drop_all() -> None:
    """The session's end: the templates go (a PostgreSQL schema, a temporary folder)."""
    while _templates:
        _key, t = _templates.popitem()
        t.drop()


def build(url: str) -> None:
    """What every copy starts from: the schema at head and the shipped catalogue."""
    schema.upgrade(url)
    with db.session_scope(url) as s:
        catalog_service.load_catalog(s, actor="test")


class SqliteTemplate:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "template.db"
        url = f"sqlite:///{self.path}"
        build(url)
        db.engine_for(url).dispose()

    def copy_to(self, url: str) -> None:
        path = db.sqlite_file(url)
        assert path is not None, url
        db.prepare_sqlite_file(url)
        src, dst = sqlite3.connect(self.path), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        files.restrict(path)

    def drop(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresTemplate:
    def __init__(self, base: str) -> None:
        self.base = base
        self.name = "cgtemplate_" + uuid.uuid4().hex[:12]
        # One engine for the template's life: a copy per test then costs no new connection.
        self.admin = sa.create_engine(base, pool_size=1)
        with self.admin.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {self.name}"))
        url = with_schema(base, self.name)
        build(url)
        db.engine_for(url).dispose()
        self.script = self._dump()

    def _dump(self) -> str:
        return _dump_schema(self.base, self.name)

    def copy_to(self, url: str) -> None:
        """Fill the (empty) schema the URL's search_path names."""
        target = url.rsplit("search_path%3D", 1)[1]
        assert re.fullmatch(r"[a-z0-9_]+", target), target
        with self.admin.begin() as c:
            # the driver's own execute, without parameters: functions and rows may hold `%`
            c.connection.driver_connection.execute(self.script.replace(self.name, target))
            c.exec_driver_sql("RESET ALL")  # the dump's session settings (an empty search_path) go

    def drop(self) -> None:
        with self.admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self.admin.dispose()


def _dump_schema(base: str, name: str) -> str:
    """A schema's tables, indexes, triggers, functions, sequences and rows as SQL that
    recreates them in any schema once its name is replaced."""
    u = make_url(base)
    args = ["pg_dump", "--schema", name, "--inserts", "--rows-per-insert=500", "--no-owner",
            "--no-privileges", "--no-comments", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432),
            "-U", u.username or "postgres", "-d", u.database or "postgres"]
    env = {"PGPASSWORD": u.password} if u.password else {}
    out = subprocess.run(args, check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout
    lines = [ln for ln in out.splitlines()
             if not ln.startswith("\\")  # psql meta-commands (\restrict) are not SQL
             and not ln.startswith(f"CREATE SCHEMA {name};")]
    return "\n".join(lines)


def _schema_of(url: str) -> str:
    name = url.rsplit("search_path%3D", 1)[1]
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    return name


def sqlite_copy_of(url: str, path: Path) -> str:
    """A private copy of the SQLite store at `url` in the file `path` (the backup API:
    consistent even while another connection writes)."""
    src, dst = sqlite3.connect(str(db.sqlite_file(url))), sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{path}"


@contextmanager
def pg_copy_of(base: str, url: str, prefix: str = "t_") -> Iterator[str]:
    """A private copy of the PostgreSQL store at `url` (a schema of `base`), in a schema
    of its own, dropped afterwards."""
    script = _dump_schema(base, _schema_of(url))
    with pg_schema(base, prefix) as copy:
        admin = sa.create_engine(base, pool_size=1)
        try:
            with admin.begin() as c:
                # the driver's own execute, without parameters: the rows' texts may hold `%`
                c.connection.driver_connection.execute(script.replace(_schema_of(url), _schema_of(copy)))
        finally:
            admin.dispose()
        yield copy


def with_schema(base: str, name: str) -> str:
    """The PostgreSQL URL `base` with its search_path set to schema `name`."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{name}"


@contextmanager
def pg_schema(base: str, prefix: str = "t_") -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema; afterwards the
    store's pooled connections to it are closed and the schema dropped."""
    name = prefix + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base, pool_size=1)
    try:
        with admin.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {name}"))
        url = with_schema(base, name)
        try:
            yield url
        finally:
            db.engine_for(url).dispose()
            with admin.begin() as c:
                c.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    finally:
        admin.dispose()


@contextmanager
def login_role(store: str, pg_base: str, prefix: str, grants: Sequence[str]) -> Iterator[str]:
    """The store's URL for a new login role given `grants` (with `{schema}` for the
    store's schema) beside USAGE on the schema; the role is dropped afterwards."""
    role = prefix + uuid.uuid4().hex[:8]
    name = _schema_of(store)
    admin = sa.create_engine(pg_base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        c.exec_driver_sql(f"GRANT USAGE ON SCHEMA {name} TO {role}")
        for grant in grants:
            c.exec_driver_sql(f"GRANT {grant.format(schema=name)} TO {role}")
    url = store.replace("://postgres@", f"://{role}@", 1)
    assert url != store
    try:
        yield url
    finally:
        db.engine_for(url).dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP OWNED BY {role}")
            c.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def new_run(url: str) -> int:
    """A running evaluation run in the store at `url`, for tests that store scores."""
    from creditgov.scoring.models import EvaluationRun

    with db.session_scope(url) as s:
        run = EvaluationRun(model_name="m", model_version="1", model_hash="-", as_of=dt.date(2026, 11, 1),
                            engine="duckdb", status="running", started_at=dt.datetime(2026, 11, 1), actor="test",
                            subjects=0, grades={}, timings={})
        s.add(run)
        s.flush()
        return run.id
