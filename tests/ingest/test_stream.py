"""The helper process and the writer share the work of a run chunk by chunk (stream.py);
wherever a chunk is prepared, the store ends up the same as when the writer does it all.
Also: the fast check of canonical identifiers agrees with python-stdnum."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import string
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc
from tests import store_template

from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.ingest import service, stream
from creditgov.ingest.transforms import RowError
from creditgov.ingest.values import identifier
from creditgov.ingest.writer import Counts
from creditgov.subjects.identifiers import (
    clean_resident_id,
    clean_uscc,
    is_canonical_resident_id,
    is_canonical_uscc,
)

_DEFAULT = (stream._HAND_OVER_BELOW, stream._RESOLVE_FROM)
# What must come out the same (ids included); encrypted values and timestamps differ by design.
_DUMP = {
    "credit_records": "id, subject_id, item_code, occurred_on, decided_on, value, grade, text, department_code,"
                      " document_no, status, published_from, published_until, natural_key, version, is_current,"
                      " supersedes_id, content_hash, source, batch_id, spec_version, line_no, raw_hash,"
                      " CASE WHEN substr(raw, 1, 1) IN (char(30), '{') THEN raw END",
    "subjects": "id, kind, name, uscc, resident_id_index, resident_id_masked, region_id, industry, established_on,"
                " address, attributes, status, source, row_hash, batch_id",
    "ingest_quarantine": "id, batch_id, source, file_name, line_no, raw_hash, reason, status, attempts,"
                         " CASE WHEN substr(raw, 1, 1) = '{' THEN raw END",
    "subject_links": "id, firm_id, person_id, role, batch_id",
    "ingest_batches": "id, source, file_name, read, accepted, corrected, rejected, duplicates, filtered, header",
}


def _dump(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT {cols} FROM {t} ORDER BY id").fetchall() for t, cols in _DUMP.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from creditgov.demo.county import generate

    out = tmp_path_factory.mktemp("county") / "c"
    generate(out, subjects=600, seed=11)
    return out


def _ingest(tmp_path: Path, name: str, county: Path, keyring, *, parallel: bool,
            monkeypatch: pytest.MonkeyPatch, levels: tuple[int, int] = _DEFAULT,
            ) -> tuple[Path, Counts]:
    path = tmp_path / f"{name}.db"
    url = f"sqlite:///{path}"
    store_template.fill(url)
    monkeypatch.setenv("CREDITGOV_INGEST_PARALLEL", "1" if parallel else "0")
    # read by the forked helper: below the first, chunks are handed over as read; from the
    # second on, the helper also works out their subjects
    monkeypatch.setattr(stream, "_HAND_OVER_BELOW", levels[0])
    monkeypatch.setattr(stream, "_RESOLVE_FROM", levels[1])
    first = service.ingest_paths(url, keyring, [county], actor="test").counts
    again = service.ingest_paths(url, keyring, [county], actor="test").counts
    # refused rows are checked again and refused again, the rest are duplicates
    assert again.accepted == again.corrected == 0 and again.rejected == first.rejected
    assert again.duplicates == again.read - again.filtered - again.rejected
    db.engine_for(url).dispose()
    return path, first


def test_where_a_chunk_is_prepared_changes_nothing(tmp_path: Path, county: Path, keyring,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    inline, c0 = _ingest(tmp_path, "inline", county, keyring, parallel=False, monkeypatch=monkeypatch)
    assert c0.accepted > 10_000 and c0.rejected > 0 and c0.duplicates > 0
    expected = _dump(inline)
    # the helper prepares (and resolves what it can) / hands every chunk over as read / shares as it goes
    for name, levels in (("helper", (0, 0)), ("writer", (1 << 30, 1 << 30)), ("shared", _DEFAULT)):
        path, counts = _ingest(tmp_path, name, county, keyring, parallel=True, monkeypatch=monkeypatch,
                               levels=levels)
        assert counts.as_dict() == c0.as_dict(), name
        got = _dump(path)
        for table, rows in expected.items():
            assert got[table] == rows, (name, table)


def test_canonical_identifiers_are_checked_as_stdnum_does() -> None:
    rnd = random.Random(7)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

    def a_uscc() -> str:
        body = "".join(rnd.choice(string.digits) for _ in range(8)) + "".join(rnd.choice(alphabet) for _ in range(9))
        return body + uscc.calc_check_digit(body)

    def a_resident_id() -> str:
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(30_000))
        body = rnd.choice(["330127", "330522", "110101", "999999"]) + born.strftime("%Y%m%d") + f"{rnd.randrange(1000):03d}"
        return body + ric.calc_check_digit(body + "0")

    def damaged(v: str) -> str:
        k = rnd.randrange(6)
        i = rnd.randrange(len(v))
        return [v, v[:i] + rnd.choice(string.ascii_letters + string.digits + "- ０") + v[i + 1:], v.lower(),
                " " + v, v[:-1], v[:6] + "1399" + v[10:]][k]

    fast = 0
    for _ in range(5000):
        for make, canonical, clean, field in ((a_uscc, is_canonical_uscc, clean_uscc, "uscc"),
                                              (a_resident_id, is_canonical_resident_id, clean_resident_id,
                                               "resident_id")):
            v = damaged(make())
            try:
                want: tuple[str, str] = ("ok", clean.__wrapped__(v))
            except InvalidInput as exc:
                want = ("rejected", str(exc))
            if canonical(v):
                fast += 1
                assert want == ("ok", v), v
            try:
                got: tuple[str, str] = ("ok", identifier({field: v})[1])
            except RowError as exc:
                got = ("rejected", str(exc))
            assert got == want, v
    assert fast > 1000


def test_a_changed_registration_updates_the_stored_subject(store, keyring, mini: Path) -> None:
    from sqlalchemy import select

    from creditgov.subjects.models import Subject

    service.ingest_paths(store, keyring, [mini], actor="test")
    data = mini / "data" / "market_registration.csv"
    text = data.read_bytes().decode("gbk")
    data.write_bytes(text.replace("长兴绿源纺织有限公司,企业,CX-S01-G01-M01,manufacturing,2015年3月5日,500",
                                  "长兴绿源纺织有限公司,企业,CX-S01-G01-M02,manufacturing,2016年4月6日,800").encode("gbk"))
    c = service.ingest_paths(store, keyring, [mini / "specs" / "market_registration.yaml"], actor="test").counts
    assert (c.corrected, c.accepted, c.rejected) == (1, 0, 1)  # the row of an unknown region is refused again
    with db.session_scope(store) as s:
        firm = s.execute(select(Subject).where(Subject.uscc == "91330522MA2B00010N")).scalar_one()
        assert firm.established_on == dt.date(2016, 4, 6)
        assert firm.attributes["registered_capital"] == 800
        assert firm.status == "confirmed"
