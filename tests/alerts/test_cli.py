"""`creditgov alerts …` and `creditgov worker …` on the demo county, in-process."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from creditgov.alerts import service as alerts_service
from tests.alerts.demo import Demo


def _run(demo: Demo, *args: str) -> str:
    from creditgov.cli.main import app

    res = CliRunner().invoke(app, ["--db", demo.url, *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_alert_commands_on_the_demo_backlog(demo_store: Demo) -> None:
    # The demo's own recent court cases were warned about when the county was loaded.
    listed = json.loads(_run(demo_store, "alerts", "list", "--rule", "court-dishonest-debtor", "--json"))
    assert listed and all(a["status"] == "open" and a["severity"] == "high" for a in listed)
    first = listed[-1]
    shown = json.loads(_run(demo_store, "alerts", "show", str(first["id"]), "--json"))
    assert shown["events"][0]["action"] == "raised"
    assert {n["channel"] for n in shown["notifications"]} == {"inbox"} and \
        {n["status"] for n in shown["notifications"]} == {"sent"}
    grid = next(n["recipient"] for n in shown["notifications"] if n["recipient"].startswith("grid:"))
    inbox = json.loads(_run(demo_store, "alerts", "inbox", grid, "--json"))
    assert any(first["title"] in m["body"] for m in inbox)
    _run(demo_store, "alerts", "ack", str(first["id"]), "--note", "已核实", "--actor", "grid:test")
    _run(demo_store, "alerts", "comment", str(first["id"]), "已约谈法定代表人", "--actor", "grid:test")
    out = json.loads(_run(demo_store, "alerts", "resolve", str(first["id"]), "企业已履行", "--json"))
    assert out["status"] == "resolved" and out["resolved_by"]
    rules = json.loads(_run(demo_store, "alerts", "rules", "list", "--json"))
    shipped = {r.code for r in alerts_service.WARNING_RULES.shipped().rules}
    assert {r["code"] for r in rules} == shipped and len(shipped) >= 17  # every shipped rule, each cited
    assert all(r["citation"] for r in rules)
    chans = json.loads(_run(demo_store, "alerts", "channels", "list", "--json"))
    assert [c["name"] for c in chans["channels"]] == ["inbox"] and "aliyun_sms" in chans["plugins"]
    outbox = json.loads(_run(demo_store, "alerts", "outbox", "--json"))
    assert set(outbox["counts"]["outbox"]) == {"sent"}  # every backlog notification was delivered


def test_worker_commands(demo_store: Demo) -> None:
    once = json.loads(_run(demo_store, "worker", "once", "--json"))
    assert once["rules"]["raised"] == 0 and once["delivery"]["claimed"] == 0  # the backlog was handled
    job = json.loads(_run(demo_store, "worker", "job", "colour_codes", "--json"))
    assert job["status"] == "done" and job["result"]["subjects"] == 0  # nothing published yet
    runs = json.loads(_run(demo_store, "worker", "runs", "--json"))
    assert runs[0]["job"] == "colour_codes"
    jobs = json.loads(_run(demo_store, "worker", "jobs", "--json"))
    assert {j["job"] for j in jobs} >= {"escalations", "colour_codes", "supervision_plans"}
    assert all(j["next_run"] for j in jobs)


def test_alert_table_shows_china_standard_time(demo_store: Demo) -> None:
    from creditgov.core import clock

    listed = json.loads(_run(demo_store, "alerts", "list", "--limit", "3", "--json"))
    assert listed
    table = _run(demo_store, "alerts", "list", "--limit", "3")
    for a in listed:
        # The stored UTC moment is shown in Beijing time, to the minute, labelled.
        assert clock.to_cst(a["raised_at"]).strftime("%Y-%m-%d %H:%M") in table
        assert a["raised_at"] not in table
    assert "北京时间" in table
