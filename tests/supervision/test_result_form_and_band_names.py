"""A band is named in words wherever a person reads it, and an inspector is offered only
the results that can be recorded (SQLite and PostgreSQL).

The reviewer's cases: an inspection notice of a draw under a policy whose bands are
labelled by codes read "所在监管类别：at-least-85" — it names the band as the pages do
("85 分及以上"), in the notice and in `creditgov supervise tasks`; and the task page
offered "行政处罚" with its fine and decision-number fields under a policy that records
no penalties, a result always refused — the form now offers only what the policy
records, and a task without a policy (a patrol) no form at all, saying why."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput
from creditgov.documents import inspections
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision import tasks as supervision_tasks
from creditgov.supervision.models import InspectionTask
from creditgov.supervision.schemas import InspectorsFile
from creditgov.web import i18n
from tests.documents.test_inspection_notices import ROSTER
from tests.lists.helpers import make_subject

NAMED = "<b>尚无</b>评价 “档”"      # a band's Chinese name, markup and quotes as written
POLICIES = {
    "version": "test-bands",
    "citation": "tests only",
    "policies": [{
        "name": name, "title": title, "title_en": title_en, "department": "market", "citation": "tests only",
        "basis": "grade", "model": "public-credit-enterprise", "subject_kinds": ["enterprise"],
        "unrated": "not-rated-yet",
        "bands": [{"label": "well-rated", "name_zh": "评价良好", "name_en": "Well rated", "grades": ["A", "B"],
                   "ratio": 1, "citation": "测试：良好"},
                  {"label": "not-rated-yet", "name_zh": NAMED, "name_en": "Not rated yet", "grades": ["C", "D"],
                   "ratio": 1, "citation": "测试：尚无评价"}],
        "inspector_pool": "market", "inspectors_per_task": 2,
        "exclusions": {"own_region": False, "previous_inspectors": False}, "due_days": 30,
        "results": results,
    } for name, title, title_en, results in (
        ("bands-no-penalty", "不登记处罚的抽查", "Checks without penalties",
         {"passed": "market.inspection_result", "problems": "market.inspection_problem"}),
        ("bands-with-penalty", "登记处罚的抽查", "Checks with penalties",
         {"passed": "market.inspection_result", "problems": "market.inspection_problem",
          "penalty": "market.penalty"}))],
}


@pytest.fixture
def drawn(county: str, tmp_path: Path) -> dict[str, Any]:
    """Two firms, drawn under each policy (one task each), and a patrol task."""
    path = tmp_path / "bands.yaml"
    path.write_text(yaml.safe_dump(POLICIES, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with db.session_scope(county) as s:
        supervision_service.load_policies(s, path=path, actor="test")
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        firms = [make_subject(s).id for _ in range(2)]
    out: dict[str, Any] = {"url": county, "firms": firms}
    for name in ("bands-no-penalty", "bands-with-penalty"):
        with db.session_scope(county) as s:
            d = supervision_draws.draw(s, policy_name=name, seed="20261101", actor="test")
            out[name] = (int(d["draw_id"]), list(s.execute(select(InspectionTask.id).where(
                InspectionTask.draw_id == d["draw_id"]).order_by(InspectionTask.id)).scalars()))
    with db.session_scope(county) as s:
        now = clock.now()
        patrol = InspectionTask(kind="patrol", draw_id=None, policy_name=None, department="grid", subject_id=firms[0],
                                band=None, assignees=["MKT-01"], due_on=clock.today(), status="assigned", note="红码",
                                created_at=now, updated_at=now, assigned_at=now, actor="test")
        s.add(patrol)
        s.flush()
        out["patrol"] = patrol.id
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_notice_names_the_band_as_the_pages_do(drawn: dict[str, Any]) -> None:
    draw_id, tasks = drawn["bands-no-penalty"]   # (draw, its tasks), as the fixture made them
    with db.session_scope(str(drawn["url"])) as s:
        pdf = inspections.print_notices(s, verify_base="https://credit.example.gov.cn/verify", draw_id=draw_id).pdf
    pages = [_squash(p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == len(tasks) == 2
    for page in pages:   # unrated firms: the band by its name, with its citation; never its label
        assert "你（单位）所在监管类别：" + _squash(NAMED) + "（测试：尚无评价）" in page, page
        assert "not-rated-yet" not in page and "well-rated" not in page


def test_the_tasks_command_names_the_band(drawn: dict[str, Any], cli, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(drawn["url"])
    for lang, name in (("zh", NAMED), ("en", "Not rated yet")):
        monkeypatch.setenv("CREDITGOV_LANG", lang)
        for args in (["supervise", "tasks"], ["supervise", "show", str(drawn["bands-no-penalty"][0])]):
            r = cli("--db", url, *args)
            assert r.exit_code == 0, r.output
            assert name in r.output and "not-rated-yet" not in r.output, (lang, args, r.output)
        r = cli("--db", url, "supervise", "draws")
        assert "not-rated-yet" not in r.output and ("不登记处罚的抽查" if lang == "zh" else "Checks without penalties") \
            in r.output and "bands-no-penalty" not in r.output
    r = cli("--db", url, "supervise", "tasks", "--json")   # JSON keeps the codes
    assert '"band": "not-rated-yet"' in r.output


def test_the_result_form_offers_only_what_the_policy_records(drawn: dict[str, Any], tmp_path: Path,
                                                            keyring: KeyRing) -> None:
    url = str(drawn["url"])
    key = tmp_path / "form.key"
    create_key_file(key)
    with db.session_scope(url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        none_task = drawn["bands-no-penalty"][1][0]
        with_task = drawn["bands-with-penalty"][1][0]
        t = s.get(InspectionTask, none_task)
        assert t is not None and supervision_tasks.result_outcomes(s, t) == ("passed", "problems")
    c = TestClient(create_app(url, key), base_url="https://testserver")
    for lang, penalty, none_said in (("zh", "行政处罚", "不属于任何监管方案"), ("en", "Administrative penalty",
                                                                                 "has no policy")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get(f"/supervision/tasks/{none_task}", headers=head).text
        assert 'data-testid="result-form"' in page
        assert 'value="passed"' in page and 'value="problems"' in page
        assert 'value="penalty"' not in page and penalty not in page          # no penalty offered
        assert 'name="penalty_amount"' not in page and 'name="decision_no"' not in page
        page = c.get(f"/supervision/tasks/{with_task}", headers=head).text   # a policy that records them
        assert 'value="penalty"' in page and penalty in page and 'name="penalty_amount"' in page
        page = c.get(f"/supervision/tasks/{drawn['patrol']}", headers=head).text
        assert 'data-testid="result-form"' not in page and 'data-testid="no-result"' in page
        assert none_said in page
    # The service still refuses what the form no longer offers.
    with db.session_scope(url) as s, pytest.raises(InvalidInput) as got:
        supervision_tasks.record_result(s, keyring, task_id=none_task, outcome="penalty", penalty_amount="100",
                                        decision_no="X-1")
    assert got.value.code == "supervision.task.no_penalty"
