"""Models as data: the shipped packs' shape, and validation errors that name the file,
the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from creditgov.core.errors import ConfigError
from creditgov.scoring import service
from creditgov.scoring.bands import BANDS
from creditgov.scoring.model import EvaluationModel, Records, json_schema

PACKS = ("qujiang-park", "zhili-childrenswear", "changxing-homestay", "yiwu-ecommerce", "community-resident",
         "public-credit-enterprise", "qianjiang-score", "combined-supervision")


@pytest.fixture(scope="module")
def packs() -> dict[str, EvaluationModel]:
    return service.shipped_models()


def _items_of(m: EvaluationModel) -> set[str]:
    return {code for _, code in m.catalogue_refs()}


def test_eight_packs_ship_and_validate(packs: dict[str, EvaluationModel]) -> None:
    assert sorted(packs) == sorted(PACKS)
    for name, m in packs.items():
        assert m.name == name and m.scope.kinds, name


def test_qujiang_park_has_6_25_42_indicators(packs: dict[str, EvaluationModel]) -> None:
    m = packs["qujiang-park"]
    assert m.levels() == {1: 6, 2: 25, 3: 42}
    leaf_depths = {d for top in m.indicators for d, n in top.walk() if n.item is not None}
    assert leaf_depths == {3} and len(m.leaves()) == 42
    assert m.scope.kinds == ["enterprise"] and m.scope.attributes == {"park": 1}


def test_zhili_has_the_papers_five_dimensions_and_eleven_indicators(packs: dict[str, EvaluationModel]) -> None:
    m = packs["zhili-childrenswear"]
    assert [d.name for d in m.indicators] == ["信用综合", "履约践诺", "行业责任", "发展能力", "依规守法"]
    assert len(m.leaves()) == 11 and m.levels() == {1: 5, 2: 11}
    assert m.scope.industries == ["childrenswear"]


def test_changxing_is_a_100_point_scheme_with_85_as_the_good_line(packs: dict[str, EvaluationModel]) -> None:
    m = packs["changxing-homestay"]
    assert m.aggregation.mode == "points" and m.aggregation.upper == 100
    best = m.grades[0]
    assert best.min == 85 and best.colour == "green"
    assert all(g.colour != "green" for g in m.grades[1:])
    assert "tourism.homestay_check" in _items_of(m) and m.scope.kinds == ["homestay"]


def test_yiwu_negatives_and_positives(packs: dict[str, EvaluationModel]) -> None:
    m = packs["yiwu-ecommerce"]
    assert [g.label for g in m.grades] == ["A", "B", "C", "D"]
    signs: dict[str, int] = {}
    for leaf in m.leaves():
        if isinstance(leaf.item, Records):
            for code in leaf.item.match.items:
                signs[code] = 1 if leaf.item.points > 0 else -1
    for negative in ("market.complaint", "grid.garbage_rectification", "utility.arrears"):
        assert signs[negative] == -1
    for positive in ("civility.volunteer", "opinion.positive"):
        assert signs[positive] == 1


def test_community_and_public_credit_packs(packs: dict[str, EvaluationModel]) -> None:
    c = packs["community-resident"]
    assert c.scope.kinds == ["individual"]
    assert [d.name for d in c.indicators] == ["个人品德", "家庭美德", "社会公德"]
    p = packs["public-credit-enterprise"]
    assert [g.label for g in p.grades] == ["A", "B", "C", "D"] and p.scope.kinds == ["enterprise"]


def test_every_pack_has_a_docs_page() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "models"
    for name in PACKS:
        assert (docs / f"{name}.md").is_file(), name


GOOD = """\
name: demo
version: "1"
title: demo
scope: {kinds: [enterprise]}
aggregation: {mode: weighted}
grades:
  - {label: A, min: 60, colour: green}
  - {label: B, colour: red}
indicators:
  - code: law
    name: 守法
    weight: 1
    children:
      - code: pen
        name: 处罚
        weight: 2
        item: {kind: records, match: {items: [market.penalty]}, base: 100, points: -10}
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        service.validate_text(text, "models/demo.yaml", service.shipped_catalog())
    return str(exc.value)


def test_a_good_file_validates() -> None:
    m = service.validate_text(GOOD, "models/demo.yaml", service.shipped_catalog())
    assert m.levels() == {1: 1, 2: 1}


