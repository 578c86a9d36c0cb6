"""A NUL character (U+0000) in a cell: PostgreSQL's text cannot hold it, and a name
holding one used to fail the whole ingestion there (`DataError`, nothing stored). It is
refused as the row's reason, on both stores alike, and the rest of the county goes in —
in a subject's name, in an attribute (where its JSON escape would later fail the
PostgreSQL engine and the Spark executors' read) and in a record's field."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from creditgov.core.db import session_scope
from creditgov.ingest.pipeline import NUL_REASON, CompiledSpec
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.service import ingest_paths
from creditgov.security.crypto import KeyRing


def _edit(path: Path, encoding: str, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding=encoding).splitlines()
    assert old in lines[line], lines[line]
    lines[line] = lines[line].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding=encoding)


def test_nul_cells_are_quarantined_with_their_reason(store: str, mini: Path, keyring: KeyRing) -> None:
    spec = mini / "specs" / "market_registration.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "attributes: {registered_capital: 注册资本(万元)}",
        "attributes: {registered_capital: 注册资本(万元), trade_name: 主体名称}"), encoding="utf-8")
    data = mini / "data"
    _edit(data / "market_registration.csv", "gbk", 1, "有限公司", "有限\x00公司")  # name and attribute
    _edit(data / "market_links.csv", "utf-8", 2, "员工", "员\x00工")
    out = ingest_paths(store, keyring, [mini], actor="test").counts
    assert out.rejected >= 2 and out.accepted > 0
    with session_scope(store) as s:
        reasons = [r for (r,) in s.execute(sa.text("SELECT reason FROM ingest_quarantine ORDER BY id"))]
        names = [n for (n,) in s.execute(sa.text("SELECT name FROM subjects"))]
        attrs = [a for (a,) in s.execute(sa.text("SELECT CAST(attributes AS TEXT) FROM subjects"))]
    nul = [r for r in reasons if "U+0000" in r]
    assert len(nul) == 2, reasons
    # each naming the file's column it was found in
    assert (NUL_REASON.format(field="name") + " (column '主体名称', field name)" in nul
            or NUL_REASON.format(field="attr.trade_name") + " (column '主体名称', field attr.trade_name)" in nul), nul
    assert NUL_REASON.format(field="role") + " (column '角色', field role)" in nul, nul
    assert names and not any("\x00" in n for n in names)
    assert not any("\\u0000" in a for a in attrs)


def test_the_trace_stops_at_the_nul() -> None:
    spec = SourceSpec.model_validate({
        "name": "s", "version": "1", "title": "t", "department": "market", "kind": "registration",
        "file": "f.csv", "format": "csv", "columns": {"uscc": "code", "name": "name"},
        "steps": [{"field": "*", "op": "trim"}]})
    c = CompiledSpec(spec)
    steps, vals = c.trace({"code": "91330522MA2B00010N", "name": " a\x00b "})
    assert vals is None and steps[-1].error == NUL_REASON.format(field="name")


def test_a_manual_entry_with_a_nul_is_refused_before_anything_is_kept(store: str, keyring: KeyRing) -> None:
    import pytest

    from creditgov.core.errors import InvalidInput
    from creditgov.ingest import manual
    from creditgov.ingest.models import ManualEntry

    fields = {"identifier": "91330522MA2B00010N", "name": "长兴\x00织造", "item": "market.penalty",
              "occurred_on": "2026-05-03"}
    with session_scope(store) as s:
        with pytest.raises(InvalidInput, match="name holds a NUL"):
            manual.propose(s, keyring, kind="record", department="market", fields=fields, reason="核对")
        with pytest.raises(InvalidInput, match="reason holds a NUL"):
            manual.propose(s, keyring, kind="record", department="market", fields={**fields, "name": "长兴"},
                           reason="核\x00对")
        assert s.query(ManualEntry).count() == 0
