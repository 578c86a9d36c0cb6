"""Inspection notices (检查通知书, issue 19) of a random draw on a real store (SQLite and
PostgreSQL): one page per inspection task, naming the firm (hostile names and
addresses as written), the inspecting department, the policy's citation, the
inspectors and the firm's rights under 国办发〔2015〕58号; every serial verifies like a
credit report and the run is on the audit chain. A department officer prints its own
department's draw only — through the service, the command and the page alike."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.documents import inspections
from creditgov.reports import service as reports
from creditgov.reports.pdftext import printable
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import Forbidden
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision import tasks as supervision_tasks
from creditgov.supervision.models import InspectionTask
from creditgov.supervision.schemas import InspectorsFile
from creditgov.web import i18n
from tests.lists.helpers import make_subject

HOSTILE = ['"><script>alert(1)</script> 恶意商行', "O'Brien & <b>Sons</b> 检查测试有限公司", "右到左\u202e标记有限公司"]
ADDRESS = "长兴县<雉城街道> 'A&B' 路 1 号"
BASE = "https://credit.example.gov.cn/verify"
CITATION = "国市监信发〔2022〕6号; 测试用: 全部企业抽查"
POLICY = f"""
version: "test-notices"
citation: "tests only"
policies:
  - name: notice-test
    title: 企业全量抽查 (文书测试)
    department: market
    citation: "{CITATION}"
    basis: grade
    model: public-credit-enterprise
    subject_kinds: [enterprise]
    unrated: B
    bands:
      - {{label: B, grades: [B], ratio: 1, citation: "测试 B 类全抽"}}
    inspector_pool: market
    inspectors_per_task: 2
    exclusions: {{own_region: false, previous_inspectors: false}}
    due_days: 30
    results: {{passed: market.inspection_result, problems: market.inspection_problem, penalty: market.penalty}}
    matters:
      - {{code: public-info, title: 企业公示信息检查, method: 书面检查, citation: "《企业信息公示暂行条例》第十四条"}}
      - {{code: quality, title: "产品质量<抽查>", bands: [B], citation: "《中华人民共和国产品质量法》第十五条"}}
