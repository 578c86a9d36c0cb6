"""The mini county's warnings and supervision, for the API and browser tests: the
shipped warning rules and supervision policies (as `creditgov init` loads them), a
test policy that draws every enterprise, a market inspector pool outside the firm's
street, one alert about subject 1 delivered to the inboxes, and one draw whose task
is about subject 1 — so the matrix has a known alert, draw and task."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from creditgov.alerts import outbox
from creditgov.alerts import service as alerts_service
from creditgov.core import db
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision.models import InspectionTask
from creditgov.supervision.schemas import InspectorsFile

if TYPE_CHECKING:
    from tests.api.county import County

EVERY_ENTERPRISE = Path(__file__).resolve().parents[1] / "fixtures" / "supervision" / "every-enterprise.yaml"
TEST_POLICY = "every-enterprise"
SEED = "20261101"
# Four market inspectors working in the other street (CX-S02), so none is excluded from
# the enterprise in CX-S01 by the own-region rule, and a second draw still finds two
# who were not on the last inspection.
ROSTER = {"inspectors": [{"code": f"MKT-0{n}", "name": f"市场监管检查员{n}号", "kind": "inspector",
                          "department": "market", "pool": "market", "region": "CX-S02"} for n in (1, 2, 3, 4)]}
# Delivered to the credit office's desk and to the grid of the subject (CX-S01-G01).
RECIPIENTS = [{"who": "department", "code": "credit", "channels": ["inbox"]},
              {"who": "grid_worker", "channels": ["inbox"]}]
# The county's own alert goes to the market department's desk as well: a department
# officer reads and handles the alerts addressed to its desk (alerts/access.py).
SEEDED_RECIPIENTS = [*RECIPIENTS, {"who": "department", "code": "market", "channels": ["inbox"]}]


@dataclass
class Seeded:
    alert_id: int
    draw_id: int
    task_id: int


def raise_test_alert(url: str, subject_id: int, *, key: str, title: str = "测试预警：新增失信被执行人",
                     recipients: list[dict] = RECIPIENTS) -> int:
    """A real alert through `raise_alert` (outbox rows in the same transaction), then the
    outbox delivered, so the inbox channel writes the messages."""
    with db.session_scope(url) as s:
        r = alerts_service.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=subject_id, severity="high",
                                       title=title, body="测试用预警。", recipients=recipients, evidence_key=key,
                                       dedup_key=f"test:{key}", actor="test")
        alert_id = r.alert.id
    outbox.drain(url)
    return alert_id


def seed(url: str) -> Seeded:
    with db.session_scope(url) as s:
        alerts_service.load_rules(s, actor="test")
        supervision_service.load_policies(s, actor="test")
        supervision_service.load_policies(s, path=EVERY_ENTERPRISE, actor="test")
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
    alert_id = raise_test_alert(url, 1, key="test:subject-1", recipients=SEEDED_RECIPIENTS)
    with db.session_scope(url) as s:
        out = supervision_draws.draw(s, policy_name=TEST_POLICY, seed=SEED, actor="test")
        task = s.execute(select(InspectionTask).where(InspectionTask.draw_id == out["draw_id"],
                                                      InspectionTask.subject_id == 1)).scalar_one()
        task_id = task.id
        # The county's inspector account acts for the first inspector drawn for it (the
        # roster names the account), so it may record the task's result.
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(
            roster_with_account(task.assignees[0], INSPECTOR_ACCOUNT)), actor="test")
    return Seeded(alert_id=alert_id, draw_id=int(out["draw_id"]), task_id=int(task_id))


INSPECTOR_ACCOUNT = "t-inspector"


def roster_with_account(code: str, account: str) -> dict:
    """ROSTER with `account` acting for the inspector `code`."""
    return {"inspectors": [{**i, "account": account} if i["code"] == code else i for i in ROSTER["inspectors"]]}


def fresh_county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    """A private mini county (not evaluated: policies put unrated firms in their
    `unrated` band) on the fixture's database, for tests that change its alerts and
    tasks; PostgreSQL in a schema of its own, dropped afterwards."""
    from tests.api.county import county_on

    with county_on(request, tmp_path_factory.mktemp(f"county-{request.param}")) as c:
        yield c
