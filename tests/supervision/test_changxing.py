"""Changxing's homestays as the paper describes them: monthly spot checks as the
supervision plan, and a public "recommended to tourists" list of homestays scoring 85
or more in the latest published evaluation — never one on a punitive list — on the
public page and the public API (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from creditgov.core import db
from creditgov.core.errors import NotFound
from creditgov.reports import recommend
from creditgov.scoring.models import Score
from creditgov.supervision import service as supervision_service
from tests.lists.helpers import add_run, make_subject, publish_manual_entry


def test_the_homestay_plan_draws_every_month() -> None:
    p = next(x for x in supervision_service.read_policies().policies if x.name == "changxing-homestay")
    assert p.plan is not None and p.plan.every == "month"
    assert "月度抽查" in p.citation
    labels = {b.label: b for b in p.bands}
    assert labels["at-least-85"].min_score == 85 and labels["below-85"].max_score == 85


@pytest.fixture
def homestays(county: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    with db.session_scope(county) as s:
        subj = {name: make_subject(s, kind="homestay", name=f"竹溪{name}民宿") for name in
                ("top", "line", "below", "listed", "old")}
        firm = make_subject(s, name="竹溪旅游开发有限公司")  # an enterprise: never on a homestay list
        old = add_run(s, "changxing-homestay", dt.date(2026, 6, 30), [(subj["old"], "优", "green")])
        run = add_run(s, "changxing-homestay", dt.date(2026, 9, 30),
                      [(x, "优", "green") for x in subj.values()] + [(firm, "优", "green")])
        scores = {"top": "96.50", "line": "85.00", "below": "84.99", "listed": "92.00", "old": "70.00"}
        for name, x in subj.items():
            s.get(Score, (run.id, x.id)).score = Decimal(scores[name])  # type: ignore[union-attr]
        s.get(Score, (run.id, firm.id)).score = Decimal("99")  # type: ignore[union-attr]
        s.get(Score, (old.id, subj["old"].id)).score = Decimal("99")  # type: ignore[union-attr]
        ids = {n: x.id for n, x in subj.items()}
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", ids["listed"])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    return ids


def test_the_recommended_homestays_are_the_latest_run_at_85_and_above(county: str, homestays: dict[str, int],
                                                                     tmp_path: Path) -> None:
    with db.session_scope(county) as s:
        r = recommend.recommended(s, "recommended-homestays")
        with pytest.raises(NotFound, match="no recommendation list 'nope'"):
            recommend.recommended(s, "nope")
    assert [x["id"] for x in r["rows"]] == [homestays["top"], homestays["line"]]
    assert [x["score"] for x in r["rows"]] == ["96.50", "85.00"]
    assert r["as_of"] == "2026-09-30" and "对游客进行引导推荐" in r["citation"]
    from creditgov.api.app import create_app
    from creditgov.security.crypto import create_key_file

    key = tmp_path / "rec.key"
    create_key_file(key)
    client = TestClient(create_app(county, key), base_url="https://testserver")
    api = client.get("/api/v1/public/recommended/recommended-homestays")
    assert api.status_code == 200 and [x["name"] for x in api.json()["rows"]] == ["竹溪top民宿", "竹溪line民宿"]
    page = client.get("/public/recommended/recommended-homestays", headers={"accept": "text/html"})
    assert page.status_code == 200 and "竹溪top民宿" in page.text and "竹溪line民宿" in page.text
    for absent in ("竹溪below民宿", "竹溪listed民宿", "竹溪old民宿", "竹溪旅游开发有限公司"):
        assert absent not in page.text
    assert client.get("/api/v1/public/recommended/nope").status_code == 404
