"""The public lists API pages: `limit` entries from `offset`, and how many there are in
all in `X-Total-Count`, so a reader can fetch every entry in force, not the first 200."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.lists.helpers import make_subject

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.lists import service as lists
from creditgov.security.crypto import create_key_file


def test_public_lists_page_through_every_entry_in_force(county: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-02")
    with db.session_scope(county) as s:
        ids = []
        for i in range(5):
            firm = make_subject(s)
            e = lists.propose(s, list_code="key-attention", subject_id=firm.id, criterion="manual",
                              basis="重点关注", decision_no=f"K-{i}")
            lists.notify(s, entry_id=e.id)
            ids.append(e.id)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-10")
    with db.session_scope(county) as s:
        for entry_id in ids:
            lists.approve(s, entry_id=entry_id, unit="credit")
            lists.publish(s, entry_id=entry_id)
    key = tmp_path / "api.key"
    create_key_file(key)
    c = TestClient(create_app(county, key), base_url="https://testserver")
    everything = c.get("/api/v1/public/lists")
    assert everything.status_code == 200 and everything.headers["x-total-count"] == "5"
    assert sorted(e["decision_no"] for e in everything.json()) == [f"K-{i}" for i in range(5)]
    paged = []
    for offset in (0, 2, 4):
        r = c.get("/api/v1/public/lists", params={"limit": 2, "offset": offset})
        assert r.status_code == 200 and r.headers["x-total-count"] == "5"
        assert len(r.json()) == min(2, 5 - offset)
        paged += r.json()
    assert paged == everything.json()
    assert c.get("/api/v1/public/lists", params={"offset": 5}).json() == []
    assert c.get("/api/v1/public/lists", params={"limit": 0}).status_code == 422
    only_red = c.get("/api/v1/public/lists", params={"list": "red"})
    assert only_red.json() == [] and only_red.headers["x-total-count"] == "0"