def test_errors_name_file_line_and_field() -> None:
    msg = _error(GOOD.replace("weight: 2", "weight: heavy"))
    assert msg.startswith("models/demo.yaml:16: indicators.0.children.0.weight:"), msg
    msg = _error(GOOD.replace("items: [market.penalty]", "items: [market.penalti]"))
    assert msg.startswith("models/demo.yaml:17: indicators.0.children.0.item.match.items.0:"), msg
    assert "unknown catalogue item 'market.penalti'" in msg
    msg = _error(GOOD.replace("items: [market.penalty]", "items: [police.case]"))
    assert msg.startswith("models/demo.yaml:17:") and "secret" in msg
    msg = _error(GOOD.replace("kind: records,", "kind: recrods,"))
    assert msg.startswith("models/demo.yaml:17: indicators.0.children.0.item:"), msg
    msg = _error(GOOD.replace("colour: red", "colour: purple"))
    assert msg.startswith("models/demo.yaml:8: grades.1.colour:"), msg


def test_rules_across_fields_are_enforced() -> None:
    assert "needs a weight" in _error(GOOD.replace("        weight: 2\n", ""))
    assert "score between 0 and 100" in _error(GOOD.replace("base: 100", "base: 120"))
    assert "strictly falling" in _error(GOOD.replace("{label: B, colour: red}",
                                                     "{label: B, min: 70, colour: red}\n  - {label: C, colour: red}"))
    assert "decay needs a window" in _error(GOOD.replace("points: -10}", "points: -10, decay: {half_life_days: 30}}"))
    leafless = GOOD.split("        item:")[0]
    assert "either children or an item" in _error(leafless)


def test_json_schema_describes_the_model(cli) -> None:
    res = cli("model", "schema")
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema == json_schema()
    assert {"name", "version", "scope", "aggregation", "grades", "indicators"} <= set(schema["required"])
    kinds = {v["properties"]["kind"]["const"] for k, v in schema["$defs"].items() if "kind" in v.get("properties", {})
             and "const" in v["properties"]["kind"]}
    assert {"attribute_band", "category_map", "records", "grade", "ratio", "assessment", "list"} <= kinds


def test_validate_command_reports_the_error_and_exits_nonzero(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("weight: 2", "weight: -2"), encoding="utf-8")
    import sys

    from creditgov.cli.main import run  # the real entry point translates errors to exit code 2

    argv = sys.argv
    sys.argv = ["creditgov", "model", "validate", str(bad)]
    try:
        with pytest.raises(SystemExit) as exc:
            run()
    finally:
        sys.argv = argv
    assert exc.value.code == 2
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    res = cli("model", "validate", str(good), "--json")
    assert json.loads(res.stdout)["levels"] == {"1": 1, "2": 1}


def test_every_shipped_pack_maps_every_grade_to_a_band_with_its_basis(packs: dict[str, EvaluationModel]) -> None:
    for name, m in packs.items():
        assert set(m.bands()) == {g.label for g in m.grades}, name
        assert m.bands_basis and len(m.bands_basis) > 20, name
        ranks = [BANDS.index(m.bands()[g.label]) for g in m.grades]
        assert ranks == sorted(ranks), name  # never a better band for a worse grade
    assert packs["community-resident"].bands()["AA"] == "excellent"
    assert packs["changxing-homestay"].bands()["优"] == "excellent"
    assert packs["yiwu-ecommerce"].bands()["B"] == "good"


def test_bands_are_validated_with_file_line_and_field() -> None:
    banded = GOOD.replace("{label: A, min: 60, colour: green}", "{label: A, min: 60, colour: green, band: good}")
    assert "every grade names its band, or none does" in _error(banded)
    both = banded.replace("{label: B, colour: red}", "{label: B, colour: red, band: poor}")
    assert "bands_basis" in _error(both)
    with_basis = both.replace("indicators:", "bands_basis: local choice, stated here\nindicators:")
    assert service.validate_text(with_basis, "models/demo.yaml", service.shipped_catalog()).bands() == {
        "A": "good", "B": "poor"}
    assert "in a better band" in _error(with_basis.replace("band: poor", "band: excellent"))
    msg = _error(with_basis.replace("band: poor", "band: awful"))
    assert msg.startswith("models/demo.yaml:8: grades.1.band:"), msg
