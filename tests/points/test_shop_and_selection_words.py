"""What a shop and the public read of the points supermarket, in Chinese and English, on
a real store (SQLite and PostgreSQL): a shop's own page leads to the code confirmation
(a resident's does not); a refused code is said on the confirmation form in the
reader's words with what was typed kept (too long, too short, unknown, hostile text);
an offer for another kind of subject says so in a sentence naming the kind by its
label; the credit-merchant selection's criteria and public period are said in the
page's language, never with the policy file's authoring note ("local choice:")."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.points import merchants
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from tests.points.board_helpers import build
from tests.points.helpers import a_shop, an_offer, give

HOSTILE = '"><b>x</b>‮😀'  # 12 characters: a code of the right length that is no code


@pytest.fixture
def shop_site(store: str, tmp_path: Path):
    ids = build(store)
    key = tmp_path / "words.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        give(s, ids["shown"], 500, "test:seed:words")
        give(s, ids["firm0"], 500, "test:seed:words-firm")
        a_shop(s, owner=ids["m0"])
        ids["offer"] = an_offer(s, price=100, stock=3).id
        ids["residents_only"] = an_offer(s, price=100, stock=3, kinds=["individual"]).id
        tokens = {}
        for name, sid in (("resident", ids["shown"]), ("shopkeeper", ids["m0"]), ("firm", ids["firm0"])):
            u = users.create_user(s, username=name, password=None, role="subject", subject_id=sid, actor="test")
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
        for name in ("office",):
            u = users.create_user(s, username=name, password=None, role="credit_office", actor="test")
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
        merchants.open_selection(s, code="2026", title="2026年度诚信商户评选", actor="office")
    return TestClient(create_app(store, key), base_url="https://testserver"), tokens, ids


def _get(c: TestClient, path: str, token: str | None = None, lang: str = "zh") -> str:
    c.cookies.set("cg_lang", lang)
    r = c.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})
    assert r.status_code == 200, r.text
    return r.text


def _find(pattern: str, text: str) -> str:
    m = re.search(pattern, text, re.S)
    assert m is not None, (pattern, text[:2000])
    return m.group(1)


def _confirm(c: TestClient, token: str, code: str, lang: str) -> tuple[int, str, str, str]:
    """(status, the error said, the code field's value, the page) after confirming `code`."""
    c.cookies.set("cg_lang", lang)
    r = c.post("/points/confirm", data={"code": code}, headers={"Authorization": f"Bearer {token}"})
    error = re.search(r'data-testid="error">(.*?)</div>', r.text, re.S)
    field = re.search(r'<input name="code"[^>]*value="([^"]*)"', r.text)
    assert field is not None and 'data-testid="confirm-form"' in r.text, r.text  # the form is still there
    return r.status_code, html.unescape(error.group(1)) if error else "", html.unescape(field.group(1)), r.text


def test_a_shop_finds_its_confirmation_page_on_its_own_page(shop_site) -> None:
    c, tok, _ids = shop_site
    for lang, words in (("zh", "核销兑换码"), ("en", "Confirm a redemption code")):
        page = _get(c, "/me/points", tok["shopkeeper"], lang)
        assert 'data-testid="shop-confirm"' in page and 'href="/points/confirm"' in page
        assert "诚信超市" in page and words in page
        resident = _get(c, "/me/points", tok["resident"], lang)
        assert 'href="/points/confirm"' not in resident and 'data-testid="shop-confirm"' not in resident
    confirm = _get(c, "/points/confirm", tok["shopkeeper"], "zh")
    assert 'data-testid="confirm-shops"' in confirm and "诚信超市" in confirm
    assert 'data-testid="confirm-no-shop"' in _get(c, "/points/confirm", tok["firm"], "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_code_is_said_on_the_form_and_kept(shop_site, lang: str) -> None:
    c, tok, ids = shop_site
    zh = lang == "zh"
    long = "JF-ABCDE-FGHJK-MNPQRSTUV"  # 24 characters
    status, said, kept, page = _confirm(c, tok["shopkeeper"], long, lang)
    assert status == 422 and kept == long
    assert said == ("“兑换码”最多 20 个字符。" if zh else "“Redemption code” can have at most 20 characters.")
    assert "body.code" not in page and "String should" not in page
    status, said, kept, _ = _confirm(c, tok["shopkeeper"], "JF", lang)
    assert status == 422 and kept == "JF"
    assert said == ("“兑换码”至少要有 4 个字符。" if zh else "“Redemption code” needs at least 4 characters.")
    status, said, kept, _ = _confirm(c, tok["shopkeeper"], "JF-22222-33333", lang)
    assert status == 404 and kept == "JF-22222-33333"
    assert said == ("没有这个兑换码，请核对后重新输入。" if zh else
                    "No redemption has this code; check it and enter it again.")
    status, said, kept, page = _confirm(c, tok["shopkeeper"], HOSTILE, lang)
    assert status == 404 and kept == HOSTILE and "<b>x</b>" not in page  # shown back as text
    # A real code: settled, and the field is empty for the next one.
    c.cookies.set("cg_lang", lang)
    r = c.post("/api/v1/points/redemptions", json={"offer_id": ids["offer"]},
               headers={"Authorization": f"Bearer {tok['resident']}", "Idempotency-Key": f"words-{lang}"})
    assert r.status_code == 201, r.text
    status, said, kept, page = _confirm(c, tok["shopkeeper"], " " + r.json()["code"].lower() + " ", lang)
    assert (status, said, kept) == (200, "", "") and 'data-testid="confirm-done"' in page


def test_an_offer_for_another_kind_says_so_in_a_sentence(shop_site) -> None:
    c, tok, ids = shop_site
    said = {}
    for lang in ("zh", "en"):
        page = _get(c, "/me/points", tok["firm"], lang)
        row = page.split(f'data-testid="offer-{ids["residents_only"]}"')[1].split("</tr>")[0]
        said[lang] = html.unescape(_find(r'data-testid="why-not">(.*?)</span>', row))
    assert said == {"zh": "仅限自然人兑换。", "en": "The offer is only for subjects of the kind “Individual”."}


def test_the_selection_criteria_in_the_pages_language(shop_site) -> None:
    c, tok, _ids = shop_site
    for path, token in (("/public/selections/2026", None), ("/points/selections/2026", tok["office"])):
        zh = html.unescape(_get(c, path, token, "zh"))
        en = html.unescape(_get(c, path, token, "en"))
        for page in (zh, en):
            assert "local choice" not in page.lower()
        criteria = _find(r'data-testid="selection-criteria">(.*?)</p>', zh)
        assert "个体工商户/商户" in criteria and "优秀(守信)及以上" in criteria and "近 24 个月" in criteria
        assert "严重失信主体名单" in criteria and "本地规定" in criteria
        window = _find(r'data-testid="selection-window">(.*?)</p>', zh)
        assert "5 个工作日" in window and "本地规定" in window
        criteria = _find(r'data-testid="selection-criteria">(.*?)</p>', en)
        assert "“Individual business or merchant”" in criteria and "“Excellent” or better" in criteria
        assert "24 months" in criteria and "(Basis: local rule)" in re.sub(r"<[^>]+>", "", criteria)
        assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", criteria))  # no Chinese on the English page
        window = re.sub(r"<[^>]+>", "", _find(r'data-testid="selection-window">(.*?)</p>', en))
        assert "5 working days from the opening" in window and "local rule" in window
        assert not re.search(r"[\u4e00-\u9fff]", window)


def test_a_citation_names_its_kind_or_itself() -> None:
    assert merchants.basis_words("local choice: 评选结果公示期5个工作日") == ("本地规定", "local rule")
    assert merchants.basis_words("Local choice, stated") == ("本地规定", "local rule")
    law = "国发〔2016〕33号 二(五)"
    assert merchants.basis_words(law) == (law, law)
    assert merchants.basis_words(None) is None
    # A copy of criteria this version cannot read is described by its bases alone.
    odd = merchants.criteria_words({"criteria_citation": "local choice: x", "objection_window": {"citation": law}})
    assert odd == {"criteria": None, "window": None, "criteria_basis": ("本地规定", "local rule"),
                   "window_basis": (law, law)}
