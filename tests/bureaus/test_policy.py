"""The rules files of the bureau export, validated on load: the catalogue's per-item
bureau marker (restricted and secret data never marked; no consent only for public
items; a known term with its citation) stored with the items; the bureaus file (names,
exporter installed, its settings); and an exporter a deployment installs, found by its
entry point and used for a run like the shipped one."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from creditgov.bureaus import exporters, policy, service
from creditgov.bureaus.exporters import Exporter, RunFile
from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.catalog.schemas import BUREAU_CLASSES
from creditgov.core import db
from creditgov.core.errors import ConfigError
from tests.bureaus.conftest import World

CATALOG = catalog_service.CATALOG.text()
BUREAUS = policy.BUREAUS.text()


def _item_line(code: str) -> str:
    m = re.search(rf"  - \{{code: {re.escape(code)},.*?\}}\n", CATALOG, re.S)
    assert m, code
    return m.group(0)


def _marked(code: str, term: str) -> str:
    line = _item_line(code)
    body = re.sub(r", bureau: [a-z-]+\}", "}", line)
    return CATALOG.replace(line, body[:-2] + f", bureau: {term}}}\n")


@pytest.mark.parametrize(("code", "term", "words"), [
    ("utility.bill", "consent", "restricted data never leaves the platform"),
    ("police.case", "consent", "secret data never leaves the platform"),
    ("social.arrears", "public-penalty", "only public data may go to a bureau without consent"),
    ("market.penalty", "no-such-term", "unknown bureau_sharing term 'no-such-term'"),
])
def test_the_catalogue_refuses_a_marker_the_law_does_not_allow(code: str, term: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        catalog_service.CATALOG.parse(_marked(code, term), "catalog.yaml (test)")


def test_a_term_without_a_citation_is_refused() -> None:
    bad_terms = CATALOG.replace("  public-court:\n    consent_required: false\n    citation: >-",
                                "  public-court:\n    consent_required: false\n    note: >-")
    with pytest.raises(ConfigError, match="citation"):
        catalog_service.CATALOG.parse(bad_terms, "catalog.yaml (test)")


def test_the_shipped_catalogue_marks_only_what_may_leave_and_the_store_keeps_it(store: str) -> None:
    cat = catalog_service.read_catalog()
    marked = {it.code: it for it in cat.items if it.bureau}
    assert marked and all(it.data_class in BUREAU_CLASSES for it in marked.values())
    assert not [it.code for it in cat.items if it.data_class in ("restricted", "secret") and it.bureau]
    free = {c for c, it in marked.items() if not cat.bureau_sharing[it.bureau or ""].consent_required}
    assert {"market.penalty", "court.dishonest_debtor", "tax.arrears"} <= free
    assert all(marked[c].data_class == "public" for c in free)
    assert all("征信业管理条例" in t.citation for t in cat.bureau_sharing.values())
    with db.session_scope(store) as s:
        table = {r["item"]: r for r in service.items_table(s)}
        assert set(table) == set(marked)
        assert table["market.penalty"]["term"] == "public-penalty" and table["market.penalty"]["consent_required"] is False
        # Unmarked items hold SQL NULL, not a JSON null.
        assert s.execute(select(func.count()).select_from(CatalogItem).where(CatalogItem.bureau.is_(None))
                         ).scalar_one() == len(cat.items) - len(marked)


@pytest.mark.parametrize(("old", "new", "words"), [
    ("exporter: file", "exporter: carrier-pigeon", "no exporter 'carrier-pigeon' is installed"),
    ("      folder: pbc-crc", "      foldr: pbc-crc", r"settings\.foldr"),
    ("format: jsonl", "format: xml", r"settings\.format"),
    ("  pbc-crc:", "  PBC_CRC:", "lower-case letters"),
    ("    purpose: ", "    purpose_zh: ", "purpose"),
])
def test_the_bureaus_file_is_validated_on_load(old: str, new: str, words: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert old in BUREAUS
    own = tmp_path / "my-bureaus.yaml"
    own.write_text(BUREAUS.replace(old, new), "utf-8")
    monkeypatch.setenv(policy.ENV, str(own))
    with pytest.raises(ConfigError, match=words) as err:
        policy.policy()
    assert "my-bureaus.yaml" in str(err.value)


class MemoryExporter(Exporter):
    """A deployment's own exporter, installed by entry point (see the test below): it
    keeps what it is handed, as a bureau's upload interface would."""

    delivered: ClassVar[list[RunFile]] = []

    def file_name(self, seq: int) -> str:
        return f"{self.bureau}.{seq}.txt"

    def render(self, rows: list[dict[str, Any]]) -> bytes:
        return "".join(f"{r['line']}|{r['item']}|{r['basis']}\n" for r in rows).encode("utf-8")

    def deliver(self, run: RunFile) -> str:
        self.delivered.append(run)
        return f"memory:{run.seq}"


def test_an_exporter_installed_by_entry_point_takes_a_bureau(world: World, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    dist = site / "creditgov_bureau_memory-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: creditgov-bureau-memory\nVersion: 1.0\n", "utf-8")
    (dist / "entry_points.txt").write_text(
        f"[{exporters.GROUP}]\nmemory = tests.bureaus.test_policy:MemoryExporter\n", "utf-8")
    own = tmp_path / "bureaus.yaml"
    own.write_text(BUREAUS + "  licensed-x:\n    name_zh: 某持牌企业征信机构\n    name_en: A licensed bureau\n"
                   "    citation: 《征信业管理条例》第五条 (licence on file)\n    purpose: 测试 / test\n"
                   "    exporter: memory\n", "utf-8")
    monkeypatch.setenv(policy.ENV, str(own))
    with pytest.raises(ConfigError, match="no exporter 'memory'"):
        policy.policy()
    monkeypatch.syspath_prepend(str(site))
    assert "memory" in exporters.plugins() and sys.modules["tests.bureaus.test_policy"]
    MemoryExporter.delivered.clear()
    with db.session_scope(world.url) as s:
        service.grant_consent(s, subject_id=world.ids["other"], bureau="licensed-x", actor="test")
    out = service.export(world.url, world.ring, bureau="licensed-x", actor="test")
    assert (out["run"], out["location"], out["file"]) == (1, "memory:1", "licensed-x.1.txt")
    (run,) = MemoryExporter.delivered
    # Its own consents only: the other firm's records (3 more with consent than its
    # public penalty) and the public ones of everyone (three penalties and judgements).
    lines = run.content.decode("utf-8").splitlines()
    assert len(lines) == 6 and sum(1 for x in lines if x.endswith("|consent")) == 3
    assert run.manifest["format"] == "creditgov.bureau/1" and run.manifest["records"] == 6
    assert not (world.out / "licensed-x").exists()
