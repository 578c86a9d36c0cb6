"""A small generated county, ingested once per session into a SQLite store and a
PostgreSQL schema, with some status history and list entries added the same way to
both, so every in-force rule has data to bite on."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.demo.county import generate
from creditgov.ingest import service as ingest_service
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.security.crypto import KeyRing, create_key_file, load_key_file
from creditgov.subjects.models import Subject
from tests import store_template
from tests.scoring.synth import ensure_lists

COUNTY_SUBJECTS = 1000
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="session")
def county_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("county") / "d"
    generate(out, subjects=COUNTY_SUBJECTS, seed=7)
    return out


def _build(url: str, folder: Path, keyring: KeyRing) -> None:
    store_template.fill(url)
    ingest_service.ingest_paths(url, keyring, [folder], actor="test")
    _decorate(url)


def _decorate(url: str) -> None:
    """Status changes before, on and after the as-of date, and list entries — chosen by
    natural key so both stores get the same ones."""
    ensure_lists(url)
    with db.session_scope(url) as s:
        negatives = list(s.execute(
            select(CreditRecord).where(CreditRecord.item_code.in_(["market.penalty", "market.complaint",
                                                                   "court.dishonest_debtor", "utility.arrears",
                                                                   "environment.penalty", "tax.arrears"]),
                   (CreditRecord.published_until.is_(None)) | (CreditRecord.published_until >= AS_OF))
            .order_by(CreditRecord.natural_key)).scalars())
        plan = [("active", "disputed", dt.datetime(2026, 10, 20, 10)),     # disputed on the as-of date
                ("active", "repaired", dt.datetime(2026, 9, 1, 9)),        # repaired before it
                ("active", "repaired", dt.datetime(2026, 11, 2, 0, 0)),    # repaired the day after
                ("active", "revoked", dt.datetime(2027, 1, 5)),            # revoked later: never counts
                ("active", "disputed", dt.datetime(2026, 6, 1))]           # disputed, then active again
        for k, rec in enumerate(negatives[::3][:40]):
            frm, to, at = plan[k % len(plan)]
            s.add(RecordStatusChange(record_id=rec.id, from_status=frm, to_status=to, at=at, actor="test"))
            rec.status = to
            if k % len(plan) == 4:
                s.add(RecordStatusChange(record_id=rec.id, from_status="disputed", to_status="active",
                                         at=dt.datetime(2026, 7, 1), actor="test"))
                rec.status = "active"
        now = dt.datetime(2026, 10, 1)
        for kind in ("enterprise", "merchant", "individual", "homestay"):
            ids = [sid for (sid,) in s.execute(select(Subject.id).where(Subject.kind == kind)
                                               .order_by(Subject.uscc, Subject.resident_id_index))]
            for k, sid in enumerate(ids[::17][:15]):
                code = ("red", "serious-dishonesty", "key-attention")[k % 3]
                exited = dt.date(2026, 10, 1) if k % 5 == 4 else None
                s.add(ListEntry(list_code=code, subject_id=sid, status="published" if k % 4 else "proposed",
                                published_on=dt.date(2026, 3, 1), exited_on=exited, created_at=now))

@pytest.fixture(scope="session")
def county_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "county.key"
    create_key_file(path)
    return path


@pytest.fixture(scope="session")
def county_keyring(county_key: Path) -> KeyRing:
    return load_key_file(county_key)


@pytest.fixture(scope="session")
def county(county_dir: Path, county_key: Path, county_keyring: KeyRing,
           tmp_path_factory: pytest.TempPathFactory) -> str:
    """The county in a SQLite store (the operational store), its key file beside it as
    `creditgov init` would put it."""
    db_path = tmp_path_factory.mktemp("county-db") / "creditgov.db"
    shutil.copy(county_key, f"{db_path}.key")
    url = f"sqlite:///{db_path}"
    _build(url, county_dir, county_keyring)
    return url


@pytest.fixture(scope="session")
def county_pg(county_dir: Path, county_keyring: KeyRing, pg_base: str) -> Iterator[str]:
    """The same county in a PostgreSQL schema of its own."""
    with store_template.pg_schema(pg_base) as url:
        _build(url, county_dir, county_keyring)
        yield url
