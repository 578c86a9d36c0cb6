"""Entry criteria → proposals: from evaluation results and from records; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.lists.helpers import add_record, add_run, make_subject

from creditgov.core import db
from creditgov.lists import criteria as list_criteria
from creditgov.lists import queries as list_queries
from creditgov.lists import service as lists
from creditgov.lists.models import ListEntry

MODEL = "public-credit-enterprise"


def test_criteria_become_proposals_once(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(county) as s:
        d_twice, d_once, a_clean, a_dirty, a_person, court = (make_subject(s) for _ in range(6))
        person = make_subject(s, kind="individual")
        add_run(s, MODEL, dt.date(2026, 3, 31), [(d_twice, "D", "red"), (d_once, "C", "yellow"),
                                                 (a_clean, "A", "green"), (a_dirty, "A", "green"),
                                                 (person, "A", "green")])
        add_run(s, MODEL, dt.date(2026, 6, 30), [(d_twice, "D", "red"), (d_once, "D", "red"),
                                                 (a_clean, "A", "green"), (a_dirty, "A", "green"),
                                                 (person, "A", "green")])
        # an unpublished later run is not a published result and must be ignored
        add_run(s, MODEL, dt.date(2026, 9, 30), [(d_once, "D", "red"), (a_clean, "B", "green")],
                published=False)
        add_record(s, a_dirty, "market.penalty", occurred_on=dt.date(2024, 5, 1))  # within 3 years
        add_record(s, a_clean, "market.penalty", occurred_on=dt.date(2023, 5, 1))  # older than 3 years
        rec = add_record(s, court, "court.dishonest_debtor", occurred_on=dt.date(2026, 8, 1), department="court")
        # a revoked record and a record of another item never qualify
        add_record(s, d_once, "court.dishonest_debtor", occurred_on=dt.date(2026, 8, 1), department="court",
                   status="revoked")
        add_record(s, d_once, "court.lawsuit", occurred_on=dt.date(2026, 8, 1), department="court")
        ids = {n: x.id for n, x in [("d_twice", d_twice), ("d_once", d_once), ("a_clean", a_clean),
                                    ("a_dirty", a_dirty), ("person", person), ("court", court)]}
        rec_id = rec.id

    with db.session_scope(county) as s:
        res = list_criteria.run_criteria(s, as_of=dt.date(2026, 10, 31), notify_now=True, actor="credit-office")
        assert res.as_dict()["by_criterion"] == {
            "red/a-grade-three-clean-years": 1, "serious-dishonesty/court-dishonest-debtor": 1,
            "key-attention/d-grade-twice": 1}
        assert res.notified == 3
        by_list = {(e.list_code, e.subject_id): e for e in list_queries.entries(s)}
        assert set(by_list) == {("red", ids["a_clean"]), ("serious-dishonesty", ids["court"]),
                                ("key-attention", ids["d_twice"])}
        sd = by_list[("serious-dishonesty", ids["court"])]
        assert sd.record_id == rec_id and sd.identifying_unit == "court" and sd.status == "notified"
        assert sd.response_due == dt.date(2026, 11, 6)  # notified Sunday 1 November: 5 working days
        assert by_list[("key-attention", ids["d_twice"])].identifying_unit == "credit"
        assert "连续两次为D级" in (by_list[("key-attention", ids["d_twice"])].basis or "")

    with db.session_scope(county) as s:
        again = list_criteria.run_criteria(s, as_of=dt.date(2026, 10, 31))
        assert again.as_dict()["proposed"] == 0
        assert sum(again.skipped.values()) == 3
        # the identifying unit accepts the court debtor's representation and rejects;
        # the same record never leads to a second proposal
        lists.represent(s, entry_id=sd.id, text="已履行完毕")
        lists.reject(s, entry_id=sd.id, unit="court", reason="已履行, 不予列入")
    with db.session_scope(county) as s:
        third = list_criteria.run_criteria(s, list_code="serious-dishonesty", as_of=dt.date(2026, 10, 31))
        assert third.as_dict()["proposed"] == 0
        assert third.skipped == {"serious-dishonesty/court-dishonest-debtor: evidence already used": 1}


def test_d_grade_needs_two_consecutive_published_runs(county: str) -> None:
    with db.session_scope(county) as s:
        firm = make_subject(s)
        add_run(s, MODEL, dt.date(2026, 6, 30), [(firm, "D", "red")])
        assert list_criteria.run_criteria(s, list_code="key-attention", as_of=dt.date(2026, 10, 31)).as_dict()[
            "proposed"] == 0
        add_run(s, MODEL, dt.date(2026, 9, 30), [(firm, "D", "red")])
        # a run dated after the as-of date is not yet known on that date
        assert list_criteria.run_criteria(s, list_code="key-attention", as_of=dt.date(2026, 9, 29)).as_dict()[
            "proposed"] == 0
        res = list_criteria.run_criteria(s, list_code="key-attention", as_of=dt.date(2026, 10, 31))
        assert res.as_dict()["proposed"] == 1
        e = s.get(ListEntry, res.entry_ids[0])
        assert e is not None and e.subject_id == firm.id and e.status == "proposed"
        assert e.evidence_key and e.evidence_key.startswith("d-grade-twice:run:")
