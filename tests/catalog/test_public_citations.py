"""The shipped policy files cite public sources: a regulation by its name, the paper by
the practice it describes — never the team's own documents (the mission digest, its
section numbers) nor notes on which domain made an item, which the pages would show to
people who never see them (the catalogue's basis column, an alert's 依据 line, a policy's
citation)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from creditgov.catalog import service as catalog_service

SRC = Path(__file__).resolve().parents[2] / "src" / "creditgov"
SHIPPED = sorted(SRC.glob("*/data/**/*.yaml"))
INTERNAL = re.compile(r"digest|paper\s*§|created by the \w+ domain", re.IGNORECASE)


def test_there_are_policy_files_to_check() -> None:
    assert len(SHIPPED) >= 20 and any(p.parts[-3:] == ("catalog", "data", "catalog.yaml") for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(SRC)))
def test_no_shipped_policy_file_cites_an_internal_document(path: Path) -> None:
    found = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
             if INTERNAL.search(line)]
    assert not found, "\n".join(found)


def test_the_catalogues_bases_are_what_the_basis_column_shows() -> None:
    for item in catalog_service.read_catalog().items:
        assert item.legal_basis and not INTERNAL.search(item.legal_basis), item.code
