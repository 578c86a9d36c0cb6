"""Special campaigns (专项整治) on the demo county, SQLite and PostgreSQL: targets from
grades, lists and a query within the campaign's scope (each checked against the store),
tasks for every target, results that come back as credit records through ingestion,
the summary, closing, and the department's reach; then the command, the API and the
pages in both languages, and the summary workbook."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import Batch
from creditgov.lists.models import CreditList, ListEntry
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import Score
from creditgov.security import users
from creditgov.security.crypto import load_key_file
from creditgov.subjects.models import Region, Subject
from creditgov.supervision import campaign_files, campaigns, tasks
from creditgov.supervision.models import InspectionTask, Inspector
from creditgov.web import i18n
from tests.alerts.demo import Demo
from tests.supervision.helpers import load_roster, publish_run

MODEL, POLICY = "public-credit-enterprise", "lindian-enterprise"
HOSTILE = '=1+2 <script>alert(1)</script> "整治" & 😀'


@pytest.fixture(params=["sqlite", "postgres"])
def county(request: pytest.FixtureRequest) -> tuple[str, Path]:
    if request.param == "sqlite":
        demo: Demo = request.getfixturevalue("demo_store")
        return demo.url, demo.key
    url = request.getfixturevalue("pg_demo")
    return url, request.getfixturevalue("demo_template").key


def _street(s) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The street with the most enterprises, and its path."""
    rows = s.execute(select(Region.code, Region.path).where(Region.level == "street")).all()
    best = max(rows, key=lambda r: s.execute(select(func.count()).select_from(Subject).join(
        Region, Region.id == Subject.region_id).where(Region.path.startswith(r[1]),
                                                      Subject.kind == "enterprise")).scalar_one())
    return best[0], best[1]


