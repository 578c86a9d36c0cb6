"""The issue's journey on the demo county, through the real `creditgov` commands:

object to a record → it leaves publication and the next evaluation → the department
upholds it → it returns; apply to repair a serious record too early → refused with the
date it becomes possible; after the period, with a commitment signed → approved → the
firm leaves the serious-dishonesty list, its grade is recomputed, one exchange package
is queued; the firm's own view shows all of it and who read its file.

Business dates start at the real date (not the suite's pinned 2026-11-01): the
evaluation engine places a status change by its wall-clock time, so an as-of date
before the wall clock would not yet see a change made now."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests import store_template
from typer.testing import CliRunner

from creditgov.catalog.models import CatalogItem
from creditgov.cli.main import app
from creditgov.core import clock, db
from creditgov.records.models import CreditRecord
from creditgov.scoring import explain
from creditgov.scoring import service as scoring_service
from creditgov.subjects.models import Subject
from creditgov.workflows import calendar, flows

MODEL = "public-credit-enterprise"
# The serious-dishonesty list's record criteria (lists/data/lists.yaml) and their units.
CRITERIA = {"court.dishonest_debtor": ("court-dishonest-debtor", "court"),
            "market.penalty_serious": ("market-serious-violation", "market"),
            "safety.accident": ("work-safety-serious", "safety")}


def _start() -> dt.date:
    return max(clock.now().date(), dt.date(2026, 11, 2))


@pytest.fixture(scope="module")
def county_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo county's source files, generated once for both databases, dated so the
    county's 'today' is the journey's first day."""
    out = tmp_path_factory.mktemp("journey-files") / "d"
    res = CliRunner().invoke(app, ["generate", "--out", str(out), "--subjects", "1000", "--seed", "11",
                                   "--as-of", _start().isoformat(), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         county_files: Path) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("journey")
    stack = ExitStack()
    if request.param == "sqlite":
        url = f"sqlite:///{work / 'creditgov.db'}"
    else:
        url = stack.enter_context(store_template.pg_schema(request.getfixturevalue("pg_base"), "wfj_"))
    runner = CliRunner()
    mp = pytest.MonkeyPatch()
    start = _start()
    mp.setenv("CREDITGOV_TODAY", start.isoformat())
    mp.setenv("CREDITGOV_KEY_FILE", str(work / "creditgov.key"))
    mp.setenv("CREDITGOV_FILES_DIR", str(work / "files"))
    mp.chdir(work)

    def cg(*args: str, ok: bool = True) -> Any:
        res = runner.invoke(app, ["--db", url, *args], catch_exceptions=not ok)
        if ok:
            assert res.exit_code == 0, f"creditgov {' '.join(args)}: {res.output}"
        return json.loads(res.output) if ok and "--json" in args else res

    try:
        cg("init", "--json")
        cg("ingest", str(county_files), "--json")
        yield {"cg": cg, "url": url, "mp": mp, "start": start, "work": work}
    finally:
        mp.undo()
        stack.close()


def _explained(url: str, subject_id: int) -> explain.Explanation:
    with db.session_scope(url) as s:
        _, p = scoring_service.prepared_for(s, MODEL, clock.today())
        data = explain.load_subject_data(s, [subject_id], items=p.used_items)[subject_id]
        return explain.evaluate(p, data)


def _counted(ex: explain.Explanation) -> set[int]:
    return {r["id"] for item in ex.items for r in item.records}


def _pick(url: str) -> tuple[tuple[int, int, str], tuple[int, int, str, dt.date, str]]:
    """(firm, a counted public negative record, its department) for the objection, and
    (firm, its one serious record — published in the last year —, department,
    publication date, item) for the repair."""
    today = clock.today()
    with db.session_scope(url) as s:
        rows = s.execute(
            select(CreditRecord.subject_id, CreditRecord.id, CreditRecord.department_code, CreditRecord.item_code,
                   CreditRecord.published_from, CatalogItem.severity)
            .join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
            .join(Subject, Subject.id == CreditRecord.subject_id)
            .where(Subject.kind == "enterprise", Subject.status == "confirmed", CatalogItem.polarity == "negative",
                   CatalogItem.data_class == "public", CreditRecord.status == "active",
                   CreditRecord.is_current.is_(True))
            .order_by(CreditRecord.subject_id, CreditRecord.id)).all()
    serious: dict[int, list[Any]] = {}
    for r in rows:
        if r.severity == "serious":
            serious.setdefault(r.subject_id, []).append(r)
    objection = None
    for r in rows:
        if r.severity == "general" and r.subject_id not in serious and r.published_from <= today:
            if r.id in _counted(_explained(url, r.subject_id)):
                objection = (r.subject_id, r.id, r.department_code)
                break
    repair = None
    for sid, recs in serious.items():
        r = recs[0]
        if len(recs) == 1 and clock.add_months(r.published_from, 12) > today:
            repair = (sid, r.id, r.department_code, r.published_from, r.item_code)
            break
    assert objection is not None and repair is not None, "the demo county has no suitable firms"
    return objection, repair


def test_the_journey(demo: dict[str, Any], today) -> None:
    cg, url, start = demo["cg"], demo["url"], demo["start"]
    today(start)  # the suite pins 2026-11-01 for every test; this journey runs from the real date
    (firm, rec, dept), (sfirm, srec, sdept, spub, sitem) = _pick(url)

    # The serious firm is identified onto the serious-dishonesty list, resting on its record
    # (by the record's own criterion where the list has one, else manually by the credit office).
    crit, unit = CRITERIA.get(sitem, ("manual", "credit"))
    entry = cg("lists", "propose", str(sfirm), "--list", "serious-dishonesty", "--criterion", crit, "--record",
               str(srec), "--decision-no", "严失认定〔2026〕1号", "--basis", "严重违法失信, 经认定", "--json")
    cg("lists", "notify", str(entry["id"]), "--json")
    t1 = dt.date.fromisoformat(entry["proposed_on"]) + dt.timedelta(days=8)
    today(t1)
    cg("lists", "approve", str(entry["id"]), "--unit", unit, "--json")
    cg("lists", "publish", str(entry["id"]), "--json")

    # --- objection: marked at once, out of publication and evaluation ----------------
    before = _explained(url, firm)
    assert rec in _counted(before)
    filed = cg("objection", "file", str(firm), "--record", str(rec), "--reason", "该处罚已被撤销, 信息有误", "--json")
    oid = filed[0]["id"]
    with db.session_scope(url) as s:
        assert filed[0]["due_on"] == calendar.load(s).add_working_days(t1, 5).isoformat()
        assert rec not in [r.id for r in flows.published_records(s, firm)]
    during = _explained(url, firm)
    assert rec not in _counted(during)
    assert any(x["id"] == rec for x in during.excluded)
    assert during.score_centi > before.score_centi
    listed = cg("objection", "list", "--subject", str(firm), "--json")
    assert [(o["id"], o["status"], o["working_days_left"]) for o in listed] == [(oid, "open", 5)]

    # … the department upholds it: back in publication and evaluation
    cg("objection", "decide", str(oid), "--department", dept, "--outcome", "upheld", "--reason", "经核实信息无误",
       "--json")
    with db.session_scope(url) as s:
        assert rec in [r.id for r in flows.published_records(s, firm)]
    after = _explained(url, firm)
    assert rec in _counted(after) and after.score_centi == before.score_centi

    # --- repair: too early ------------------------------------------------------------
    schedule = {r["record_id"]: r for r in cg("repair", "schedule", str(sfirm), "--json")}
    possible = clock.add_months(spub, 12)
    assert (schedule[srec]["tier"], schedule[srec]["repairable_from"], schedule[srec]["publication_ends"]) == \
        ("serious", possible.isoformat(), clock.add_months(spub, 36).isoformat())
    refused = cg("repair", "apply", str(sfirm), "--record", str(srec), "--json")
    assert refused["status"] == "refused" and f"from {possible.isoformat()}" in refused["refusal_reason"]
    graded = _explained(url, sfirm)
    assert graded.grade == "D"  # the serious-dishonesty veto

    # --- after the period, with a commitment signed ------------------------------------
    t2 = max(possible, t1 + dt.timedelta(days=1))
    today(t2)
    cg("repair", "commitment", str(sfirm), "--agree", "--signed-by", "法定代表人", "--json")
    cg("repair", "fulfil", str(srec), "--department", sdept, "--note", "罚款已缴清, 已整改", "--json")
    material = demo["work"] / "整改报告.pdf"
    material.write_bytes(b"rectification report")
    app_ = cg("repair", "apply", str(sfirm), "--record", str(srec), "--material", str(material), "--json")
    assert app_["status"] == "submitted" and app_["materials"][0]["file"] == "整改报告.pdf"
    cg("repair", "forward", str(app_["id"]), "--unit", "credit", "--json")
    before_repair = _explained(url, sfirm)
    done = cg("repair", "approve", str(app_["id"]), "--department", sdept, "--json")
    assert done["record"] == {"id": srec, "status": "repaired"}
    assert done["lists"]["exited"] == [entry["id"]]
    assert [(p["record_id"], p["recipient"], p["kind"]) for p in done["exchange"]] == \
        [(srec, "upper-platform", "record.repaired")]
    regraded = {r["model"].split("@")[0]: r for r in done["reevaluations"]}
    assert regraded[MODEL]["grade"] != "D"
    assert dt.date.fromisoformat(regraded[MODEL]["as_of"]) == t2
    assert float(regraded[MODEL]["score"]) >= float(before_repair.score)
    assert _explained(url, sfirm).grade == regraded[MODEL]["grade"]
    entries = cg("lists", "entries", "--subject", str(sfirm), "--json")
    assert [(e["id"], e["status"], e["exit_kind"]) for e in entries] == [(entry["id"], "exited", "repair")]
    outbox = [p for p in cg("repair", "outbox", "--json") if p["record_id"] == srec]
    assert len(outbox) == 1

    # --- the firm's own view ------------------------------------------------------------
    view = cg("own-view", str(sfirm), "--json")
    assert [r["status"] for r in view["repairs"]] == ["approved", "refused"]
    assert srec not in view["published_record_ids"]
    assert [e["status"] for e in view["lists"]] == ["exited"]
    assert view["reevaluations"][0]["cause"] == f"repair:{app_['id']}"
    assert {sc["model"].split("@")[0] for sc in view["scores"]} >= {MODEL}
    assert [m["topic"] for m in view["inbox"]][:2] == ["repair.approved", "repair.forwarded"]
    # a department's credit check is a read the firm sees, with its purpose (reads of a
    # firm's file are not audited by the subjects domain; a person's are, see test_own_view)
    cg("check", str(sfirm), "--scenario", "public-bidding", "--json")
    readers = cg("own-view", str(sfirm), "--json")["readers"]
    assert len(readers) == len(view["readers"]) + 1
    assert readers[0]["action"] == "check" and "public-bidding" in readers[0]["purpose"]
    objections = cg("own-view", str(firm), "--json")["objections"]
    assert [(o["id"], o["outcome"], o["deadline"]) for o in objections] == [(oid, "upheld", None)]
    assert start <= t1 <= t2
