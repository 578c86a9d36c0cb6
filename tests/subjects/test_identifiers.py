from __future__ import annotations

import pytest

from creditgov.core.errors import InvalidInput
from creditgov.subjects.identifiers import clean_resident_id, clean_uscc


def test_valid_codes_pass() -> None:
    assert clean_uscc("91330522MA2B00010N") == "91330522MA2B00010N"
    assert clean_resident_id("330522199005120021") == "330522199005120021"


@pytest.mark.parametrize(("value", "why"), [
    ("91330522MA2B000100", "checksum"), ("9133052", "length"), ("330522199005120022", "checksum"),
])
def test_bad_codes_are_rejected_with_the_reason(value: str, why: str) -> None:
    fn = clean_uscc if value.startswith("9") else clean_resident_id
    with pytest.raises(InvalidInput, match=why):
        fn(value)


def test_more_kinds_by_configuration(tmp_path, monkeypatch) -> None:
    from creditgov.subjects.schemas import kinds

    assert "cooperative" not in kinds()
    f = tmp_path / "kinds.yaml"
    f.write_text("version: local-1\nkinds:\n"
                 "  - {code: enterprise, name_zh: 企业, name_en: Enterprise, identifier: uscc}\n"
                 "  - {code: cooperative, name_zh: 农民专业合作社, name_en: Farmers' cooperative, identifier: uscc}\n",
                 "utf-8")
    monkeypatch.setenv("CREDITGOV_KINDS_FILE", str(f))
    assert kinds()["cooperative"].identifier == "uscc"