def test_a_campaign_from_targets_to_closing_summary(county: tuple[str, Path]) -> None:
    url, key = county
    run = publish_run(url, MODEL, ("enterprise",))
    load_roster(url)
    ring = load_key_file(key)
    with db.session_scope(url) as s:
        street, path = _street(s)
        in_street = select(Subject.id).join(Region, Region.id == Subject.region_id).where(
            Region.path.startswith(path), Subject.status == "confirmed")
        c = campaigns.create(s, code="ZX-2026-01", title=HOSTILE, policy_name=POLICY, basis="县市场监管局 专项整治通知",
                             starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 11, 30),
                             scope={"region": street}, actor="office")
        cid = c.id
        # Grades: exactly the street's subjects graded C or D in the latest published run.
        got = campaigns.add_targets(s, campaign_id=cid, source="grade", model=MODEL, grades=["C", "D"], actor="office")
        graded = set(s.execute(select(Score.subject_id).where(Score.run_id == run, Score.grade.in_(["C", "D"]),
                                                              Score.subject_id.in_(in_street))).scalars())
        assert graded and got == {"campaign": cid, "source": "grade", "found": len(graded), "added": len(graded),
                                  "targets": len(graded)}
        # A list: an entry in force inside the street counts, one outside does not.
        code = s.execute(select(CreditList.code).order_by(CreditList.code)).scalars().first()
        inside = next(i for i in s.execute(in_street.where(Subject.kind == "enterprise")).scalars()
                      if i not in graded)
        outside = s.execute(select(Subject.id).where(Subject.id.not_in(in_street)).limit(1)).scalar_one()
        for sid in (inside, outside):
            s.add(ListEntry(list_code=code, subject_id=sid, status="published", origin="local",
                            published_on=dt.date(2026, 9, 1), created_at=clock.now()))
        s.flush()
        listed = set(s.execute(select(ListEntry.subject_id).where(ListEntry.list_code == code,
                                                              ListEntry.status == "published",
                                                              ListEntry.subject_id.in_(
                                                                  in_street.where(Subject.kind == "enterprise")))
                              ).scalars())
        got = campaigns.add_targets(s, campaign_id=cid, source="list", lists=[code], actor="office")
        assert inside in listed and outside not in listed
        assert got["found"] == len(listed) and got["added"] == len(listed - graded)
        with pytest.raises(NotFound):
            campaigns.add_targets(s, campaign_id=cid, source="list", lists=["no-such-list"], actor="office")
        # A query: the policy inspects firms, so the street's residents are no target of it, its firms are.
        got = campaigns.add_targets(s, campaign_id=cid, source="query", kinds=["individual"], actor="office")
        assert got["found"] == 0 and got["added"] == 0
        people = set(s.execute(in_street.where(Subject.kind == "enterprise")).scalars())
        got = campaigns.add_targets(s, campaign_id=cid, source="query", kinds=["enterprise"], actor="office")
        assert got["found"] == len(people) and got["added"] == len(people - graded - listed)
        n_targets = got["targets"]
        assert n_targets == len(graded | listed | people)

        inspector = s.execute(select(Inspector.code).where(Inspector.active.is_(True), Inspector.pool == "market")
                              .order_by(Inspector.code).limit(1)).scalar_one()
        made = campaigns.assign_tasks(s, campaign_id=cid, assignees=[inspector], actor="office")
        assert len(made) == n_targets and {t.kind for t in made} == {"campaign"}
        assert all(t.campaign_id == cid and t.due_on == dt.date(2026, 11, 30) and t.assignees == [inspector]
                   and t.policy_name == POLICY and t.department == "market" for t in made)
        assert campaigns.assign_tasks(s, campaign_id=cid, actor="office") == []
        with pytest.raises(NotFound):
            campaigns.assign_tasks(s, campaign_id=cid, assignees=["NOBODY"], actor="office")
        firms = [t.id for t in made if s.get(Subject, t.subject_id).kind == "enterprise"]  # type: ignore[union-attr]
    # Results come back as credit records through the ingestion path.
    with db.session_scope(url) as s:
        _, r1 = tasks.record_result(s, ring, task_id=firms[0], outcome="passed", actor="inspector")
        _, r2 = tasks.record_result(s, ring, task_id=firms[1], outcome="problems", finding="未公示年报")
        _, r3 = tasks.record_result(s, ring, task_id=firms[2], outcome="penalty", penalty_amount="3000",
                                    decision_no="市监罚〔2026〕88号", finding="无证经营")
        batch = s.get(Batch, r3.batch_id)
        assert batch is not None and batch.kind == "inspection" and batch.source == "inspection_market"
        assert ingest_service.trace(s, ring, r3.id, actor="test").replay_matches
        v = campaigns.view(s, campaigns.get(s, cid))
        sm = v["summary"]
        assert (sm["targets"], sm["tasks"], sm["inspected"], sm["open"], sm["cancelled"]) == \
            (n_targets, n_targets, 3, n_targets - 3, 0)
        assert sm["findings"] == {"passed": 1, "problems": 1, "penalty": 1} and sm["penalty_total"] == "3000.00"
        assert sm["records_created"] == 3 and sm["records_by_item"] == {
            r1.item_code: 1, r2.item_code: 1, r3.item_code: 1}
        assert sm["targets_by_source"]["grade"] == len(graded)
        row = next(r for r in sm["rows"] if r["task"] == firms[2])
        assert row["outcome"] == "penalty" and row["record_id"] == r3.id and row["source"] in ("grade", "list", "query")
        with pytest.raises(InvalidInput, match="still open"):
            campaigns.close(s, campaign_id=cid, actor="office")
    with db.session_scope(url) as s:
        closed = campaigns.close(s, campaign_id=cid, cancel_open=True, actor="office")
        assert closed.status == "closed" and closed.summary is not None
        assert closed.summary["cancelled"] == n_targets - 3 and closed.summary["open"] == 0
        assert s.execute(select(func.count()).select_from(InspectionTask).where(
            InspectionTask.campaign_id == cid, InspectionTask.status == "assigned")).scalar_one() == 0
        with pytest.raises(InvalidInput, match="closed"):
            campaigns.add_targets(s, campaign_id=cid, source="query", actor="office")
        assert s.execute(select(func.count()).select_from(CreditRecord).where(
            CreditRecord.id.in_([r1.id, r2.id, r3.id]), CreditRecord.is_current.is_(True))).scalar_one() == 3
        # A department acts on its own campaigns and policies only.
        assert campaigns.get(s, cid, department="market").id == cid
        with pytest.raises(NotFound):
            campaigns.get(s, cid, department="tourism")
        with pytest.raises(InvalidInput, match="own policies"):
            campaigns.create(s, code="ZX-T", title="t", policy_name=POLICY, basis="b", starts_on=dt.date(2026, 11, 1),
                             ends_on=dt.date(2026, 11, 2), department="tourism")
        assert [c.id for c in campaigns.campaigns(s, department="tourism")] == []
        # The summary workbook, hostile title as written and not a formula.
        for lang, word in (("zh", "整治对象"), ("en", "Targets")):
            wb = load_workbook(io.BytesIO(campaign_files.workbook(campaigns.view(s, closed), lang)))
            first = wb.worksheets[0]
            assert first["B2"].value == HOSTILE and first["B2"].data_type == "s"
            assert first["A6"].value == word and first["B6"].value == n_targets
            assert wb.worksheets[1].max_row == n_targets + 1


