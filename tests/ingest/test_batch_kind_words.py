"""Every kind of batch the code writes (`Batch(kind=...)` anywhere in the package: a
department's file, a quarantine retry, a manual entry, an inspection's result) has a
Chinese and an English name, which the 数据归集 page shows instead of the code; and
each quarantine reason category a manual-entry refusal or the quarantine page names
has both names."""

from __future__ import annotations

import ast
from pathlib import Path

from creditgov import bootstrap
from creditgov.core import labels
from creditgov.ingest.labels import BATCH_KIND
from creditgov.ingest.reasons import REASON_PATTERNS, reason_code

SRC = Path(__file__).resolve().parents[2] / "src" / "creditgov"


def _kinds_written() -> set[str]:
    out: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Batch":
                for kw in node.keywords:
                    if kw.arg == "kind":
                        assert isinstance(kw.value, ast.Constant), f"{path}:{node.lineno}: a batch's kind is a literal"
                        out.add(str(kw.value.value))
    return out


def test_every_batch_kind_has_both_names() -> None:
    bootstrap.wire()
    written = _kinds_written()
    assert {"file", "retry", "manual", "inspection"} <= written
    assert written <= set(BATCH_KIND), sorted(written - set(BATCH_KIND))
    for kind in written:
        zh, en = labels.label("batch_kind", kind, "zh"), labels.label("batch_kind", kind, "en")
        assert zh != kind and en != kind and zh != en


def test_every_quarantine_category_has_both_names() -> None:
    bootstrap.wire()
    for code in [c for c, _rx in REASON_PATTERNS] + ["other"]:
        zh, en = labels.label("quarantine_reason", code, "zh"), labels.label("quarantine_reason", code, "en")
        assert zh != code and en != code and zh != en, code
    assert reason_code("invalid unified social credit code '91330127MA5LKWE27W': The number's checksum or check "
                       "digit is invalid.") == "bad_identifier"
    assert reason_code("subject not registered: credit code 91330127MAX80G7J8F") == "unregistered"
