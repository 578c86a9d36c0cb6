"""`labels.annotate`, the one way JSON adds names beside its codes (issue 21): a scalar
field gets {"zh", "en"}, a field holding a list of codes gets {code: {"zh", "en"}}, an
unknown code is its own label, and a field without a value is left out."""

from __future__ import annotations

import pytest

from creditgov.core import labels

KIND = "test_annotate_colour"


def test_annotate_names_scalars_and_lists_and_keeps_the_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    # a kind of its own, forgotten afterwards: the catalogue stays as the product wired it
    monkeypatch.setattr(labels, "_files", dict(labels._files))
    monkeypatch.setattr(labels, "_file_cache", {})
    labels.register(KIND, {"green": ("绿码", "Green"), "red": ("红码", "Red")})
    row = {"colour": "green", "seen": ["red", "green", "blue"], "none": None, "other": "x"}
    out = labels.annotate(row, colour=KIND, seen=KIND, none=KIND, missing=KIND)
    assert out is row and row["colour"] == "green" and row["seen"] == ["red", "green", "blue"]
    assert row["labels"] == {
        "colour": {"zh": "绿码", "en": "Green"},
        "seen": {"red": {"zh": "红码", "en": "Red"}, "green": {"zh": "绿码", "en": "Green"},
                 "blue": {"zh": "blue", "en": "blue"}},
    }
    assert labels.annotate({"seen": []}, seen=KIND)["labels"] == {"seen": {}}
