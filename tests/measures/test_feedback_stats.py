"""The closed loop: departments report what they did with each measure a check
returned, and the statistics count checks and applied measures by department and
scenario."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.lists.helpers import add_run, make_subject

from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.measures import service as measures


def test_feedback_rules_and_stats(county: str) -> None:
    with db.session_scope(county) as s:
        a, b, c = make_subject(s), make_subject(s), make_subject(s)
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 30),
                [(a, "A", "green"), (b, "B", "green"), (c, "D", "red")])
        ids = (a.id, b.id, c.id)
    with db.session_scope(county) as s:
        tax_a = measures.check(s, subject_id=ids[0], scenario="export-tax-refund")   # paperless
        tax_b = measures.check(s, subject_id=ids[1], scenario="export-tax-refund")   # paperless
        bank_a = measures.check(s, subject_id=ids[0], scenario="bank-lending")      # credit line
        bank_c = measures.check(s, subject_id=ids[2], scenario="bank-lending")      # prudent credit
        measures.check(s, subject_id=ids[2], scenario="export-tax-refund")          # nothing
        measures.check(s, subject_id=ids[0], scenario="bank-lending", department="rural_bank")
        checks = (tax_a.check_id, tax_b.check_id, bank_a.check_id, bank_c.check_id)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="did not return measure 'credit-line-and-rate'"):
            measures.report_feedback(s, check_id=checks[0], measure_code="credit-line-and-rate", applied=True)
        with pytest.raises(InvalidInput, match="say why"):
            measures.report_feedback(s, check_id=checks[0], measure_code="paperless-export-tax-refund",
                                     applied=False)
        with pytest.raises(InvalidInput, match="only it reports back"):
            measures.report_feedback(s, check_id=checks[0], measure_code="paperless-export-tax-refund",
                                     applied=True, department="finance")
        with pytest.raises(NotFound):
            measures.report_feedback(s, check_id="CK-nope", measure_code="x", applied=True)
        measures.report_feedback(s, check_id=checks[0], measure_code="paperless-export-tax-refund", applied=True,
                                 actor="tax:wu")
        measures.report_feedback(s, check_id=checks[1], measure_code="paperless-export-tax-refund",
                                 applied=False, reason="申报资料不全, 转常规审核")
        measures.report_feedback(s, check_id=checks[2], measure_code="credit-line-and-rate", applied=True)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="already on file"):
            measures.report_feedback(s, check_id=checks[0], measure_code="paperless-export-tax-refund",
                                     applied=False, reason="changed my mind")
        (fb,) = measures.feedback_of(s, checks[1])
        assert fb.applied is False and fb.reason == "申报资料不全, 转常规审核" and fb.department == "tax"
        st = measures.stats(s)
    rows = {(r["department"], r["scenario"]): r for r in st["rows"]}
    assert rows[("tax", "export-tax-refund")] == {
        "department": "tax", "scenario": "export-tax-refund", "checks": 3, "measures_returned": 2,
        "reported": 2, "applied": 1, "not_applied": 1, "awaiting_feedback": 0}
    assert rows[("finance", "bank-lending")] == {
        "department": "finance", "scenario": "bank-lending", "checks": 2, "measures_returned": 2,
        "reported": 1, "applied": 1, "not_applied": 0, "awaiting_feedback": 1}
    assert rows[("rural_bank", "bank-lending")]["checks"] == 1
    assert st["by_measure"] == {"credit-line-and-rate": {"applied": 1, "not_applied": 0},
                                "paperless-export-tax-refund": {"applied": 1, "not_applied": 1}}
    assert st["totals"]["checks"] == 6 and st["totals"]["applied"] == 2
    with db.session_scope(county) as s:
        assert measures.stats(s, since=dt.date(2026, 11, 2))["totals"]["checks"] == 0


def test_a_measure_naming_an_unknown_list_is_refused_on_load(county_sqlite: str, tmp_path) -> None:
    from creditgov.core.errors import ConfigError

    text = measures.shipped_text("measures.yaml").replace("{lists: [red]}", "{lists: [redd]}", 1)
    bad = tmp_path / "measures.yaml"
    bad.write_text(text, encoding="utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match="unknown list 'redd'"):
        measures.load_measures(s, path=bad)
    bad.write_text(text.replace("kind: incentive", "kind: reward", 1), encoding="utf-8")
    line = next(i for i, ln in enumerate(bad.read_text("utf-8").splitlines(), 1) if "kind: reward" in ln)
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match=f"measures.yaml:{line}: measures.0.kind"):
        measures.load_measures(s, path=bad)


def test_every_department_a_measure_or_scenario_names_is_said_in_words(county_sqlite: str, tmp_path) -> None:
    """A measure's department shows on check pages, notices and exports: each is one of
    the catalogue's departments, with a Chinese and an English name; another is refused
    on load, naming the line."""
    import yaml

    from creditgov.core import labels
    from creditgov.core.errors import ConfigError

    named = {m["department"] for m in yaml.safe_load(measures.shipped_text("measures.yaml"))["measures"]}
    named |= {s["department"] for s in yaml.safe_load(measures.shipped_text("scenarios.yaml"))["scenarios"]}
    assert {"approval", "market_service", "hzbay_town"} <= named
    for code in sorted(named):
        zh, en = labels.label("department", code, "zh"), labels.label("department", code, "en")
        assert code not in (zh, en) and zh != en, (code, zh, en)
    text = measures.shipped_text("measures.yaml").replace("department: approval", "department: aproval", 1)
    bad = tmp_path / "measures.yaml"
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "department: aproval" in ln)
    with db.session_scope(county_sqlite) as s, pytest.raises(
            ConfigError, match=f"measures.yaml:{line}: .*department.*unknown department 'aproval'"):
        measures.load_measures(s, path=bad)


def test_a_reloaded_catalogue_is_seen_by_the_next_check(county: str, tmp_path) -> None:
    """Checks read a cached catalogue; loading a changed file must show at once."""
    with db.session_scope(county) as s:
        firm = make_subject(s)
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 30), [(firm, "A", "green")])
        fid = firm.id
        before = {m["code"] for m in measures.check(s, subject_id=fid, scenario="bank-lending").measures}
        assert before == {"credit-line-and-rate"}
    text = measures.shipped_text("measures.yaml").replace(
        "    action: 纯信用贷款、提高授信额度、给予利率优惠", "    action: 纯信用贷款、提高授信额度、给予利率优惠\n    active: false")
    changed = tmp_path / "measures.yaml"
    changed.write_text(text, encoding="utf-8")
    with db.session_scope(county) as s:
        measures.load_measures(s, path=changed)
    with db.session_scope(county) as s:
        assert measures.check(s, subject_id=fid, scenario="bank-lending").measures == []
