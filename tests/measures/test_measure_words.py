"""The measures' texts in both languages: the shipped measures give the implementing
department, the legal basis and the action in English (without Chinese) and in Chinese
(without English words); the measures page and a check's result show them in the
page's language (SQLite and PostgreSQL); a file written before the English fields
existed still loads — its English pages show the Chinese, and the load names what is
left untranslated — and an English text that says nothing is refused."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.lists.helpers import add_run, make_subject
from tests.lists.pages import HAN, part, seen, site

from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.measures import service as measures
from creditgov.measures.schemas import MeasuresFile

TEXTS = ("department_name", "legal_basis", "action")


def _rows(page: str) -> dict[str, str]:
    """The measures table's rows by the measure's code (shown in `<code>`), as seen."""
    table = page.split("<table>", 2)[1]
    return {m.group(1): seen("<main>" + row) for row in table.split("<tr>")[2:]
            if (m := re.search(r'<code class="muted">([a-z0-9-]+)</code>', row))}


def test_the_shipped_measures_say_everything_in_both_languages() -> None:
    doc = measures.read_measures()
    assert doc.untranslated() == []
    for m in doc.measures:
        for f in TEXTS:
            zh, en = getattr(m, f), getattr(m, f + "_en")
            assert en and not HAN.search(en), (m.code, f, en)
            assert not re.search(r"[A-Za-z]{3,}", zh), (m.code, f, zh)


def test_the_measures_page_reads_in_the_pages_language(county: str, tmp_path: Path) -> None:
    pages = site(county, tmp_path)
    doc = {m.code: m for m in measures.read_measures().measures}
    for lang in ("zh", "en"):
        rows = _rows(pages.get("/measures", lang))
        assert set(rows) == set(doc)
        for code, m in doc.items():
            row = rows[code]
            for f in TEXTS:
                shown = getattr(m, f + "_en") if lang == "en" else getattr(m, f)
                # the basis is cut to the column's width, with an ellipsis
                assert (shown.strip()[:60] if f == "legal_basis" else shown) in row, (lang, code, f, row)
            other = [getattr(m, f) for f in TEXTS] if lang == "en" else [getattr(m, f + "_en") for f in TEXTS]
            assert not any(o.strip()[:30] in row for o in other), (lang, code, row)


def test_a_checks_result_reads_in_the_pages_language(county: str, tmp_path: Path) -> None:
    with db.session_scope(county) as s:
        firm = make_subject(s)
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 30), [(firm, "A", "green")])
        firm_id = firm.id
    m = measures.read_measures()
    fast = next(x for x in m.measures if x.code == "fast-track-approval")
    pages = site(county, tmp_path)
    for lang in ("zh", "en"):
        page = pages.post(f"/subjects/{firm_id}/check", lang, {"scenario": "administrative-approval"})
        said = part(page, "check-result")
        action, basis = (fast.action_en, fast.legal_basis_en) if lang == "en" else (fast.action, fast.legal_basis)
        assert f"{action} " in said and (basis or "").strip() in said, (lang, said)
        assert (fast.legal_basis if lang == "en" else fast.legal_basis_en or "") not in said


def _without_english(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_english(v) for k, v in doc.items() if not (k.endswith("_en") and k != "name_en")}
    if isinstance(doc, list):
        return [_without_english(v) for v in doc]
    return doc


def test_a_file_without_english_still_loads_and_shows_its_chinese(county: str, tmp_path: Path) -> None:
    old = tmp_path / "measures-2026.06.yaml"
    old.write_text(yaml.safe_dump(_without_english(yaml.safe_load(measures.shipped_text("measures.yaml"))),
                                  allow_unicode=True), "utf-8")
    with db.session_scope(county) as s:
        out = measures.load_measures(s, path=old, actor="test")
    doc = MeasuresFile.model_validate(yaml.safe_load(old.read_text("utf-8")))
    assert out["untranslated"] == doc.untranslated() and len(out["untranslated"]) == 3 * len(doc.measures)
    assert "prudent-credit: legal_basis_en" in out["untranslated"]
    row = _rows(site(county, tmp_path).get("/measures", "en"))["prudent-credit"]
    prudent = next(m for m in doc.measures if m.code == "prudent-credit")
    assert prudent.action in row and prudent.department_name in row and "Prudent lending" in row


def test_an_english_text_that_says_nothing_is_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load(measures.shipped_text("measures.yaml"))
    doc["measures"][2]["action_en"] = " "
    bad = tmp_path / "measures.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=r"measures\.yaml:\d+: measures\.2\.action_en: "):
        measures.read_measures(bad)
