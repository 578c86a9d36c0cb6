"""A department officer reads its own ingestion, on a real store (SQLite and PostgreSQL):
the batches its department's sources sent (`/ingest`, in its menu), one batch with the
rows it rejected and why in words (`/ingest/batches/{id}`, the page a data-quality
warning about that batch leads to) and its quarantine (`/ingest/quarantine`); another
department's batch is a 404 and its rows are nowhere. The raw values of a refused row
are shown with every ID number masked — for the office too — and hostile text passes
escaped."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select, update

from creditgov.api.app import create_app
from creditgov.core import db, labels
from creditgov.ingest import service
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.security import users
from creditgov.security.crypto import create_key_file, mask_id

FIRST_ID = "330522198501010011"  # the mini county's police file's one row
SECOND_ID = "330522199005120021"
HOSTILE = '"><img src=x onerror=alert(2)>王<b>五</b> O\'Brien “引号” \u202e😀 {0} %s'
HTML = {"Accept": "text/html"}


@dataclass
class Served:
    client: TestClient
    tokens: dict[str, dict[str, str]]
    batch: dict[str, int]  # by source
    store: str

    def get(self, path: str, who: str, lang: str = "zh", status: int = 200) -> str:
        self.client.cookies.set("cg_lang", lang)
        r = self.client.get(path, headers={**self.tokens[who], **HTML})
        assert r.status_code == status, (path, who, r.status_code, r.text[:300])
        return r.text


@pytest.fixture
def served(store: str, mini: Path, tmp_path: Path) -> Served:
    """The mini county ingested: the police file is refused whole (its data request was
    rejected), here with a second row holding a hostile name and an ID number inside its
    document number; the market files have rows of their own refused."""
    with (mini / "data" / "police_traffic.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow([SECOND_ID, HOSTILE, "2025-03-02", f"JT002/{SECOND_ID}"])
    key = tmp_path / "batches.key"
    ring = create_key_file(key)
    service.ingest_paths(store, ring, [mini], actor="test")
    tokens = {}
    with db.session_scope(store) as s:
        for name, role, dep in (("police", "department_officer", "police"), ("market", "department_officer", "market"),
                                ("office", "credit_office", None)):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dep, actor="test")
            tokens[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        batch = {b.source: b.id for b in s.execute(select(Batch)).scalars()}
    return Served(TestClient(create_app(store, key), base_url="https://testserver"), tokens, batch, store)


def _batch_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-testid="batch-(\d+)"', page)}


def _find(pattern: str, page: str) -> str:
    m = re.search(pattern, page, re.S)
    assert m is not None, pattern
    return m.group(1)


def _menu(page: str) -> list[str]:
    nav = page.split('<nav class="main">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_department_officer_sees_its_batch_and_why_each_row_was_refused(served: Served, lang: str) -> None:
    police = served.batch["police_traffic"]
    listing = served.get("/ingest", "police", lang)
    assert "/ingest" in _menu(listing)
    assert _batch_ids(listing) == {police}  # its own source's batch, no other department's
    assert f'href="/ingest/batches/{police}#rejected">2</a>' in listing  # both rows refused, a link to them

    page = served.get(f"/ingest/batches/{police}", "police", lang)
    words = labels.label("quarantine_reason", "item_not_allowed", lang)
    assert words != "item_not_allowed"
    table = page.split('data-testid="quarantine"', 1)[1]
    assert table.count(words) == 2 and table.count("data-testid=\"quarantined-") == 2
    # The raw values: each ID number masked (the mapped column, and one inside another
    # value), the hostile name escaped as it came.
    assert mask_id(FIRST_ID) in page and mask_id(SECOND_ID) in page
    assert FIRST_ID not in page and SECOND_ID not in page
    assert str(escape(HOSTILE)) in page and HOSTILE not in page
    # Its quarantine: its own rows only.
    rows = served.get("/ingest/quarantine?status=all", "police", lang)
    assert set(re.findall(r'<a href="/ingest/batches/(\d+)">', rows)) == {str(police)}
    assert FIRST_ID not in rows and mask_id(FIRST_ID) in rows


def test_another_departments_batch_and_rows_are_not_found(served: Served) -> None:
    police, market = served.batch["police_traffic"], served.batch["market_penalties"]
    served.get(f"/ingest/batches/{market}", "police", status=404)
    served.get(f"/ingest/batches/{police}", "market", status=404)
    served.get("/ingest/batches/999999", "market", status=404)
    theirs = served.get("/ingest/quarantine?status=all", "market")
    assert "police_traffic" not in theirs and mask_id(FIRST_ID) not in theirs
    assert f'href="/ingest/batches/{market}"' in theirs  # its own refused rows are there
    assert police not in _batch_ids(served.get("/ingest", "market"))
    # The API answers the same scope.
    c = served.client
    assert {b["id"] for b in c.get("/api/v1/ingest/batches", headers=served.tokens["police"]).json()} == {police}
    assert c.get(f"/api/v1/ingest/quarantine?batch={market}&status=all", headers=served.tokens["police"]).json() == []
    mine = c.get(f"/api/v1/ingest/quarantine?batch={police}&status=all", headers=served.tokens["police"]).json()
    assert len(mine) == 2 and all(r["encrypted"] and "raw" not in r for r in mine)


def _source_name(department: str, lang: str) -> str:
    """A source without a spec title, named as the alerts name it: its department and kind."""
    dept, kind = labels.label("department", department, lang), labels.label("source_kind", "records", lang)
    assert dept != department and kind != "records"
    return f"{dept}: {kind}" if lang == "en" else f"{dept} {kind}"


def test_the_office_sees_every_department_with_id_numbers_masked(served: Served) -> None:
    police, market = served.batch["police_traffic"], served.batch["market_penalties"]
    with db.session_scope(served.store) as s:
        # A big batch's counts read with separators; a reason of no known shape (quoting an
        # ID number) is shown as stored, folded away, the number masked.
        s.execute(update(Batch).where(Batch.id == police).values(read=19893))
        odd = s.execute(select(QuarantinedRow).where(QuarantinedRow.source == "grid_households")).scalar_one()
        odd.reason = f"refused by a check of another kind: {SECOND_ID} (see the spec)"
        odd_id = odd.id
        bad_code = s.execute(select(QuarantinedRow.id).where(QuarantinedRow.line_no == 5,
                                                             QuarantinedRow.source == "market_penalties")).scalar_one()
    for lang in ("zh", "en"):
        listing = served.get("/ingest", "office", lang)
        assert set(served.batch.values()) <= _batch_ids(listing)
        # Each source by its name (a spec's title, else its department and kind), never its code.
        assert f'title="police_traffic">{_source_name("police", lang)}</td>' in listing
        if lang == "zh":  # a spec with a title is named by it
            assert 'title="market_registration">市场主体登记</td>' in listing
        assert "<code>police_traffic</code>" not in listing and ">19,893<" in listing
        page = served.get("/ingest/quarantine?status=all", "office", lang)
        for source, dept in (("police_traffic", "police"), ("market_penalties", "market")):
            assert f"<code>{source}</code>" not in page and f'title="{source}">{_source_name(dept, lang)}<' in page
        assert FIRST_ID not in page and SECOND_ID not in page and mask_id(SECOND_ID) in page
        # A reason in the page's language: its category, then its detail in words; stdnum's
        # English never shows. A reason of an unknown shape is the stored text, folded away.
        detail = _find(rf'data-testid="quarantine-detail-{bad_code}">(.*?)</span>', page)
        # (the file's column named as it is said in Chinese; in English beside the field's name)
        assert detail == ("统一社会信用代码 91330522MA2B000100 校验位不正确" if lang == "zh" else
                          "“统一社会信用代码” (Credit code): the credit code 91330522MA2B000100 has a wrong check digit")
        assert "checksum" not in page and "not approved from department" not in page
        assert labels.label("quarantine_reason", "other", lang) in page
        folded = _find(rf'data-testid="quarantine-stored-{odd_id}"><summary>.*?</summary><code>(.*?)</code>', page)
        assert folded == f"refused by a check of another kind: {mask_id(SECOND_ID)} (see the spec)"
        # The filter offers the sources by name; the chosen one heads the page.
        one = served.get("/ingest/quarantine?source=market_penalties", "office", lang)
        assert f'<option value="market_penalties" selected>{_source_name("market", lang)}</option>' in one
        assert f"· {_source_name('market', lang)}</h1>" in one
        batch = served.get(f"/ingest/batches/{market}", "office", lang)
        assert f'data-testid="batch-source" title="market_penalties">{_source_name("market", lang)}</dd>' in batch
        # a firm's credit code is no personal identifier: the refused market row shows it
        assert "91330522MA2B00770L" in batch
    assert "19,893 rows read" in served.get(f"/ingest/batches/{police}", "office", "en")