def test_command_api_and_pages(demo_store: Demo, monkeypatch: pytest.MonkeyPatch, cli) -> None:  # type: ignore[no-untyped-def]
    url = demo_store.url
    publish_run(url, MODEL, ("enterprise",))
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(demo_store.key))
    out = cli("--db", url, "campaign", "create", "ZX-CLI", "--title", "食品安全专项整治", "--policy", POLICY,
              "--basis", "通知", "--from", "2026-10-01", "--to", "2026-12-31", "--kind", "enterprise", "--json")
    assert out.exit_code == 0, out.output
    cid = json.loads(out.output)["id"]
    out = cli("--db", url, "campaign", "targets", str(cid), "--source", "grade", "--model", MODEL, "--grade", "D",
              "--json")
    n = json.loads(out.output)["targets"]
    assert n > 0
    out = cli("--db", url, "campaign", "tasks", str(cid), "--json")
    first = json.loads(out.output)[0]
    assert len(json.loads(out.output)) == n and first["campaign_id"] == cid and first["kind"] == "campaign"
    out = cli("--db", url, "supervise", "result", str(first["id"]), "--outcome", "passed", "--json")
    assert out.exit_code == 0, out.output
    out = cli("--db", url, "campaign", "show", str(cid), "--json", "--xlsx", "s.xlsx")
    shown = json.loads(out.output)
    assert shown["summary"]["inspected"] == 1 and shown["summary"]["records_created"] == 1
    assert (cli.work / "s.xlsx").exists()
    with pytest.raises(InvalidInput, match="still open"):
        cli("--db", url, "campaign", "close", str(cid))
    out = cli("--db", url, "campaign", "close", str(cid), "--cancel-open", "--json")
    assert json.loads(out.output)["status"] == "closed"
    assert json.loads(cli("--db", url, "campaign", "list", "--json").output)[0]["code"] == "ZX-CLI"

    with db.session_scope(url) as s:
        def token(name: str, role: str, dept: str | None = None, org: str | None = None) -> dict[str, str]:
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept,
                                  organisation=org, actor="test")
            return {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}

        office, market, tourism = (token("off", "credit_office"), token("mkt", "department_officer", "market"),
                                   token("tour", "department_officer", "tourism"))
        bank = token("bank", "bank_officer", org="b")
    c = TestClient(create_app(url, demo_store.key), base_url="https://testserver")
    body = {"code": "ZX-API", "title": HOSTILE, "policy": POLICY, "basis": "通知", "starts_on": "2026-10-01",
            "ends_on": "2026-12-31", "kind": ["enterprise"]}
    made = c.post("/api/v1/supervision/campaigns", json=body, headers=market)
    assert made.status_code == 201, made.text
    aid = made.json()["id"]
    assert c.post("/api/v1/supervision/campaigns", json={**body, "code": "ZX-T"}, headers=tourism).status_code == 422
    assert c.get(f"/api/v1/supervision/campaigns/{aid}", headers=tourism).status_code == 404
    assert c.get("/api/v1/supervision/campaigns", headers=bank).status_code == 403
    assert [x["code"] for x in c.get("/api/v1/supervision/campaigns", headers=tourism).json()] == []
    t = c.post(f"/api/v1/supervision/campaigns/{aid}/targets", json={"source": "grade", "model": MODEL,
                                                                     "grades": ["D"]}, headers=market)
    assert t.status_code == 200 and t.json()["targets"] == n
    made_tasks = c.post(f"/api/v1/supervision/campaigns/{aid}/tasks", json={}, headers=market).json()
    r = c.post(f"/api/v1/supervision/tasks/{made_tasks[0]['id']}/result", json={"outcome": "problems",
                                                                              "finding": "台账缺失"}, headers=market)
    assert r.status_code == 200 and r.json()["record"]["id"]
    got = c.get(f"/api/v1/supervision/campaigns/{aid}", headers=office).json()
    assert got["summary"]["findings"]["problems"] == 1 and got["title"] == HOSTILE
    x = c.get(f"/api/v1/supervision/campaigns/{aid}/summary.xlsx?lang=en", headers=office)
    assert load_workbook(io.BytesIO(x.content)).worksheets[0]["A2"].value == "Title"

    for lang, heading, word in (("zh", "专项整治", "形成信用记录"), ("en", "Special campaigns", "Credit records created")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/campaigns", headers=office)
        assert page.status_code == 200 and f"<h1>{heading}</h1>" in page.text and "ZX-API" in page.text
        detail = c.get(f"/campaigns/{aid}", headers=office)
        assert detail.status_code == 200 and word in detail.text
        assert "<script>alert(1)" not in detail.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in detail.text
        assert 'data-k="problems">1<' in detail.text and 'data-testid="targets-form"' in detail.text
    assert c.get(f"/campaigns/{aid}", headers=tourism).status_code == 404
    closed = c.post(f"/campaigns/{aid}/close", data={"cancel_open": "true"}, headers=market, follow_redirects=False)
    assert closed.status_code == 303, closed.text
    after = c.get(f"/campaigns/{aid}", headers=market)
    assert 'data-testid="targets-form"' not in after.text and 'data-k="cancelled">' in after.text
    # A campaign code already taken is refused on the page, and the form comes back as typed.
    c.cookies.set(i18n.LANG_COOKIE, "zh")
    dup = c.post("/campaigns", data={"code": "ZX-API", "title": HOSTILE, "policy": POLICY, "basis": "通知",
                                     "starts_on": "2026-10-01", "ends_on": "2026-12-31", "kind": "enterprise"},
                 headers=market, follow_redirects=False)
    assert dup.status_code == 409 and 'value="ZX-API"' in dup.text and 'value="2026-12-31"' in dup.text
    assert "<script>alert(1)" not in dup.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in dup.text
    assert '<option value="enterprise" selected>' in dup.text


def test_target_reasons_read_in_both_languages() -> None:
    from creditgov import bootstrap

    bootstrap.wire()
    zh, en = campaigns.reason_words("grade|public-credit-enterprise|D|7").values()
    assert "评价等级为 D" in zh and "public-credit-enterprise" not in zh and "第 7 次评价" in zh
    assert en.startswith("Graded D by ") and "public-credit-enterprise" not in en
    listed = campaigns.reason_words("list|serious-dishonesty")
    assert listed["zh"].startswith("列入") and "serious-dishonesty" not in listed["zh"] + listed["en"]
    q = campaigns.reason_words("query|enterprise,homestay|")
    assert q["en"].startswith("Query: ") and "enterprise" not in q["zh"] and "、" in q["zh"]
    assert campaigns.reason_words("query||") == {"zh": "整治范围内全部主体", "en": "Every subject in the campaign's scope"}
    assert campaigns.reason_words("人工指定") == {"zh": "人工指定", "en": "人工指定"}
