"""The API keeps its codes and names them (issue 21): each answer of the checks, alerts,
supervision, objection and repair, and scoring views carries a `labels` object — field ->
{"zh", "en"}, or {code: {"zh", "en"}} for a field holding a list of codes — drawn from the
one label catalogue, the same way the subjects and lists views do. Called through the real
application on the mini county (tests/api/county.py), as the credit office (whole county).

Other tests of the session may move the county's alert, task and cases on (the matrix
acknowledges, records and decides), so a status is checked against its label for whichever
state it is in; every other code is fixed by the county."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.county import County

ENTERPRISE = {"zh": "企业", "en": "Enterprise"}
MARKET = {"zh": "市场监督管理局", "en": "Market Supervision Administration"}
ENTERPRISE_MODEL = {"zh": "企业公共信用综合评价", "en": "Enterprise public credit evaluation"}


def _get(client: TestClient, county: County, path: str, **kw: Any) -> Any:
    r = client.request(kw.pop("method", "GET"), "/api/v1" + path,
                       headers={"Authorization": f"Bearer {county.tokens['credit_office']}"}, **kw)
    assert r.status_code < 300, (path, r.status_code, r.text)
    return r.json()


def _pair(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def test_checks_and_measures_name_their_codes(sclient: TestClient, sqlite_county: County) -> None:
    measures = {m["code"]: m for m in _get(sclient, sqlite_county, "/measures")}
    fast = measures["fast-track-approval"]
    assert fast["code"] == "fast-track-approval"  # the code is kept
    assert fast["labels"]["code"] == _pair("信易批·绿色通道（优先办理、简化程序）", "Fast-track approval (信易批)")
    assert fast["labels"]["kind"] == _pair("激励措施", "Incentive")
    assert fast["labels"]["scenarios"]["administrative-approval"] == _pair("行政审批（信易批）", "Administrative approval")

    out = _get(sclient, sqlite_county, "/checks", method="POST",
               json={"scenario": "administrative-approval", "subject_id": 1})
    assert out["scenario"]["code"] == "administrative-approval"
    assert out["scenario"]["labels"]["code"] == _pair("行政审批（信易批）", "Administrative approval")
    assert out["subject"]["labels"]["kind"] == ENTERPRISE
    assert out["model"] == "public-credit-enterprise" and out["labels"]["model"] == ENTERPRISE_MODEL
    for m in [*out["measures"], *out["available_with_commitment"]]:
        assert m["labels"]["code"] == _pair(m["name_zh"], m["name_en"]), m["code"]
    colours = {"green": _pair("绿码", "Green"), "yellow": _pair("黄码", "Yellow"), "red": _pair("红码", "Red")}
    if out["colour"]:
        assert out["labels"]["colour"] == colours[out["colour"]]

    for w in out["warnings"]:  # the county's alert about subject 1, while it is unresolved
        assert w["labels"]["rule"] == _pair("新增失信被执行人", "New dishonest judgement debtor")

    # A scenario whose measure applies to subject 1; the recorded check keeps its measures
    # as a list of codes, named code by code.
    out = _get(sclient, sqlite_county, "/checks", method="POST", json={"scenario": "yiwu-admission", "subject_id": 1})
    strict = _pair("入驻从严审核与专项督查（义乌电商小镇）", "Strict admission review and special supervision (Yiwu town)")
    [m] = [m for m in out["measures"] if m["code"] == "admission-strict-review"]
    assert m["labels"]["code"] == strict and m["labels"]["kind"] == _pair("监管措施", "Supervision")
    got = _get(sclient, sqlite_county, f"/checks/{out['check_id']}")
    assert "admission-strict-review" in got["measures"]
    assert set(got["labels"]["measures"]) == set(got["measures"])
    assert got["labels"]["measures"]["admission-strict-review"] == strict
    assert got["labels"]["scenario"] == _pair("义乌陆港电商小镇入驻资格审核", "Yiwu e-commerce town admission screening")


ALERT_STATUS = {"open": _pair("待签收", "Open"), "acknowledged": _pair("已签收", "Acknowledged"),
                "resolved": _pair("已办结", "Resolved")}


def test_alerts_name_rule_severity_and_status(sclient: TestClient, sqlite_county: County) -> None:
    a = _get(sclient, sqlite_county, f"/alerts/{sqlite_county.alert_id}")
    assert (a["rule"], a["severity"]) == ("court-dishonest-debtor", "high")
    assert a["labels"]["rule"] == _pair("新增失信被执行人", "New dishonest judgement debtor")
    assert a["labels"]["severity"] == _pair("高", "High")
    assert a["labels"]["status"] == ALERT_STATUS[a["status"]]
    inbox = [n for n in a["notifications"] if n["channel"] == "inbox"]
    assert inbox and inbox[0]["labels"]["channel"] == _pair("站内消息", "Inbox")
    listed = {x["id"]: x for x in _get(sclient, sqlite_county, "/alerts?limit=500")}
    assert listed[a["id"]]["labels"] == a["labels"]


TASK_STATUS = {"assigned": _pair("待检查", "Assigned"), "done": _pair("已完成", "Done"),
               "cancelled": _pair("已取消", "Cancelled")}


def test_supervision_names_task_and_draw_codes(sclient: TestClient, sqlite_county: County) -> None:
    t = _get(sclient, sqlite_county, f"/supervision/tasks/{sqlite_county.task_id}")
    assert (t["kind"], t["department"]) == ("random", "market")
    assert t["labels"]["kind"] == _pair("双随机抽查", "Random inspection")
    assert t["labels"]["department"] == MARKET
    assert t["labels"]["status"] == TASK_STATUS[t["status"]]
    listed = {x["id"]: x for x in _get(sclient, sqlite_county, f"/supervision/tasks?draw_id={t['draw_id']}")}
    assert listed[t["id"]]["labels"]["kind"] == t["labels"]["kind"]
    d = _get(sclient, sqlite_county, f"/supervision/draws/{sqlite_county.draw_id}")
    assert d["status"] == "tasked"  # its tasks were made with it
    assert d["labels"]["status"] == _pair("已派发检查任务", "Tasks assigned")
    listed = {x["draw_id"]: x for x in _get(sclient, sqlite_county, "/supervision/draws?limit=500")}
    assert listed[d["draw_id"]]["labels"] == d["labels"]


OBJECTION_STATUS = {"decided": _pair("已处理", "Decided"), "reviewing": _pair("复核中", "Under review"),
                    "reviewed": _pair("已复核", "Reviewed")}


def test_objections_and_repairs_name_their_codes(sclient: TestClient, sqlite_county: County) -> None:
    o = _get(sclient, sqlite_county, f"/objections/{sqlite_county.objection_id}")
    assert (o["outcome"], o["department"]) == ("upheld", "market")
    assert o["labels"]["status"] == OBJECTION_STATUS[o["status"]]
    assert o["labels"]["outcome"] == _pair("维持", "Upheld")
    assert o["labels"]["department"] == MARKET
    r = _get(sclient, sqlite_county, f"/repairs/{sqlite_county.repair_id}")
    assert (r["status"], r["tier"]) == ("refused", "serious")
    assert r["labels"]["status"] == _pair("不符合条件", "Refused (conditions not met)")
    assert r["labels"]["tier"] == _pair("严重失信", "Serious")
    listed = {x["id"]: x for x in _get(sclient, sqlite_county, "/repairs?status=all")}
    assert listed[r["id"]]["labels"] == r["labels"]


def test_scoring_runs_and_models_name_their_codes(sclient: TestClient, sqlite_county: County) -> None:
    runs = _get(sclient, sqlite_county, "/runs?model=public-credit-enterprise")
    assert runs
    for run in runs:
        assert run["model"] == "public-credit-enterprise"
        assert run["labels"]["model"] == ENTERPRISE_MODEL
    done = [run for run in runs if run["status"] == "done"]
    assert done and done[0]["labels"]["status"] == _pair("已完成", "Done")
    versions = [m for m in _get(sclient, sqlite_county, "/models") if m["name"] == "community-resident"]
    assert versions and versions[0]["labels"]["name"] == _pair(
        "社区居民个人诚信积分(一人一档一分)", "Community resident integrity score (one person, one file, one score)")
    one = _get(sclient, sqlite_county, "/models/public-credit-enterprise")
    assert one["labels"]["name"] == ENTERPRISE_MODEL
    assert one["labels"]["status"] == _pair("已发布", "Published")
