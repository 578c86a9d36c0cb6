"""The refusals of the supervision pages in the reader's language, from the label
catalogue: a draw's seed, a policy or a region nobody has, the lists and the
inspectors a campaign names — what the officer typed repeated unchanged (escaping is
the template's job) — and a task outside the reader's reach."""

from __future__ import annotations

import datetime as dt

import pytest

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.supervision import campaigns, draws, tasks
from creditgov.supervision import service as supervision_service
from creditgov.web import i18n
from tests import store_template

POLICY = "lindian-enterprise"
HOSTILE = '<b>x</b> "O\'Brien" “引号”'


@pytest.fixture
def store(sqlite_url: str) -> str:
    url = store_template.fill(sqlite_url)
    with db.session_scope(url) as s:
        supervision_service.load_policies(s, actor="test")
    return url


def test_a_draw_with_a_wrong_policy_seed_or_region(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(NotFound, match="supervision policy") as policy:
            draws.draw(s, policy_name=HOSTILE, seed="1", actor="test")
        with pytest.raises(InvalidInput, match="a seed is") as seed:
            draws.draw(s, policy_name=POLICY, seed="12a", actor="test")
        with pytest.raises(NotFound, match="no region") as region:
            draws.draw(s, policy_name=POLICY, scope={"region": HOSTILE}, seed="1", actor="test")
    assert i18n.refusal(policy.value, "zh") == f"找不到监管方案“{HOSTILE}”，请从列表中选择监管方案。"
    assert i18n.refusal(policy.value, "en") == f"There is no supervision policy “{HOSTILE}”; choose one from the list."
    assert i18n.refusal(seed.value, "zh") == "随机种子须是不超过 30 位的整数（只能填数字），也可以不填，由系统生成。"
    assert i18n.refusal(seed.value, "en") == "A seed is a whole number of at most 30 digits, or leave it empty to get one."
    assert i18n.refusal(region.value, "zh") == f"找不到区域“{HOSTILE}”，请核对区域编码。"
    assert i18n.refusal(region.value, "en") == f"There is no region “{HOSTILE}”; check its code."


def test_a_campaign_naming_lists_and_inspectors_nobody_has(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        c = campaigns.create(s, code="ZX-1", title="专项整治", policy_name=POLICY, basis="通知",
                             starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 11, 30), actor="office")
        with pytest.raises(NotFound, match="no list") as lists:
            campaigns.add_targets(s, campaign_id=c.id, source="list", lists=[HOSTILE], actor="office")
        with pytest.raises(NotFound, match="no active inspector") as team:
            campaigns.assign_tasks(s, campaign_id=c.id, assignees=[HOSTILE], actor="office")
        with pytest.raises(NotFound, match="campaign 999 not found") as other:
            campaigns.get(s, 999)
    assert i18n.refusal(lists.value, "zh") == f"没有编码为“{HOSTILE}”的信用名单，请核对名单编码。"
    assert i18n.refusal(lists.value, "en") == f"There is no credit list “{HOSTILE}”; check the list codes."
    assert i18n.refusal(team.value, "zh") == f"没有在岗的检查人员“{HOSTILE}”，请核对检查人员编号。"
    assert i18n.refusal(team.value, "en") == f"No inspector “{HOSTILE}” is on duty; check the inspectors' codes."
    assert i18n.refusal(other.value, "zh") == "找不到检查活动 #999，或它不在您的数据范围内。"
    assert i18n.refusal(other.value, "en") == "Campaign #999 was not found, or is outside your data scope."


def test_a_task_nobody_has(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s, pytest.raises(NotFound, match="inspection task 42 not found") as missing:
        tasks.get_task(s, 42)
    assert i18n.refusal(missing.value, "zh") == "找不到检查任务 #42，或它不在您的数据范围内。"
    assert i18n.refusal(missing.value, "en") == "Inspection task #42 was not found, or is outside your data scope."
