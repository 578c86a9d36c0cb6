"""Revoking a consent and deactivating an account: the subject's own revocation, the
office's, the bank losing access at once, a retried revocation that changes nothing,
and a deactivated account whose token stops working — against the real application."""

from __future__ import annotations

from sqlalchemy import func, select

from creditgov.core import db
from creditgov.security import users as user_service
from creditgov.security.models import AuditEntry
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_subject_revokes_its_own_consent_and_the_bank_loses_access(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    with db.session_scope(sqlite_county.url) as s:
        bank = user_service.create_user(s, username="t-consent-bank", password=PASSWORD, role="bank_officer",
                                        organisation="consent-bank", actor="test")
        bank_token, _ = user_service.issue_token(s, user_id=bank.id, name="test", actor="test")
    subject = _bearer(sqlite_county.tokens["subject"])
    granted = c.post("/api/v1/consents", json={"subject_id": 1, "organisation": "consent-bank", "purpose": "贷款"},
                     headers=subject)
    assert granted.status_code == 201, granted.text
    cid = granted.json()["id"]
    assert c.get("/api/v1/subjects/1", headers=_bearer(bank_token)).status_code == 200

    revoked = c.delete(f"/api/v1/consents/{cid}", headers=subject)
    assert revoked.status_code == 200 and revoked.json()["revoked_on"] == "2026-11-01"
    assert c.get("/api/v1/subjects/1", headers=_bearer(bank_token)).status_code == 404
    with db.session_scope(sqlite_county.url) as s:
        n = s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "consent.revoke",
                                                                         AuditEntry.subject_id == 1)).scalar()
    again = c.delete(f"/api/v1/consents/{cid}", headers=subject)  # a retried request
    assert again.status_code == 200 and again.json()["revoked_on"] == "2026-11-01"
    with db.session_scope(sqlite_county.url) as s:
        assert s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "consent.revoke", AuditEntry.subject_id == 1)).scalar() == n


def test_a_subject_cannot_revoke_another_subjects_consent(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    office = _bearer(sqlite_county.tokens["credit_office"])
    other = c.post("/api/v1/consents", json={"subject_id": 2, "organisation": "other-bank", "purpose": "贷款"},
                   headers=office)
    assert other.status_code == 201, other.text
    cid = other.json()["id"]
    refused = c.delete(f"/api/v1/consents/{cid}", headers=_bearer(sqlite_county.tokens["subject"]))
    assert refused.status_code == 404
    assert c.delete(f"/api/v1/consents/{cid}", headers=_bearer(sqlite_county.tokens["grid_worker"])
                    ).status_code == 403
    assert c.delete(f"/api/v1/consents/{cid}", headers=office).json()["revoked_on"] == "2026-11-01"


def test_a_deactivated_account_is_stopped_at_once(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    admin = _bearer(sqlite_county.tokens["admin"])
    with db.session_scope(sqlite_county.url) as s:
        u = user_service.create_user(s, username="t-leaver", password=PASSWORD, role="grid_worker",
                                     region_code="CX-S02-G01", actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
        uid = u.id
    assert c.get("/api/v1/auth/me", headers=_bearer(token)).status_code == 200
    out = c.post(f"/api/v1/users/{uid}/deactivate", headers=admin)
    assert out.status_code == 200 and out.json()["active"] is False
    assert c.get("/api/v1/auth/me", headers=_bearer(token)).status_code == 401
    assert c.post("/api/v1/auth/login", json={"username": "t-leaver", "password": PASSWORD}).status_code == 401
    assert c.post(f"/api/v1/users/{uid}/activate", headers=admin).json()["active"] is True
    assert c.post("/api/v1/auth/login", json={"username": "t-leaver", "password": PASSWORD}).status_code == 200
    me = sqlite_county.user_ids["admin"]
    assert c.post(f"/api/v1/users/{me}/deactivate", headers=admin).status_code == 422


def test_the_command_line_deactivates_and_revokes(cli, mini) -> None:  # type: ignore[no-untyped-def]  # the cli fixture is an untyped closure
    assert cli("init").exit_code == 0
    assert cli("ingest", str(mini)).exit_code == 0
    assert cli("users", "create", "t-cli", "--role", "bank_officer", "--password", PASSWORD,
               "--org", "cli-bank").exit_code == 0
    assert '"active": false' in cli("users", "deactivate", "t-cli", "--json").output
    listed = cli("users", "list", "--json").output
    assert '"username": "t-cli"' in listed and '"active": false' in listed

    url = f"sqlite:///{cli.work / 'creditgov.db'}"
    with db.session_scope(url) as s:
        cid = user_service.grant_consent(s, subject_id=1, organisation="cli-bank", purpose="贷款", actor="test").id
    assert f'"id": {cid}' in cli("consent", "list", "--subject", "1", "--json").output
    out = cli("consent", "revoke", str(cid))
    assert out.exit_code == 0 and "revoked on 2026-11-01" in out.output
    with db.session_scope(url) as s:
        assert [c.revoked_on.isoformat() for c in user_service.consents(s, subject_id=1)  # type: ignore[union-attr]  # revoked just above
                if c.id == cid] == ["2026-11-01"]


def test_a_subject_revokes_a_consent_from_its_own_page(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    with db.session_scope(sqlite_county.url) as s:
        cid = user_service.grant_consent(s, subject_id=1, organisation='银行"<b>页面</b>', purpose="经营贷款",
                                         actor="test").id
    assert c.post("/api/v1/auth/login", json={"username": "t-subject", "password": PASSWORD}).status_code == 200
    page = c.get("/me/credit")
    assert page.status_code == 200
    assert f'data-testid="consent-revoke-{cid}"' in page.text
    assert "银行&#34;&lt;b&gt;页面&lt;/b&gt;" in page.text  # the organisation's name is text, not markup
    csrf = c.get("/api/v1/auth/me").json()["csrf_token"]
    assert c.post(f"/me/credit/consents/{cid}/revoke", data={}).status_code == 403  # no CSRF token
    done = c.post(f"/me/credit/consents/{cid}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/me/credit?done=revoked#consents"
    after = c.get("/me/credit?done=revoked").text
    assert f'data-testid="consent-revoke-{cid}"' not in after and "授权已撤销。" in after
    with db.session_scope(sqlite_county.url) as s:
        other = user_service.grant_consent(s, subject_id=2, organisation="b", purpose="p", actor="test").id
    assert c.post(f"/me/credit/consents/{other}/revoke", data={"csrf_token": csrf}).status_code == 404
