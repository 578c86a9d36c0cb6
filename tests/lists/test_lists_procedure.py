"""The entry procedure: proposed → notified → approved → published, each step audited,
and the serious-dishonesty guards that tests try to get around."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.lists.helpers import add_record, make_subject

from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.lists import exits as list_exits
from creditgov.lists import queries as list_queries
from creditgov.lists import service as lists
from creditgov.lists.models import CreditList, ListEntry
from creditgov.security import service as audit
from creditgov.security.models import AuditEntry


def _today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", day)


def _court_proposal(url: str) -> tuple[int, int, int]:
    """A firm with a court 失信被执行人 record, proposed for the serious-dishonesty list."""
    with db.session_scope(url) as s:
        firm = make_subject(s)
        rec = add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 9, 1), department="court")
        e = lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id,
                          criterion="court-dishonest-debtor", record_id=rec.id, actor="officer:li")
        return e.id, firm.id, rec.id


def test_shipped_definitions_load_with_their_rules(county_sqlite: str) -> None:
    with db.session_scope(county_sqlite) as s:
        defs = {d.code: d for d in list_queries.definitions(s)}
        assert set(defs) == {"red", "serious-dishonesty", "key-attention"}
        sd = defs["serious-dishonesty"]
        assert sd.kind == "black" and sd.public_code == 8 and sd.requires_decision_no
        assert "49号" in sd.legal_basis and sd.publication_months == 36
        units = {c.id: c.identifying_unit for c in sd.criteria}
        assert units["court-dishonest-debtor"] == "court" and units["market-serious-violation"] == "market"
        assert {e.kind for e in sd.exit_conditions} == {"expiry", "repair", "upper", "manual"}
        row = s.get(CreditList, "red")
        assert row is not None and row.identifying_unit == "credit" and row.origin == "local"


def test_a_bad_definition_names_file_line_and_field(county_sqlite: str, tmp_path: Path) -> None:
    bad = tmp_path / "lists.yaml"
    good = lists.shipped_lists_text()
    bad.write_text(good.replace("publication_months: 36", "publication_months: -3"), encoding="utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError) as exc:
        lists.load_lists(s, path=bad)
    line = next(i for i, ln in enumerate(bad.read_text("utf-8").splitlines(), 1) if "-3" in ln)
    assert f"{bad}:{line}: lists.1.publication_months" in str(exc.value)
    bad.write_text(good.replace("identifying_unit: court", "identifying_unit: nosuchunit"), encoding="utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match="unknown department 'nosuchunit'"):
        lists.load_lists(s, path=bad)


def test_full_procedure_publishes_only_after_window_and_approval(county: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch, "2026-11-02")
    entry_id, firm_id, _ = _court_proposal(county)
    with db.session_scope(county) as s:
        # not yet notified: neither approval nor publication
        with pytest.raises(InvalidInput, match="must be notified"):
            lists.approve(s, entry_id=entry_id, unit="court", decision_no="(2026)浙0522执123号")
        with pytest.raises(InvalidInput, match="without the identifying unit's approval"):
            lists.publish(s, entry_id=entry_id)
        e = lists.notify(s, entry_id=entry_id, actor="officer:li")
        assert e.response_due == dt.date(2026, 11, 9) and e.identifying_unit == "court"
    with db.session_scope(county) as s:
        # a notified entry cannot be published, and nobody but the court may approve
        with pytest.raises(InvalidInput, match="without the identifying unit's approval"):
            lists.publish(s, entry_id=entry_id)
        with pytest.raises(InvalidInput, match="only the identifying unit 'court'"):
            lists.approve(s, entry_id=entry_id, unit="credit", decision_no="X-1")
        with pytest.raises(InvalidInput, match="may answer until 2026-11-09"):
            lists.approve(s, entry_id=entry_id, unit="court", decision_no="X-1")
    _today(monkeypatch, "2026-11-09")  # the last day of the window: still open
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="may answer until"):
        lists.approve(s, entry_id=entry_id, unit="court", decision_no="X-1")
    _today(monkeypatch, "2026-11-10")
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="needs the written decision's number"):
            lists.approve(s, entry_id=entry_id, unit="court")
        lists.approve(s, entry_id=entry_id, unit="court", decision_no="(2026)浙0522执123号", actor="judge:wang")
        e = lists.publish(s, entry_id=entry_id, actor="officer:li")
        assert e.status == "published" and e.published_on == dt.date(2026, 11, 10)
        assert e.expires_on == dt.date(2029, 11, 10)
        assert [x.list_code for x in list_queries.active_entries(s, firm_id)] == ["serious-dishonesty"]
        detail = list_queries.entry_detail(s, entry_id)
        assert [h["step"] for h in detail["history"]] == ["propose", "notify", "approve", "publish"]
        assert detail["history"][2]["unit"] == "court" and detail["history"][2]["actor"] == "judge:wang"
        assert "陈述申辩" in detail["history"][1]["note"] and "2026年11月9日" in detail["history"][1]["note"]
        actions = list(s.execute(select(AuditEntry.action).where(AuditEntry.subject_id == firm_id)
                                 .order_by(AuditEntry.id)).scalars())
        assert actions == ["lists.propose", "lists.notify", "lists.approve", "lists.publish"]
        assert audit.verify(s).ok


def test_early_representation_allows_approval_but_not_early_publication(
        county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch, "2026-11-02")
    entry_id, _, _ = _court_proposal(county)
    with db.session_scope(county) as s:
        lists.notify(s, entry_id=entry_id)
    _today(monkeypatch, "2026-11-04")
    with db.session_scope(county) as s:
        lists.represent(s, entry_id=entry_id, text="已部分履行, 请求不予列入", actor="subject")
        lists.approve(s, entry_id=entry_id, unit="court", decision_no="D-7")
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="response window runs until 2026-11-09"):
        lists.publish(s, entry_id=entry_id)
    _today(monkeypatch, "2026-11-10")
    with db.session_scope(county) as s:
        # too late to answer now, but publication is allowed
        e = lists.publish(s, entry_id=entry_id)
        assert e.status == "published" and "请求不予列入" in (e.representation or "")


def test_representation_after_the_window_is_refused(county_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch, "2026-11-02")
    entry_id, _, _ = _court_proposal(county_sqlite)
    with db.session_scope(county_sqlite) as s:
        lists.notify(s, entry_id=entry_id)
    _today(monkeypatch, "2026-11-10")
    with db.session_scope(county_sqlite) as s, pytest.raises(InvalidInput, match="closed on 2026-11-09"):
        lists.represent(s, entry_id=entry_id, text="too late")


def test_a_status_edited_by_hand_still_cannot_be_published(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone sets status 'approved' in the database: there is no approval event by
    the court, so publication is refused; likewise a window never started."""
    _today(monkeypatch, "2026-11-02")
    entry_id, _, _ = _court_proposal(county)
    with db.session_scope(county) as s:
        s.execute(text("UPDATE list_entries SET status = 'approved', approved_unit = identifying_unit "
                       "WHERE id = :i"), {"i": entry_id})
    _today(monkeypatch, "2027-01-01")
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="no approval by its identifying unit"):
        lists.publish(s, entry_id=entry_id)
    with db.session_scope(county) as s:
        assert s.get(ListEntry, entry_id).status == "approved"  # type: ignore[union-attr]