"""
ROSTER = {"inspectors": [{"code": f"MKT-0{n}", "name": f"市场检查员{n}号", "kind": "inspector", "department": "market",
                          "pool": "market"} for n in (1, 2, 3)]
          + [{"code": "MKT-04", "name": "<i>王</i>&检查员", "kind": "inspector", "department": "market",
              "pool": "market"}]}


@dataclass
class Drawn:
    url: str
    draw_id: int
    tasks: dict[int, int]  # task id -> subject id
    names: dict[int, str]  # subject id -> name


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def drawn(county: str, tmp_path: Path) -> Drawn:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    with db.session_scope(county) as s:
        supervision_service.load_policies(s, path=policy_file, actor="test")
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        names = {}
        for i, name in enumerate(HOSTILE):
            subj = make_subject(s, name=name)
            if i == 0:
                subj.address = ADDRESS
            names[subj.id] = name
    with db.session_scope(county) as s:
        out = supervision_draws.draw(s, policy_name="notice-test", seed="20261101", actor="test")
        tasks = dict(s.execute(select(InspectionTask.id, InspectionTask.subject_id)
                               .where(InspectionTask.draw_id == out["draw_id"]).order_by(InspectionTask.id)).all())
    assert sorted(tasks.values()) == sorted(names)   # the policy draws every enterprise: one task per firm
    return Drawn(county, int(out["draw_id"]), tasks, names)


def test_a_draws_notices_print_one_page_per_task_and_verify(drawn: Drawn) -> None:
    with db.session_scope(drawn.url) as s:
        printed = inspections.print_notices(s, verify_base=BASE, draw_id=drawn.draw_id, actor="office-a")
        teams = {t.id: (list(t.assignees), t.due_on) for t in s.execute(
            select(InspectionTask).where(InspectionTask.draw_id == drawn.draw_id)).scalars()}
    assert [t for t, _ in printed.serials] == list(drawn.tasks) and printed.placeholder_seal
    pages = _pages(printed.pdf)
    assert len(pages) == len(drawn.tasks)                      # one page per task
    roster = {i["code"]: i["name"] for i in ROSTER["inspectors"]}
    for (task_id, serial), text in zip(printed.serials, pages, strict=True):
        page = _squash(text)
        name = drawn.names[drawn.tasks[task_id]]
        assert serial in page and _squash(printable(name)) in page
        assert "检查通知书" in page and "市场监督管理局" in page and "企业全量抽查(文书测试)" in page
        assert _squash(CITATION) in page                       # the legal basis: the policy's citation
        # The policy's inspection matters, numbered, each with its provision.
        assert "1.企业公示信息检查，检查方式：书面检查；依据：《企业信息公示暂行条例》第十四条" in page
        assert "2.产品质量<抽查>；依据：《中华人民共和国产品质量法》第十五条" in page
        assert "国办发〔2015〕58号" in page and "出示执法证件" in page and "拒绝检查" in page and "投诉" in page
        team, due = teams[task_id]
        assert len(team) == 2 and all(_squash(roster[c]) in page for c in team)
        assert f"至{due.year}年{due.month}月{due.day}日（含当日）止" in page and "样章" in page   # a Chinese date
    first = _squash(pages[list(drawn.tasks).index(next(t for t, sid in drawn.tasks.items()
                                                       if sid == min(drawn.names)))])
    assert _squash(ADDRESS) in first                            # the address as stored, markup and all
    with db.session_scope(drawn.url) as s:
        for task_id, serial in printed.serials:
            v = reports.verify(s, serial)
            assert v["genuine"] and v["subject"] == drawn.names[drawn.tasks[task_id]]
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "documents.print")
                          .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        detail = json.loads(entry.detail)
        assert entry.actor == "office-a" and detail["kind"] == "inspection"
        assert detail["refs"] == list(drawn.tasks) and detail["serials"] == [sr for _, sr in printed.serials]


def test_a_department_prints_its_own_draw_only(drawn: Drawn) -> None:
    some = list(drawn.tasks)[:2]
    with db.session_scope(drawn.url) as s:
        with pytest.raises(Forbidden, match="market"):
            inspections.print_notices(s, verify_base=BASE, draw_id=drawn.draw_id, department="tourism")
        with pytest.raises(Forbidden):
            inspections.print_notices(s, verify_base=BASE, task_ids=some, department="tourism")
        assert inspections.printable_draws(s, department="tourism") == []
        assert [d["id"] for d in inspections.printable_draws(s, department="market")] == [drawn.draw_id]
        own = inspections.print_notices(s, verify_base=BASE, task_ids=some, department="market")
        assert [t for t, _ in own.serials] == some
    with db.session_scope(drawn.url) as s:           # a cancelled task gets no notice
        supervision_tasks.cancel_task(s, task_id=some[0], reason="企业已注销", actor="test")
    with db.session_scope(drawn.url) as s:
        again = inspections.print_notices(s, verify_base=BASE, draw_id=drawn.draw_id)
        assert [t for t, _ in again.serials] == list(drawn.tasks)[1:]
        with pytest.raises(InvalidInput, match="cancelled"):
            inspections.print_notices(s, verify_base=BASE, task_ids=[some[0]])
        with pytest.raises(NotFound):
            inspections.print_notices(s, verify_base=BASE, task_ids=[max(drawn.tasks) + 99])
        with pytest.raises(InvalidInput):
            inspections.print_notices(s, verify_base=BASE)


def test_the_command_prints_a_draw_with_json(drawn: Drawn, cli, tmp_path: Path) -> None:
    out = tmp_path / "inspections.pdf"
    r = cli("--db", drawn.url, "documents", "inspections", "--draw", str(drawn.draw_id), "--out", str(out),
            "--verify-base", BASE, "--actor", "cli-office", "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert [d["task"] for d in res["documents"]] == list(drawn.tasks) and res["placeholder_seal"] is True
    assert out.read_bytes().startswith(b"%PDF") and res["bytes"] == out.stat().st_size
    with db.session_scope(drawn.url) as s:
        assert all(reports.verify(s, d["serial"])["genuine"] for d in res["documents"])
    other = tmp_path / "other.pdf"
    with pytest.raises(Forbidden, match="department market; you act for tourism"):   # `run()` prints it, exit 2
        cli("--db", drawn.url, "documents", "inspections", "--draw", str(drawn.draw_id), "--department", "tourism",
            "--out", str(other))
    assert not other.exists()


def test_the_page_prints_for_the_office_and_the_own_department(drawn: Drawn, tmp_path: Path) -> None:
    key = tmp_path / "page.key"
    create_key_file(key)
    heads = {}
    with db.session_scope(drawn.url) as s:
        for name, role, dept in (("office", "credit_office", None), ("market", "department_officer", "market"),
                                 ("tourism", "department_officer", "tourism")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="test")
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(drawn.url, key), base_url="https://testserver")
    option = f'<option value="{drawn.draw_id}">'
    for lang, words in (("zh", "检查通知书"), ("en", "Inspection notices")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        for who in ("office", "market"):
            r = c.get("/documents", headers=heads[who])
            assert r.status_code == 200 and words in r.text and option in r.text
            assert ("documents-form" in r.text) == (who == "office")   # list documents stay the office's
        r = c.get("/documents", headers=heads["tourism"])
        assert r.status_code == 200 and option not in r.text and 'data-testid="inspection-none"' in r.text
    assert c.get("/documents/lists.pdf", params={"list": "serious-dishonesty"}, headers=heads["market"]).status_code \
        == 403
    assert c.get("/documents/inspections.pdf", params={"draw": drawn.draw_id},
                 headers=heads["tourism"]).status_code == 403
    r = c.get("/documents/inspections.pdf", params={"draw": drawn.draw_id}, headers=heads["market"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pages = _pages(r.content)
    assert len(pages) == len(drawn.tasks)
    assert all("https://testserver/verify/WS" in _squash(t) for t in pages)
    one = list(drawn.tasks)[-1]
    r = c.get("/documents/inspections.pdf", params={"task": one}, headers=heads["office"])
    assert r.status_code == 200 and len(_pages(r.content)) == 1
    assert _squash(printable(drawn.names[drawn.tasks[one]])) in _squash(_pages(r.content)[0])
    with db.session_scope(drawn.url) as s:               # every print is on the audit chain, by its printer
        actors = list(s.execute(select(AuditEntry.actor).where(AuditEntry.action == "documents.print")).scalars())
    assert sorted(actors) == ["user:market", "user:office"], actors


@pytest.mark.parametrize(("matters", "error"), [
    ([{"code": "a", "title": "企业公示信息检查"}], "citation"),
    ([{"code": "a", "title": "检查一", "citation": "某条"}, {"code": "a", "title": "检查二", "citation": "某条"}],
     "matter codes must be unique"),
    ([{"code": "a", "title": "检查一", "citation": "某条", "bands": ["Z"]}], "unknown band"),
    ([{"code": "Bad Code", "title": "检查一", "citation": "某条"}], "code"),
])
def test_inspection_matters_are_checked_on_load(tmp_path: Path, matters: list, error: str) -> None:
    doc = yaml.safe_load(POLICY.replace("{{", "{").replace("}}", "}"))
    doc["policies"][0]["matters"] = matters
    f = tmp_path / "policy.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        supervision_service.read_policies(f)


def test_the_shipped_policy_lists_its_matters_with_citations() -> None:
    p = next(p for p in supervision_service.read_policies(None).policies if p.name == "lindian-enterprise")
    assert [m.code for m in p.matters_for("A")] == ["public-info", "registration"]
    assert [m.code for m in p.matters_for("D")] == ["public-info", "registration", "product-quality"]
    assert all(m.citation.startswith("《") for m in p.matters)
