"""The one table writer (`core.tables`) behind every export and `--out FILE`: the file's
suffix chooses the format, a hostile cell stays text in both, a control character XML
cannot hold does not break the workbook, and a failure leaves no file behind."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from creditgov.core import tables
from creditgov.core.errors import InvalidInput

HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", '"><script>alert(1)</script>', "O'Brien \"引号\"",
           "长" * 300 + "😀", "控制\x01\x1b[31m红"]


def test_the_suffix_chooses_the_format_and_cells_stay_text(tmp_path: Path) -> None:
    n = tables.write_file(tmp_path / "t.XLSX", title="名单/[x]:*?", header=["a"] * len(HOSTILE),
                          rows=iter([HOSTILE, [1, 2.5, None, "", "x", "y", "z", "w"]]))
    assert n == 2
    wb = load_workbook(tmp_path / "t.XLSX")
    ws = wb.active
    assert ws.title == "名单__x____"
    got = [list(r) for r in ws.iter_rows(values_only=True)]
    assert got[1][:7] == HOSTILE[:7] and got[1][7] == "控制\ufffd\ufffd[31m红"  # text, never a formula
    assert got[2][:2] == [1, 2.5]
    assert tables.write_file(tmp_path / "t.csv", title="t", header=["a"] * len(HOSTILE), rows=[HOSTILE]) == 1
    body = (tmp_path / "t.csv").read_bytes()
    assert body.startswith("\ufeff".encode())
    row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1]
    assert row[:4] == ["'" + v for v in HOSTILE[:4]] and row[4:] == HOSTILE[4:]


def test_a_wrong_suffix_or_a_failure_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=".xlsx or .csv"):
        tables.write_file(tmp_path / "t.pdf", title="t", header=["a"], rows=[["x"]])

    def broken() -> Iterator[list[str]]:
        yield ["x"]
        raise RuntimeError("the store went away")

    for name in ("t.csv", "t.xlsx"):
        with pytest.raises(RuntimeError):
            tables.write_file(tmp_path / name, title="t", header=["a"], rows=broken())
    assert list(tmp_path.iterdir()) == []
