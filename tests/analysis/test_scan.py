"""Analysis at scale (analysis/scan.py): grid risk read from the record segments on
DuckDB and on Spark gives the store's own figures, grid by grid — for the whole county
and for one grid worker's scope — after records changed since the copy was written
(a status change, a correction, a deletion, new records), on SQLite and on
PostgreSQL; a secret risk item is read from the store; `auto` picks the segments once
they are large."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, func, select, true, update
from typer.testing import CliRunner

from creditgov.analysis import scan, service
from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.records.models import CreditRecord
from creditgov.scoring import segments
from creditgov.subjects.models import Region, Subject
from tests.alerts.demo import Demo

ON = dt.date(2026, 11, 1)


def _change_after_the_copy(url: str) -> int:
    """Records changed every way the copy must see, after it was written: answers how
    many risk records changed."""
    with db.session_scope(url) as s:
        risk = list(s.execute(select(CreditRecord.id).where(
            CreditRecord.item_code.in_(service.RISK_ITEMS), CreditRecord.is_current.is_(True),
            CreditRecord.status == "active").order_by(CreditRecord.id)).scalars())
        assert len(risk) > 40
        s.execute(update(CreditRecord).where(CreditRecord.id.in_(risk[:5])).values(status="revoked"))
        s.execute(update(CreditRecord).where(CreditRecord.id.in_(risk[5:10])).values(is_current=False))
        s.execute(update(CreditRecord).where(CreditRecord.id.in_(risk[10:15])).values(value=0))
        s.execute(delete(CreditRecord).where(CreditRecord.id.in_(risk[15:18])))
        # new records after the copy's last id: the tail
        for rid in risk[20:30]:
            r = s.get(CreditRecord, rid)
            assert r is not None
            s.add(CreditRecord(**{c.key: getattr(r, c.key) for c in CreditRecord.__table__.columns
                                  if c.key not in ("id", "natural_key", "written_xid")},
                               natural_key=hashlib.md5(f"{r.natural_key}-later".encode()).hexdigest()))
    return 28


def _figures(url: str, engine: str, scope: Any = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    with db.session_scope(url) as s:
        out = service.grid_risk(s, on=ON, engine=engine, scope=scope)
    return out["rows"], out["read"]


def _one_grid(url: str) -> Any:
    with db.session_scope(url) as s:
        path = s.execute(select(Region.path).where(Region.level == "grid").order_by(Region.code).limit(1)).scalar_one()
        ids = list(s.execute(select(Region.id).where(Region.path.startswith(path))).scalars())
    return Subject.region_id.in_(ids)


def _same_everywhere(url: str, engines: tuple[str, ...]) -> None:
    copied = segments.refresh(url, min_rows=0, rebuild=True)
    assert copied["action"] == "rebuilt" and copied["rows"] > 1000
    before, _ = _figures(url, "store")
    changed = _change_after_the_copy(url)
    want, read = _figures(url, "store")
    assert want != before  # the changes are in the figures: the copy alone would be wrong
    assert read == {"engine": "store"}
    assert sum(r["loans"] + r["bills"] + r["arrears_records"] + r["overdue_loans"] for r in want) > 40
    for engine in engines:
        got, read = _figures(url, engine)
        assert got == want, engine
        assert read["engine"] == engine and read["segments"] >= 1 and read["segment_rows"] > 1000
        # a PostgreSQL store's subjects in scope are read by Spark's executors through JDBC
        jdbc = engine == "spark" and url.startswith("postgresql")
        assert (read.get("subject_partitions", 0) > 0) == jdbc, read
        assert read["fresh_rows"] >= changed - 3  # the deleted rows are not read at all
    scope = _one_grid(url)
    mine, _ = _figures(url, "store", scope)
    assert 0 < len(mine) < len(want)
    for engine in engines:
        assert _figures(url, engine, scope)[0] == mine, engine


def test_segments_on_duckdb_and_spark_give_the_stores_figures_on_sqlite(demo_store: Demo) -> None:
    _same_everywhere(demo_store.url, ("duckdb", "spark"))


def test_segments_on_duckdb_and_spark_give_the_stores_figures_on_postgresql(pg_county: str) -> None:
    _same_everywhere(pg_county, ("duckdb", "spark"))


def test_auto_reads_the_segments_once_they_are_large_and_a_secret_item_from_the_store(
        demo_store: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    url = demo_store.url
    want = _figures(url, "store")[0]
    # Segments that cannot answer now are not read (analysis never writes them): the store answers.
    assert _figures(url, "duckdb") == (want, {"engine": "store", "reason": "the store has no record segments yet"})
    segments.refresh(url, min_rows=0, rebuild=True)
    (f,) = segments.folder_for(url).glob("records-*.parquet")
    full = pq.read_table(f)
    pq.write_table(full.select(list(segments.EVALUATED)), f)       # as an older release wrote it
    assert _figures(url, "duckdb") == (want, {"engine": "store", "reason": "the record segments are being rebuilt"})
    segments.refresh(url, min_rows=0)
    monkeypatch.setattr(scan, "MAX_BEHIND_MIN", 10)
    monkeypatch.setattr(scan, "MAX_BEHIND_SHARE", 0.0)
    _change_after_the_copy(url)
    want = _figures(url, "store")[0]
    got, read = _figures(url, "duckdb")
    assert got == want and read["engine"] == "store" and "records behind the store" in read["reason"]
    monkeypatch.setattr(scan, "MAX_BEHIND_MIN", 200_000)
    monkeypatch.setattr(scan, "MAX_BEHIND_SHARE", 0.10)
    got, read = _figures(url, "duckdb")
    assert got == want and read["engine"] == "duckdb" and read["fresh_rows"] >= 25
    assert _figures(url, "auto")[1]["engine"] == "store"      # a county: below a million records
    monkeypatch.setenv("CREDITGOV_ANALYSIS_SEGMENT_ROWS", "1000")
    want, read = _figures(url, "auto")
    assert read["engine"] == "duckdb"
    monkeypatch.setenv("CREDITGOV_ANALYSIS_ENGINE", "store")
    assert _figures(url, None) == (want, {"engine": "store"})
    monkeypatch.setenv("CREDITGOV_ANALYSIS_ENGINE", "fast")
    with pytest.raises(ConfigError, match="CREDITGOV_ANALYSIS_ENGINE"):
        _figures(url, None)
    with pytest.raises(InvalidInput, match="--engine"):
        _figures(url, "quick")
    monkeypatch.delenv("CREDITGOV_ANALYSIS_ENGINE")
    # A risk item made secret is never in the segments: its figures come from the store.
    with db.session_scope(url) as s:
        s.execute(update(CatalogItem).where(CatalogItem.code == "utility.bill").values(data_class="secret"))
    segments.refresh(url, min_rows=0, rebuild=True)
    got, read = _figures(url, "duckdb")
    assert read == {"engine": "store", "secret_items": ["utility.bill"]}
    assert got == want
    with db.session_scope(url) as s:
        assert s.execute(select(func.count()).select_from(CreditRecord)
                         .where(CreditRecord.item_code == "utility.bill")).scalar_one() > 0


def test_the_command_reads_the_segments_when_asked(demo_store: Demo) -> None:
    from creditgov.cli.main import app

    url = demo_store.url
    segments.refresh(url, min_rows=0, rebuild=True)
    runs = {}
    for engine in ("store", "duckdb"):
        res = CliRunner().invoke(app, ["--db", url, "analyse", "risk", "--engine", engine, "--top", "0", "--json"],
                                 catch_exceptions=False)
        assert res.exit_code == 0, res.output
        runs[engine] = json.loads(res.output)
    assert runs["duckdb"]["read"]["engine"] == "duckdb" and runs["store"]["read"] == {"engine": "store"}
    assert runs["duckdb"]["rows"] == runs["store"]["rows"] and len(runs["store"]["rows"]) > 3
    res = CliRunner().invoke(app, ["--db", url, "analyse", "risk", "--engine", "duckdb", "--top", "3"])
    assert res.exit_code == 0 and "records read on duckdb" in res.output, res.output
    res = CliRunner().invoke(app, ["--db", url, "analyse", "risk", "--engine", "quick"])
    assert isinstance(res.exception, InvalidInput) and "--engine='quick'" in str(res.exception)


def _subjects_by_driver(url: str, where: Any) -> list[tuple[Any, ...]]:
    with db.session_scope(url) as s:
        return sorted(tuple(r) for r in s.execute(select(Subject.id, Subject.region_id, Subject.industry, Subject.kind)
                                                  .where(where)))


def _subjects_read(url: str, where: Any) -> list[tuple[Any, ...]]:
    with db.session_scope(url) as s:
        t = scan.subjects_in(s, where, groups=True)
    assert t.schema.names == ["subject_id", "region_id", "industry", "kind"]
    return sorted(zip(*(t.column(n).to_pylist() for n in t.schema.names), strict=True))


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_subjects_in_scope_are_read_as_the_driver_reads_them(store: str, request: pytest.FixtureRequest) -> None:
    """The whole county through the SQLite scanner or PostgreSQL's COPY, a scope through
    the driver or COPY with its values written into the SQL: the same rows either way,
    whatever a scope's value holds."""
    url = request.getfixturevalue("demo_store").url if store == "sqlite" else request.getfixturevalue("pg_county")
    hostile = "o'brien\\'); 100%% DROP TABLE subjects; --"
    with db.session_scope(url) as s:
        s.add(Department(code=hostile, name_zh=hostile, name_en=hostile))
        s.flush()
        some = list(s.execute(select(Subject.id).order_by(Subject.id).limit(3)).scalars())
        s.execute(update(Subject).where(Subject.id == some[0]).values(industry=hostile))
        s.execute(update(Subject).where(Subject.id == some[1]).values(region_id=None, industry=None))
        s.execute(update(CreditRecord).where(CreditRecord.subject_id == some[2]).values(department_code=hostile))
    whole = _subjects_read(url, true())
    assert whole == _subjects_by_driver(url, true()) and len(whole) > 100
    assert {r[2] for r in whole} >= {hostile, None}
    for where in (_one_grid(url), Subject.id.in_(select(CreditRecord.subject_id)
                                                 .where(CreditRecord.department_code == hostile))):
        mine = _subjects_read(url, where)
        assert mine == _subjects_by_driver(url, where) and 0 < len(mine) < len(whole)