def test_manual_identification_needs_decision_and_basis(county_sqlite: str) -> None:
    with db.session_scope(county_sqlite) as s:
        firm = make_subject(s)
        with pytest.raises(InvalidInput, match="decision document number"):
            lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="manual",
                          basis="拒不履行国防义务")
        e = lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="manual",
                          basis="拒不履行国防义务", decision_no="长信认〔2026〕3号")
        assert e.identifying_unit == "credit" and e.decision_no == "长信认〔2026〕3号"
        with pytest.raises(InvalidInput, match="already has entry"):
            lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="manual",
                          basis="again", decision_no="X")


def test_rejection_and_exit_keep_history(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch, "2026-11-02")
    entry_id, firm_id, rec_id = _court_proposal(county)
    with db.session_scope(county) as s:
        lists.notify(s, entry_id=entry_id)
    _today(monkeypatch, "2026-11-10")
    with db.session_scope(county) as s:
        lists.approve(s, entry_id=entry_id, unit="court", decision_no="D-1")
        lists.publish(s, entry_id=entry_id)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="needs a reason"):
            list_exits.exit_entry(s, entry_id=entry_id, kind="manual", reason=" ")
        with pytest.raises(InvalidInput, match="does not expire until 2029-11-10"):
            list_exits.exit_entry(s, entry_id=entry_id, kind="expiry", reason="early")
    _today(monkeypatch, "2026-12-01")
    with db.session_scope(county) as s:
        out = list_exits.exit_for_record(s, record_id=rec_id, reason="record repaired (repair application 9)")
        assert out == {"exited": [entry_id], "withdrawn": []}
        e = s.get(ListEntry, entry_id)
        assert e is not None and e.status == "exited" and e.exit_kind == "repair"
        assert e.exited_on == dt.date(2026, 12, 1) and e.published_on == dt.date(2026, 11, 10)
        assert list_queries.active_entries(s, firm_id) == []
        # still in force on a day before the exit, when read by date
        assert s.execute(select(ListEntry.id).where(list_queries.listed_on(dt.date(2026, 11, 20)),
                                                    ListEntry.id == entry_id)).scalar() == entry_id
        steps = [h["step"] for h in list_queries.entry_detail(s, entry_id)["history"]]
        assert steps == ["propose", "notify", "approve", "publish", "exit"]
        # the subject can be listed again, as a new entry; the old one stays
        again = lists.propose(s, list_code="serious-dishonesty", subject_id=firm_id, criterion="manual",
                              basis="新的失信行为", decision_no="D-2")
        assert again.id != entry_id
        assert len(list_queries.entries(s, subject_id=firm_id)) == 2
        # a red-list entry cannot exit "by repair": that is not one of its exit conditions
        red = lists.propose(s, list_code="red", subject_id=make_subject(s).id, criterion="manual",
                            basis="诚信典型", decision_no="R-1")
        lists.reject(s, entry_id=red.id, unit="credit", reason="异议成立")
        assert s.get(ListEntry, red.id).status == "rejected"  # type: ignore[union-attr]


def test_expiry_exits_published_entries(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch, "2026-11-02")
    with db.session_scope(county) as s:
        firm = make_subject(s)
        e = lists.propose(s, list_code="key-attention", subject_id=firm.id, criterion="manual",
                          basis="重点关注", decision_no="K-1")
        lists.notify(s, entry_id=e.id)
        entry_id = e.id
    _today(monkeypatch, "2026-11-10")
    with db.session_scope(county) as s:
        lists.approve(s, entry_id=entry_id, unit="credit")
        lists.publish(s, entry_id=entry_id)
        with pytest.raises(InvalidInput, match="has no exit by upper"):
            list_exits.exit_entry(s, entry_id=entry_id, kind="upper", reason="x")
    _today(monkeypatch, "2027-11-10")
    with db.session_scope(county) as s:
        assert list_exits.expire(s) == [entry_id]
        e2 = s.get(ListEntry, entry_id)
        assert e2 is not None and e2.status == "exited" and e2.exit_kind == "expiry"
        assert e2.exited_on == dt.date(2027, 11, 10) and list_exits.expire(s) == []
