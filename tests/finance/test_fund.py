"""The risk-compensation fund under concurrency on a real store (SQLite and
PostgreSQL): concurrent claims on one loan make one claim; concurrent payouts of one
claim pay once; concurrent payouts of many claims never take a bank over its cap; the
pool's balance always equals the ledger's sum. Plus eligibility and the claim window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core import db
from creditgov.core.errors import Conflict
from creditgov.finance import fund, loans, service
from creditgov.finance.models import Bank, FundClaim, Loan
from creditgov.finance.schemas import StatusIn
from creditgov.security.crypto import KeyRing, create_key_file
from tests.concurrency import at_once
from tests.finance.helpers import a_bank, a_loan, a_product, graded

DEFAULT_ON = dt.date(2026, 10, 15)


def defaulted_loans(s: Session, ring: KeyRing, bank: Bank, n: int, *, amount: str = "1500000",
                    collateral_free: bool = True, code: str = "p1") -> list[int]:
    p = a_product(s, bank, code, amount_max="3000000", collateral_free=collateral_free, min_bands={},
                  lists_absent=[])
    firms = graded(s, [("enterprise", "B")] * n)
    out = []
    for firm in firms:
        loan = a_loan(s, ring, bank, firm, p, amount=amount, collateral=True)  # granted 2026-05-01
        loans.report_status(s, bank=bank, loan_id=loan.id, actor="officer",
                            data=StatusIn(on=DEFAULT_ON, overdue_days=91))
        out.append(loan.id)
    return out


def race(n: int, call: Callable[[int], str]) -> list[str]:
    """`call(0)` … `call(n - 1)` at once; a Conflict is answered as "refused: …"."""
    return [f"refused: {o}" if isinstance(o, Conflict) else o for o in at_once(call, n, returning=(Conflict,))]


def test_concurrent_claims_payouts_never_twice_nor_over_the_cap(store: str, tmp_path: Path) -> None:
    ring = create_key_file(tmp_path / "f.key")
    with db.session_scope(store) as s:
        bank = a_bank(s)
        loan_ids = defaulted_loans(s, ring, bank, 6)
        fund.deposit(s, amount=Decimal("10000000"), ref="县财〔2026〕1号", note="县财政注资", actor="office")

    def claim(i: int) -> str:
        with db.session_scope(store) as s:
            return f"claim {fund.claim(s, bank=service.bank_by_code(s, 'bank-a'), loan_id=loan_ids[0], actor='bank').id}"

    out = race(8, claim)
    assert sum(o.startswith("claim ") for o in out) == 1, out
    assert all(o.startswith("claim ") or "has a claim already" in o for o in out), out
    claim_ids = []
    with db.session_scope(store) as s:
        bank = service.bank_by_code(s, "bank-a")
        claim_ids.append(s.execute(select(FundClaim.id).where(FundClaim.loan_id == loan_ids[0])).scalar_one())
        for lid in loan_ids[1:]:
            claim_ids.append(fund.claim(s, bank=bank, loan_id=lid, actor="bank").id)
        for cid in claim_ids:
            c = s.get(FundClaim, cid)
            assert c.amount == Decimal("500000.00")  # 40 % of 1.5 M is 600 k: the per-loan cap holds
            with pytest.raises(Conflict):
                fund.review(s, claim_id=cid, approve=True, note=None, actor="bank")  # not by its filer
            fund.review(s, claim_id=cid, approve=True, note=None, actor="office")

    # The same claim paid by 6 threads at once: paid once.
    def pay_same(i: int) -> str:
        with db.session_scope(store) as s:
            return fund.pay(s, claim_id=claim_ids[0], actor="office").status

    out = race(6, pay_same)
    assert out.count("paid") == 1, out
    # The other five claims at once: the bank's cap (2 M) leaves room for three more.
    rest = claim_ids[1:]

    def pay_each(i: int) -> str:
        with db.session_scope(store) as s:
            return fund.pay(s, claim_id=rest[i], actor="office").status

    out = race(len(rest), pay_each)
    assert out.count("paid") == 3, out
    assert all(o == "paid" or "over its cap" in o for o in out), out
    with db.session_scope(store) as s:
        led = fund.ledger(s)
        assert Decimal(led["paid_per_bank"][str(service.bank_by_code(s, "bank-a").id)]) == Decimal("2000000")
        assert Decimal(led["balance"]) == Decimal("8000000") == Decimal(led["ledger_sum"])
        paid = s.execute(select(func.count()).select_from(FundClaim).where(FundClaim.status == "paid")).scalar()
        assert paid == 4
        # A refused payout left its claim approved (its transaction rolled back whole).
        assert s.execute(select(func.count()).select_from(FundClaim)
                         .where(FundClaim.status == "approved")).scalar() == 2


def test_eligibility_and_the_claim_window(store: str, tmp_path: Path, monkeypatch) -> None:
    ring = create_key_file(tmp_path / "f.key")
    with db.session_scope(store) as s:
        bank = a_bank(s)
        (secured,) = defaulted_loans(s, ring, bank, 1, collateral_free=False, code="secured")
        (ok,) = defaulted_loans(s, ring, bank, 1, code="free")
        other = a_bank(s, "bank-b")
        with pytest.raises(Conflict, match="collateral-free"):
            fund.claim(s, bank=bank, loan_id=secured, actor="bank")
        from creditgov.core.errors import NotFound

        with pytest.raises(NotFound):
            fund.claim(s, bank=other, loan_id=ok, actor="bank")
    monkeypatch.setenv("CREDITGOV_TODAY", (DEFAULT_ON + dt.timedelta(days=181)).isoformat())
    with db.session_scope(store) as s:
        with pytest.raises(Conflict, match="window"):
            fund.claim(s, bank=service.bank_by_code(s, "bank-a"), loan_id=ok, actor="bank")


def test_statistics_by_band_feed_the_model_backtest(store: str, tmp_path: Path) -> None:
    from creditgov.finance import stats
    from creditgov.scoring import service as scoring_service

    ring = create_key_file(tmp_path / "f.key")
    with db.session_scope(store) as s:
        bank = a_bank(s)
        bad = defaulted_loans(s, ring, bank, 2)
        out = stats.by_grade(s)
        assert out["loans"] == 2 and out["defaults"] == 2
        assert out["by_band"] == [{"band": "good", "loans": 2, "principal": "3000000.00", "defaults": 2,
                                   "default_rate": 1.0}]
        borrowers = {s.get(Loan, i).subject_id for i in bad}
        # The composition root registered the loan outcomes with the model back-test.
        source = scoring_service.OUTCOME_SOURCES["loans"]
        assert source(s, [*borrowers, 999], start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)) == borrowers
        assert source(s, list(borrowers), start=dt.date(2026, 10, 15), end=dt.date(2026, 10, 31)) == set()
