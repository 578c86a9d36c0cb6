"""Applications, decisions, the loan book and post-loan monitoring on a real store
(SQLite and PostgreSQL), with the alerts domain's real channels: the inbox and a
signed webhook to a local HTTP peer process. A borrower's new court record reaches its
lender once; a bank that only holds a consent (no loan) is never told; a repaid loan
is watched no more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import outbox
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.finance import loans, service
from creditgov.finance.models import Loan
from creditgov.finance.schemas import DecisionIn, RepaymentIn, StatusIn
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import Subject
from tests.alerts.helpers import setup_alerting
from tests.alerts.peers.running import HttpPeer
from tests.finance.helpers import a_bank, a_loan, a_need, a_product, graded
from tests.lists.helpers import add_record

HOOK_SECRET = "finance-hook-secret"


@pytest.fixture
def http_peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpPeer]:
    monkeypatch.setenv("TEST_HOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("TEST_ALIYUN_SECRET", "unused")
    peer = HttpPeer(tmp_path / "gateway.json", ["--hook-secret", HOOK_SECRET]).start()
    yield peer
    peer.stop()


def _hooks(peer: HttpPeer) -> list[dict]:
    return [m for m in peer.received()["messages"] if m["kind"] == "hook"]


def test_a_court_record_reaches_the_lender_once_and_never_a_bank_without_a_loan(
        county: str, tmp_path: Path, http_peer: HttpPeer) -> None:
    ring = create_key_file(tmp_path / "f.key")
    with db.session_scope(county) as s:
        lender, watcher = a_bank(s), a_bank(s, "bank-b", "乙银行")
        setup_alerting(s, tmp_path, http_url=http_peer.url, contacts=[
            {"kind": "bank", "key": "bank-a", "name": "甲银行", "webhook_url": http_peer.url + "/hook"},
            {"kind": "bank", "key": "bank-b", "name": "乙银行", "webhook_url": http_peer.url + "/hook"}])
        (firm,) = graded(s, [("enterprise", "B")])
        p = a_product(s, lender)
        n = a_need(s, ring, firm)
        # The firm consents to both banks, applies to the lender only.
        service.grant_consent(s, need_id=n.id, subject_id=firm.id, bank_code="bank-b", actor="firm")
        with pytest.raises(Conflict, match="consent"):
            loans.apply(s, need_id=n.id, product_id=p.id, subject_id=firm.id, actor="firm")
        service.grant_consent(s, need_id=n.id, subject_id=firm.id, bank_code="bank-a", actor="firm")
        app = loans.apply(s, need_id=n.id, product_id=p.id, subject_id=firm.id, actor="firm")
        with pytest.raises(InvalidInput, match="outside"):
            loans.decide(s, bank=lender, application_id=app.id, actor="officer", data=DecisionIn(
                approve=True, amount=Decimal("2000000"), rate=Decimal("4"), term_months=12))
        with pytest.raises(NotFound):  # another bank's application
            loans.decide(s, bank=watcher, application_id=app.id, actor="officer", data=DecisionIn(
                approve=False, decline_code="high_leverage"))
        _, loan = loans.decide(s, bank=lender, application_id=app.id, actor="officer", data=DecisionIn(
            approve=True, amount=Decimal("500000"), rate=Decimal("3.8"), term_months=12))
        assert loan is not None and (loan.grade, loan.band) == ("B", "good")
        assert loan.due_on == dt.date(2027, 11, 1) and service.need(s, n.id).status == "financed"
        loan_id, firm_id = loan.id, firm.id
        assert loans.monitor(s)["raised"] == 0  # nothing new yet
        add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 10, 30), department="court")
        first = loans.monitor(s)
        assert first["raised"] == 1
        assert loans.monitor(s) == {**first, "raised": 0, "already": 1}  # a second scan tells nobody
    d = outbox.drain(county)
    assert d.sent == 2 and d.dead == 0  # inbox + webhook of the lender only
    with db.session_scope(county) as s:
        box = alert_inbox.inbox(s, "bank:bank-a")
        assert len(box) == 1 and box[0].topic == "alert.finance.post_loan" and "失信被执行人" in box[0].body
        assert alert_inbox.inbox(s, "bank:bank-b") == []
    hooks = _hooks(http_peer)
    assert len(hooks) == 1 and hooks[0]["body"]["payload"]["bank"] == "bank-a"
    # Repaid: the lender watches the borrower no more.
    with db.session_scope(county) as s:
        bank = service.bank_by_code(s, "bank-a")
        r, created = loans.repay(s, bank=bank, loan_id=loan_id, source="api", actor="officer",
                                 data=RepaymentIn(ref="R1", paid_on=dt.date(2026, 11, 1), amount=Decimal("200000")))
        again, created2 = loans.repay(s, bank=bank, loan_id=loan_id, source="api", actor="officer",
                                      data=RepaymentIn(ref="R1", paid_on=dt.date(2026, 11, 1),
                                                       amount=Decimal("200000")))
        assert created and not created2 and again.id == r.id
        with pytest.raises(Conflict, match="other figures"):
            loans.repay(s, bank=bank, loan_id=loan_id, source="api", actor="officer",
                        data=RepaymentIn(ref="R1", paid_on=dt.date(2026, 11, 1), amount=Decimal("1")))
        with pytest.raises(InvalidInput, match="more than the outstanding"):
            loans.repay(s, bank=bank, loan_id=loan_id, source="api", actor="officer",
                        data=RepaymentIn(ref="R2", paid_on=dt.date(2026, 11, 1), amount=Decimal("300001")))
        loans.repay(s, bank=bank, loan_id=loan_id, source="api", actor="officer",
                    data=RepaymentIn(ref="R2", paid_on=dt.date(2026, 11, 1), amount=Decimal("300000")))
        assert s.get(Loan, loan_id).status == "repaid"
        add_record(s, s.get(Subject, firm_id), "court.dishonest_debtor", occurred_on=dt.date(2026, 11, 1),
                   department="court")
        assert loans.monitor(s)["raised"] == 0
    assert outbox.drain(county).sent == 0


def test_overdue_days_move_a_loan_to_default_and_it_stays(county: str, tmp_path: Path) -> None:
    ring = create_key_file(tmp_path / "f.key")
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("merchant", "A")])
        p = a_product(s, bank)
        loan = a_loan(s, ring, bank, firm, p)  # granted 2026-05-01
        on = dt.date(2026, 11, 1)
        assert loans.report_status(s, bank=bank, loan_id=loan.id, data=StatusIn(on=on, overdue_days=10),
                                   actor="o").status == "overdue"
        assert loans.report_status(s, bank=bank, loan_id=loan.id, data=StatusIn(on=on, overdue_days=90),
                                   actor="o").status == "default"
        assert loans.report_status(s, bank=bank, loan_id=loan.id, data=StatusIn(on=on, overdue_days=0),
                                   actor="o").status == "default"
        assert loan.defaulted_on == on
