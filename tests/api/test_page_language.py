"""The reader's language is chosen before a page is built, and errors speak it: pages
(404, 403, 422; 409 and 500 through the same table) in Chinese or English, API
problems with a human `message` in the session's or Accept-Language's language while
`title` and `detail` stay as clients know them."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from creditgov.web import i18n
from tests.api.conftest import client_for
from tests.api.county import County, form_sign_in

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def admin(sqlite_county: County) -> TestClient:
    c = client_for(sqlite_county)
    form_sign_in(c, sqlite_county, "t-admin")
    return c


def _in(c: TestClient, lang: str) -> TestClient:
    c.cookies.set(i18n.LANG_COOKIE, lang)
    return c


def _detail(html: str) -> str:
    m = re.search(r'data-testid="error-detail">([^<]*)<', html)
    assert m is not None, html
    return m.group(1)


def test_labels_built_before_render_follow_the_language(admin: TestClient) -> None:
    en = _in(admin, "en").get("/subjects").text
    assert "whole county" in en and "全域" not in en  # the scope label, built in the page function
    assert "Green" in _in(admin, "en").get("/").text  # the colour legend of the dashboard chart
    zh = _in(admin, "zh").get("/subjects").text
    assert "全域" in zh and "whole county" not in zh


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_error_pages_speak_the_readers_language(admin: TestClient, sqlite_county: County, lang: str) -> None:
    r = _in(admin, lang).get("/subjects/987654", headers={"accept": "text/html"})
    assert r.status_code == 404
    if lang == "zh":
        assert "404 · 未找到" in r.text and _detail(r.text) == "未找到主体 987654，或不在您的数据范围内。"
        assert "not found" not in r.text.lower()
    else:
        assert "404 · Not found" in r.text and "subject 987654 not found" in _detail(r.text)
    r = _in(admin, lang).get("/subjects/abc", headers={"accept": "text/html"})
    assert r.status_code == 422
    assert ("输入有误" in r.text) == (lang == "zh") and ("Invalid input" in r.text) == (lang == "en")
    worker = client_for(sqlite_county)
    form_sign_in(worker, sqlite_county, "t-grid_worker")
    r = _in(worker, lang).get("/audit", headers={"accept": "text/html"})
    assert r.status_code == 403
    detail = _detail(r.text)
    assert bool(HAN.search(detail)) == (lang == "zh"), detail


def test_every_status_has_a_title_and_sentence_in_both_languages() -> None:
    for status in (400, 403, 404, 409, 422, 429, 500):
        zh_title, zh_msg, _ = i18n.error_text(status, "something odd happened", "zh")
        en_title, en_msg, original = i18n.error_text(status, "something odd happened", "en")
        assert HAN.search(zh_title) and HAN.search(zh_msg) and not HAN.search(en_title + en_msg)
        assert original is None and en_msg == "something odd happened"
    # A Chinese reader is told plainly; the domain's own words are kept apart.
    assert i18n.error_text(409, "record 5 is already repaired", "zh")[2] == "record 5 is already repaired"
    assert i18n.error_text(404, "objection 7 not found in your data scope", "zh")[1] == \
        "未找到异议 7，或不在您的数据范围内。"


def test_hostile_detail_is_escaped_on_the_error_page(admin: TestClient) -> None:
    r = _in(admin, "en").get('/subjects/"><script>alert(1)</script>', headers={"accept": "text/html"})
    assert r.status_code in (404, 422) and "<script>alert(1)" not in r.text


def test_api_problems_carry_a_message_in_the_callers_language(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    auth = {"Authorization": f"Bearer {sqlite_county.tokens['admin']}"}
    plain = c.get("/api/v1/subjects/987654", headers=auth).json()
    zh = c.get("/api/v1/subjects/987654", headers={**auth, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).json()
    en = c.get("/api/v1/subjects/987654", headers={**auth, "Accept-Language": "en-GB,zh;q=0.1"}).json()
    assert plain["title"] == zh["title"] == "Not Found" and plain["detail"] == zh["detail"]  # RFC fields unchanged
    assert not HAN.search(plain["message"]) and not HAN.search(en["message"])
    assert zh["message"] == "未找到主体 987654，或不在您的数据范围内。"
    c.cookies.set(i18n.LANG_COOKIE, "zh")  # a session's choice wins over the header
    assert HAN.search(c.get("/api/v1/subjects/987654", headers={**auth, "Accept-Language": "en"}).json()["message"])


def test_the_file_page_explains_in_words_in_both_languages(admin: TestClient) -> None:
    zh = _in(admin, "zh").get("/subjects/1").text
    assert "73.78" in zh and "按「企业公共信用综合评价」" in zh
    assert "近3年有 1 条记录，共扣 50.0 分" in zh and "市场监督管理局，文号 长市监罚〔2024〕9号" in zh
    assert "公示期已满" in zh and "publication period ended" not in zh  # the record left out, and why
    assert "law_abiding ›" not in zh and "&#34;base&#34;" not in zh and "-50.000" not in zh.split("<details>")[0]
    en = _in(admin, "en").get("/subjects/1").text
    assert "Serious violations (last 3 years): 1 record in the last 3 years cost 50.0 points" in en
    assert "Market Supervision Administration, No. 长市监罚〔2024〕9号" in en and "publication period ended" in en
    assert 'title="50"' in en and '<span class="muted">-50</span>' in en  # the exact values on demand


def test_an_explanation_that_cannot_be_made_says_so_in_the_readers_language(admin: TestClient) -> None:
    zh = _in(admin, "zh").get("/subjects/1?model=community-resident").text
    assert "无法按模型「community-resident」解释该主体" in zh and "outside the scope" not in zh
    en = _in(admin, "en").get("/subjects/1?model=community-resident").text
    assert "outside the scope of model" in en



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_charts_name_chinese_grades_in_english(lang: str) -> None:
    """Changxing's homestay grades are 优/良/差: the English dashboard's charts (the grade
    donut and the trend) name them by their bands, the Chinese ones as the model writes
    them; letter grades stay letters."""
    from creditgov.web import pages

    o = {"distribution": {"grades_by_model": {"changxing-homestay": {"优": 3, "良": 2, "差": 1},
                                              "public-credit-enterprise": {"A": 4, "D": 1}}},
         "trend": [{"run_id": 7, "model": "changxing-homestay", "as_of": "2026-10-31", "grades": {"优": 3, "差": 1}}]}
    token = i18n.current.set(lang)
    try:
        charts = {m["model"]: m for m in pages._per_model(o)}
    finally:
        i18n.current.reset(token)
    homestay = charts["changxing-homestay"]
    want = {"优": 3, "良": 2, "差": 1} if lang == "zh" else {"Excellent": 3, "Good": 2, "Poor": 1}
    assert homestay["grades"] == want
    assert homestay["runs"][0]["grades"] == {k: v for k, v in want.items() if v != 2}
    assert charts["public-credit-enterprise"]["grades"] == {"A": 4, "D": 1}
