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
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import db, labels
from creditgov.ingest import service
from creditgov.ingest.models import Batch
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
    return Served(TestClient(create_app(store, key), base_url="https://testserver"), tokens, batch)


def _batch_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-testid="batch-(\d+)"', page)}


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


def test_the_office_sees_every_department_with_id_numbers_masked(served: Served) -> None:
    listing = served.get("/ingest", "office")
    assert set(served.batch.values()) <= _batch_ids(listing)
    page = served.get("/ingest/quarantine?status=all", "office")
    for source in ("police_traffic", "market_penalties"):
        assert f"<code>{source}</code>" in page
    assert FIRST_ID not in page and SECOND_ID not in page and mask_id(SECOND_ID) in page
    # a firm's credit code is no personal identifier: the refused market row shows it
    assert "91330522MA2B00770L" in served.get(f"/ingest/batches/{served.batch['market_penalties']}", "office")
