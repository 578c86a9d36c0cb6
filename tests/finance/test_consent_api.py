"""Consent and access through the API on a real store (SQLite and PostgreSQL): a bank
sees the needs matched to its products without who posted them; no consent, no access
(the need's file and the subject's credit file answer 404); the subject's consent for
one need opens both to that bank only, every read is audited and shown to the subject
among its file's readers; a revocation closes them at once; hostile text passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.finance.helpers import GRANTED_ON, firm_and_two_banks, on_day

MARKUP = '"><img src=x onerror=alert(2)><script>alert(1)</script> O\'Brien “引号” \u202e右到左😀'


@pytest.fixture
def setup(county: str, tmp_path: Path):
    return firm_and_two_banks(county, tmp_path, officers=("bank_a", "bank_b"))


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_consent_no_access_and_revocation_closes_at_once(setup) -> None:
    c, tok, firm_id = setup
    need = {"amount": "500000", "term_months": 12, "purpose": MARKUP, "contact_name": "王会计",
            "contact_phone": "13812345678"}
    r = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"]))
    assert r.status_code == 201, r.text
    need_id = r.json()["id"]
    assert r.json()["purpose"] == MARKUP and r.json()["contact_phone"] == "138****5678"
    assert {m["product"]["bank"] for m in r.json()["matches"]} == {"bank-a", "bank-b"}
    # The bank sees the matched need, but not who posted it nor the phone.
    seen = c.get("/api/v1/finance/matches", headers=_h(tok["bank_a"])).json()
    assert [m["need"]["id"] for m in seen] == [need_id]
    assert seen[0]["need"]["subject"] is None and seen[0]["need"]["contact_phone"] == "138****5678"
    assert seen[0]["consented"] is False and all(x["holds"] for x in seen[0]["reasons"])
    # No consent, no access: the need's file and the credit file itself.
    for bank in ("bank_a", "bank_b"):
        assert c.get(f"/api/v1/finance/needs/{need_id}/file", headers=_h(tok[bank])).status_code == 404
        assert c.get(f"/api/v1/subjects/{firm_id}", headers=_h(tok[bank])).status_code == 404
    # A subject cannot consent for another's need, nor apply without a consent.
    assert c.post(f"/api/v1/finance/needs/{need_id}/applications", json={"product_id": 1},
                  headers=_h(tok["firm"])).status_code == 409
    g = c.post(f"/api/v1/finance/needs/{need_id}/consents", json={"bank": "bank-a", "days": 30},
               headers=_h(tok["firm"]))
    assert g.status_code == 201, g.text
    consent_id = g.json()["consent_id"]
    assert g.json()["in_force"] and g.json()["expires_on"] == "2026-12-01"
    assert c.post(f"/api/v1/finance/needs/{need_id}/consents", json={"bank": "bank-a", "days": 9999},
                  headers=_h(tok["firm"])).status_code == 422
    # Bank A now opens the need and the file; bank B still cannot.
    f = c.get(f"/api/v1/finance/needs/{need_id}/file", headers=_h(tok["bank_a"]))
    assert f.status_code == 200 and f.json()["need"]["contact_phone"] == "13812345678"
    assert f.json()["need"]["purpose"] == MARKUP and f.json()["file"]["id"] == firm_id
    assert c.get(f"/api/v1/subjects/{firm_id}", headers=_h(tok["bank_a"])).status_code == 200
    assert c.get(f"/api/v1/finance/needs/{need_id}/file", headers=_h(tok["bank_b"])).status_code == 404
    assert c.get("/api/v1/finance/matches", headers=_h(tok["bank_a"])).json()[0]["need"]["subject"]["id"] == firm_id
    # Every bank read is visible to the subject among its file's readers: the need's file
    # and the credit file itself (a firm's file too, though it is no person's).
    own = c.get(f"/api/v1/subjects/{firm_id}", headers=_h(tok["firm"])).json()
    readers = [x for x in own["readers"] if x["actor"] == "user:bank_a"]
    assert len(readers) == 2 and {r["purpose"][:11] for r in readers} == {"信易贷 need / ", "credit lend"}, readers
    # Revoked: the very next read is refused.
    assert c.delete(f"/api/v1/finance/consents/{consent_id}", headers=_h(tok["firm"])).status_code == 204
    assert c.get(f"/api/v1/finance/needs/{need_id}/file", headers=_h(tok["bank_a"])).status_code == 404
    assert c.get(f"/api/v1/subjects/{firm_id}", headers=_h(tok["bank_a"])).status_code == 404
    assert c.get("/api/v1/finance/matches", headers=_h(tok["bank_a"])).json()[0]["need"]["subject"] is None
    mine = c.get("/api/v1/finance/needs", headers=_h(tok["firm"])).json()
    assert mine[0]["consents"][0]["revoked_on"] == "2026-11-01" and not mine[0]["consents"][0]["in_force"]
    # Roles: a bank cannot post needs nor approve products; a subject cannot read the fund.
    assert c.post("/api/v1/finance/needs", json=need, headers=_h(tok["bank_a"])).status_code == 403
    assert c.post("/api/v1/finance/products/1/decision", json={"approve": True},
                  headers=_h(tok["bank_a"])).status_code == 403
    assert c.get("/api/v1/finance/fund", headers=_h(tok["firm"])).status_code == 403


def test_the_loan_path_through_the_api_is_scoped_to_the_bank(setup) -> None:
    c, tok, firm_id = setup
    need = {"amount": "900000", "term_months": 12, "purpose": "扩产", "contact_name": "王会计",
            "contact_phone": "13812345678"}
    with on_day(GRANTED_ON):  # the loan is granted half a year before the reports below
        n = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"])).json()
        product = next(m["product"]["id"] for m in n["matches"] if m["product"]["bank"] == "bank-a")
        c.post(f"/api/v1/finance/needs/{n['id']}/consents", json={"bank": "bank-a"}, headers=_h(tok["firm"]))
        app = c.post(f"/api/v1/finance/needs/{n['id']}/applications", json={"product_id": product},
                     headers=_h(tok["firm"]))
        assert app.status_code == 201, app.text
        aid = app.json()["id"]
        body = {"approve": True, "amount": "900000", "rate": "4.0", "term_months": 12}
        assert c.post(f"/api/v1/finance/applications/{aid}/decision", json=body,
                      headers=_h(tok["bank_b"])).status_code == 404  # another bank's application
        assert c.post(f"/api/v1/finance/applications/{aid}/decision", json={"approve": False},
                      headers=_h(tok["bank_a"])).status_code == 422  # a decline names its reason code
        d = c.post(f"/api/v1/finance/applications/{aid}/decision", json=body, headers=_h(tok["bank_a"]))
        assert d.status_code == 200, d.text
        loan = d.json()["loan"]
        assert loan["status_label"]["label_en"] == "Open" and loan["band"] == "excellent"
    lid = loan["id"]
    rep = {"ref": "B-1", "paid_on": "2026-11-01", "amount": "100000"}
    first = c.post(f"/api/v1/finance/loans/{lid}/repayments", json=rep, headers=_h(tok["bank_a"]))
    again = c.post(f"/api/v1/finance/loans/{lid}/repayments", json=rep, headers=_h(tok["bank_a"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["loan"]["outstanding"] == "800000.00"
    assert c.post(f"/api/v1/finance/loans/{lid}/repayments", json=rep,
                  headers=_h(tok["bank_b"])).status_code == 404
    st = c.post(f"/api/v1/finance/loans/{lid}/status", json={"on": "2026-10-30", "overdue_days": 95},
                headers=_h(tok["bank_a"]))
    assert st.json()["status"] == "default"
    assert c.get("/api/v1/finance/loans/mine", headers=_h(tok["firm"])).json()[0]["status"] == "default"
    dep = c.post("/api/v1/finance/fund/deposits", json={"amount": "1000000", "ref": "县财〔2026〕88号", "note": "注资"},
                 headers=_h(tok["office"]))
    assert dep.status_code == 201, dep.text
    claim = c.post(f"/api/v1/finance/loans/{lid}/claim", headers=_h(tok["bank_a"]))
    assert claim.status_code == 201 and claim.json()["amount"] == "320000.00"  # 40 % of 800 k
    assert c.post(f"/api/v1/finance/loans/{lid}/claim", headers=_h(tok["bank_a"])).status_code == 409
    cid = claim.json()["id"]
    assert c.post(f"/api/v1/finance/fund/claims/{cid}/pay", headers=_h(tok["office"])).status_code == 409
    assert c.post(f"/api/v1/finance/fund/claims/{cid}/review", json={"approve": True},
                  headers=_h(tok["office"])).json()["status"] == "approved"
    paid = c.post(f"/api/v1/finance/fund/claims/{cid}/pay", headers=_h(tok["office"]))
    assert paid.json()["status"] == "paid"
    led = c.get("/api/v1/finance/fund", headers=_h(tok["office"])).json()
    assert led["balance"] == led["ledger_sum"] == "680000.00"
    stats = c.get("/api/v1/finance/statistics", headers=_h(tok["office"])).json()
    assert stats["by_band"] == [{"band": "excellent", "loans": 1, "principal": "900000.00", "defaults": 1,
                                 "default_rate": 1.0}]
