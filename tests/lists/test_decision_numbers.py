"""Decision numbers (发文字号) are a deployment's choice per identifying unit (issue 21):
the shipped file holds generic county defaults; a deployment's own file, named in
CREDITGOV_DECISION_NUMBERS, is validated when read (citation required, placeholders
required) and then numbers every unit's decisions in the official format
(GB/T 9704-2012 7.2.4: 长法失惩〔2026〕12号)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.lists import numbers

OWN = """\
version: "2027.1"
citation: "长兴县人民政府办公室 发文机关代字登记表（2027）"
format: "{prefix}〔{year}〕{seq}号"
units:
  court: {prefix: 长法失惩}
  market: {prefix: 长市监信}
default: {prefix: "长{unit}"}
"""


def test_the_shipped_defaults_number_in_the_official_format(county: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(numbers.ENV, raising=False)
    doc, source = numbers.in_force()
    assert "shipped" in source and doc.citation.startswith("GB/T 9704-2012")
    with db.session_scope(county) as s:
        assert numbers.next_number(s, unit="court", year=2026) == "县法失惩〔2026〕1号"


def test_a_deployments_own_codes_are_in_force(county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              cli: Any) -> None:
    own = tmp_path / "decision_numbers.yaml"
    own.write_text(OWN, encoding="utf-8")
    monkeypatch.setenv(numbers.ENV, str(own))
    doc, source = numbers.in_force()
    assert source == str(own) and doc.version == "2027.1"
    with db.session_scope(county) as s:
        assert numbers.next_number(s, unit="court", year=2026) == "长法失惩〔2026〕1号"
        assert numbers.next_number(s, unit="market", year=2027) == "长市监信〔2027〕1号"
        # A unit the file does not name: the default prefix with its department's name.
        assert numbers.next_number(s, unit="safety", year=2026).startswith("长应急")
    res = cli("--db", county, "lists", "numbers", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["source"] == str(own) and out["citation"].startswith("长兴县")
    assert {u["unit"]: u["next"] for u in out["units"]}["court"].startswith("长法失惩〔")


@pytest.mark.parametrize(("change", "words"), [
    (lambda t: t.replace('citation: "长兴县人民政府办公室 发文机关代字登记表（2027）"\n', ""), "citation"),
    (lambda t: t.replace("{seq}号", "号"), "{seq}"),
    (lambda t: t.replace("court: {prefix: 长法失惩}", "court: {prefix: 长法失惩, code: 1}"), "code"),
])
def test_a_deployments_file_is_validated_when_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   change: Any, words: str) -> None:
    own = tmp_path / "decision_numbers.yaml"
    own.write_text(change(OWN), encoding="utf-8")
    monkeypatch.setenv(numbers.ENV, str(own))
    with pytest.raises(ConfigError) as exc:
        numbers.in_force()
    assert str(own) in str(exc.value) and words in str(exc.value)
    monkeypatch.setenv(numbers.ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="not found"):
        numbers.in_force()
