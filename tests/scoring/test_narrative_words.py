"""The explanation's words for what is not a number: a record left out by its status
says that status by the records domain's own label (every status a record can have,
so a status added there is said here too), and the line from the model's base to the
score reads as one sentence in either language."""

from __future__ import annotations

import re

import pytest

from creditgov.records.labels import RECORD_STATUS
from creditgov.records.models import STATUSES
from creditgov.scoring import narrative


@pytest.mark.parametrize("status", STATUSES)
def test_every_record_status_is_said_by_its_label(status: str) -> None:
    zh, en = RECORD_STATUS[status]  # the records domain names every status it has
    said_zh = narrative.reason_text(f"{status} on the as-of date", "zh")
    said_en = narrative.reason_text(f"{status} on the as-of date", "en")
    assert said_zh == f"评价日状态为“{zh}”"
    assert not re.search(r"[A-Za-z]", said_zh), said_zh
    assert said_en == f"{en[:1].lower()}{en[1:]} on the as-of date"
    assert narrative.status_text(status, "zh") == zh and narrative.status_text(status, "en") == en


def test_the_explanations_status_words_are_the_records_domains() -> None:
    assert set(narrative.STATUSES) == set(STATUSES) and narrative.STATUSES is RECORD_STATUS


def test_a_reason_that_is_no_status_keeps_its_own_words() -> None:
    assert narrative.reason_text("publication period ended", "zh") == "公示期已满"
    assert narrative.reason_text("revoked", "en") == "revoked"
    assert narrative.reason_text("something new", "zh") == "something new"


def _waterfall(mode: str, lang: str) -> dict:
    labels = {("points", "zh"): "基础分", ("points", "en"): "base", ("weighted", "zh"): "满分",
              ("weighted", "en"): "full marks"}
    return {"base": 80.0 if mode == "points" else 100.0,
            "steps": [{"name": "公共信用" if lang == "zh" else "Public credit", "exact": "0"},
                      {"name": "<b>奖励</b>" if lang == "zh" else "Bonus", "exact": "-2.35"}],
            "labels": {"base": labels[(mode, lang)], "total": "得分" if lang == "zh" else "score"}}


def test_the_line_from_the_base_to_the_score() -> None:
    assert narrative.steps_line(_waterfall("points", "zh"), "77.65", "zh") == \
        "基础分 80.0；公共信用 0.0，<b>奖励</b> \u22122.4；得分 77.65。"
    assert narrative.steps_line(_waterfall("points", "en"), "77.65", "en") == \
        "Base 80.0; Public credit 0.0, Bonus \u22122.4; score 77.65."
    assert narrative.steps_line(_waterfall("weighted", "en"), "97.65", "en").startswith("Full marks 100.0; ")
    bare = {**_waterfall("points", "zh"), "steps": []}
    assert narrative.steps_line(bare, "80.00", "zh") == "基础分 80.0；得分 80.00。"


def test_a_grade_written_in_chinese_is_said_by_its_band_in_english() -> None:
    """Changxing's homestays are graded 优/良/差: an English sentence names the grade by
    its band in the model (the page's header does), a letter grade stays itself."""
    from creditgov.scoring.service import shipped_models

    models = shipped_models()
    homestay, firms = models["changxing-homestay"], models["public-credit-enterprise"]
    bands = {g.label: g.band for g in homestay.grades}
    assert bands["优"] == "excellent" and bands["差"] == "poor"
    assert narrative._grade_en(homestay, "优") == "Excellent"
    assert narrative._grade_en(homestay, "差") == "Poor"
    assert narrative._grade_en(firms, "B") == "B"
    assert narrative._grade_en(homestay, "甲") == "甲"  # not the model's: kept as written
