"""The lists' texts in both languages: the shipped lists give every legal basis, every
criterion's basis and every exit condition in English (without Chinese), the lists page
shows the basis in the page's language (SQLite and PostgreSQL), a file written before
the English fields existed still loads — its English pages show the Chinese and the
load names what is left untranslated — and an English text that says nothing is
refused naming the file and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.lists.pages import HAN, part, site

from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.lists import service as lists
from creditgov.lists.schemas import ListsFile


def _without_english(doc: Any) -> Any:
    """A lists file as written before the English texts (list names keep theirs)."""
    if isinstance(doc, dict):
        return {k: _without_english(v) for k, v in doc.items() if not (k.endswith("_en") and k != "name_en")}
    if isinstance(doc, list):
        return [_without_english(v) for v in doc]
    return doc


def test_the_shipped_lists_say_everything_in_english() -> None:
    doc = lists.read_lists()
    assert doc.untranslated() == []
    for d in doc.lists:
        texts = [d.legal_basis_en, *(c.basis_en for c in d.criteria), *(e.text_en for e in d.exit_conditions)]
        for t in texts:
            assert t and not HAN.search(t), (d.code, t)
        assert d.legal_basis_in("zh") == d.legal_basis.strip() and d.legal_basis_in("en") == d.legal_basis_en


def test_the_lists_page_shows_the_basis_in_the_pages_language(county: str, tmp_path: Path) -> None:
    pages = site(county, tmp_path)
    doc = {d.code: d for d in lists.read_lists().lists}
    for lang in ("zh", "en"):
        page = pages.get("/lists", lang)
        shown = [part(cell, "list-basis") for cell in re.findall(r'<td[^>]*data-testid="list-basis".*?</td>', page,
                                                                 re.S)]
        assert len(shown) == len(doc)
        for code, d in doc.items():
            want = d.legal_basis_in(lang)
            assert any(want.startswith(s.rstrip(".").rstrip()) for s in shown), (lang, code, shown)
        if lang == "en":
            assert not any(HAN.search(s) for s in shown), shown
        else:
            assert all(HAN.search(s) for s in shown) and not any("Guofa" in s for s in shown)


def test_a_file_without_english_still_loads_and_shows_its_chinese(county: str, tmp_path: Path) -> None:
    old = tmp_path / "lists-2026.06.yaml"
    old.write_text(yaml.safe_dump(_without_english(yaml.safe_load(lists.shipped_lists_text())), allow_unicode=True),
                   "utf-8")
    with db.session_scope(county) as s:
        out = lists.load_lists(s, path=old, actor="test")
    doc = ListsFile.model_validate(yaml.safe_load(old.read_text("utf-8")))
    assert out["lists"] == 3 and out["untranslated"] == doc.untranslated()
    assert "serious-dishonesty: legal_basis_en" in out["untranslated"]
    assert "serious-dishonesty: criteria[court-dishonest-debtor].basis_en" in out["untranslated"]
    assert "key-attention: exit_conditions[repair].text_en" in out["untranslated"]
    page = site(county, tmp_path).get("/lists", "en")
    assert "国办发〔2020〕49号" in page and "Guobanfa [2020] No. 49" not in page  # the Chinese, not nothing
    assert "Serious-dishonesty list" in page  # names were always in both languages


@pytest.mark.parametrize("blank", ["", "  ", "x"])
def test_an_english_text_that_says_nothing_is_refused(tmp_path: Path, blank: str) -> None:
    doc = yaml.safe_load(lists.shipped_lists_text())
    doc["lists"][1]["legal_basis_en"] = blank
    bad = tmp_path / "lists.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=r"lists\.yaml:\d+: lists\.1\.legal_basis_en: .*give it, or leave the field out"):
        lists.read_lists(bad)
