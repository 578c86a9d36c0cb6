"""A supervision policy by its title and its bands by their names, in Chinese and in
English: the shipped policies name every band a page shows (`at-least-85` is "85 分及以上"
/ "85 points and above") and title themselves in English; a deployment's own policy file,
loaded into the store, names its bands from there (SQLite and PostgreSQL); a band no
file names is shown by its label, as written."""

from __future__ import annotations

from pathlib import Path

import yaml

from creditgov import bootstrap
from creditgov.core import db, labels
from creditgov.supervision import service as supervision_service

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "supervision" / "every-enterprise.yaml"
HOSTILE = "<b>甲档</b> “引号” \u202e😀"


def test_the_shipped_policies_name_their_bands_and_titles() -> None:
    bootstrap.wire()
    doc = supervision_service.read_policies()
    for p in doc.policies:
        assert p.title_en and p.title_en != p.title, p.name
        assert labels.label("supervision_policy", p.name, "zh") == p.title
        assert labels.label("supervision_policy", p.name, "en") == p.title_en
        for b in p.bands:
            assert b.name_zh and b.name_en, (p.name, b.label)
            assert labels.label("supervision_band", b.label, "zh") == b.name_zh
            assert labels.label("supervision_band", b.label, "en") == b.name_en
    assert labels.label("supervision_band", "at-least-85", "zh") == "85 分及以上"
    assert labels.label("supervision_band", "below-85", "en") == "below 85 points"
    assert labels.label("supervision_band", "A", "en") == "Class A (low risk)"
    assert labels.label("supervision_band", "no-such-band", "en") == "no-such-band"
    assert labels.label("supervision_band", None, "zh") == ""


def test_no_shipped_citation_names_an_internal_document() -> None:
    """Citations name public sources: the regulation, or the town's practice the paper
    describes — never the team's own digest of it or its section numbers."""
    doc = supervision_service.read_policies()
    texts = [doc.citation] + [p.citation for p in doc.policies] + [b.citation for p in doc.policies for b in p.bands]
    for t in texts:
        assert "digest" not in t.lower() and "paper" not in t.lower() and "§" not in t, t


def test_a_deployments_own_policy_names_its_bands_from_the_store(store: str, tmp_path: Path) -> None:
    bootstrap.wire()
    doc = yaml.safe_load(FIXTURE.read_text("utf-8"))
    p = doc["policies"][0]
    p["name"], p["title_en"] = "own-policy", "Our own policy"
    p["bands"][0] = {**p["bands"][0], "label": "tier-1", "name_zh": HOSTILE, "name_en": "Tier one"}
    p["bands"][1] = {**p["bands"][1], "label": "tier-2"}  # no names: shown by its label
    p["unrated"] = "tier-2"
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with db.session_scope(store) as s:
        supervision_service.load_policies(s, path=path, actor="test")
    labels.clear()
    with labels.store(store):
        assert labels.label("supervision_band", "tier-1", "zh") == HOSTILE
        assert labels.label("supervision_band", "tier-1", "en") == "Tier one"
        assert labels.label("supervision_band", "tier-2", "en") == "tier-2"
        assert labels.label("supervision_policy", "own-policy", "zh") == "全部企业抽查 (测试用)"
        assert labels.label("supervision_policy", "own-policy", "en") == "Our own policy"
    # without the store, the shipped file names only the shipped policies
    assert labels.label("supervision_band", "tier-1", "zh", url="") == "tier-1"


def test_the_policy_table_cuts_a_chinese_citation_after_a_clause() -> None:
    """Chinese has no spaces to cut at: the supervision page's policy table shows a long
    citation up to its last clause mark in reach, never half a word, whole when short."""
    from creditgov.supervision.access import short_citation

    by_name = {p.name: p.citation for p in supervision_service.read_policies().policies}
    assert short_citation(by_name["bayannur-enterprise"]) == by_name["bayannur-enterprise"]
    cut = short_citation(by_name["changxing-homestay"])
    assert cut.endswith("民宿信用信息……") and by_name["changxing-homestay"].startswith(cut) and len(cut) < 90
    assert short_citation("甲乙丙丁，" * 30) == "甲乙丙丁，" * 16 + "甲乙丙丁…"   # the comma before the cut dropped
