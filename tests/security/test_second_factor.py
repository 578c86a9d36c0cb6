"""The second factor on SQLite and PostgreSQL, through the real API and pages: an
administrator without one cannot act until it enrols; every password sign-in of an
enrolled account asks for the code; a code works once; recovery codes work once;
wrong codes are audited and lock the name like wrong passwords; the key is encrypted
at rest; API tokens are not asked; the demo accounts print keys that sign in."""

from __future__ import annotations

import json
import re
import time

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.security import mfa
from creditgov.security import users as user_service
from creditgov.security.accounts import RecoveryCode, User
from creditgov.security.policy import policy
from tests.security.served import STRONG, Served, login


def _wrong(secret: str) -> str:
    """A six-digit code the app would show at no step near now."""
    totp, now = pyotp.TOTP(secret), time.time()
    near = {totp.at(now + 30 * k) for k in range(-3, 4)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def _next_step(secret: str) -> str:
    """The code of the next time step (inside the accepted drift), for a second sign-in
    right after one that used the current step."""
    return pyotp.TOTP(secret).at(time.time() + mfa.STEP)


def _enrolled(served: Served, username: str, role: str = "admin") -> tuple[int, str, list[str]]:
    uid = served.account(username, role=role)
    with db.session_scope(served.url) as s:
        u = s.get(User, uid)
        assert u is not None
        e, codes = mfa.enrol_now(s, served.ring, u, actor="test")
    return uid, e.secret, codes


def test_an_administrator_without_a_second_factor_cannot_act_until_it_enrols(served: Served) -> None:
    served.account("t-admin", role="admin")
    c = served.client()
    r = login(c, "t-admin")
    assert r.status_code == 200 and r.json()["pending"] == "enrol" and r.json()["permissions"] == {}
    h = {"X-CSRF-Token": r.json()["csrf_token"]}
    refused = c.get("/api/v1/users")
    assert refused.status_code == 403 and "not finished" in refused.json()["detail"]
    assert c.post("/api/v1/users", json={"username": "t-new", "role": "credit_office", "password": STRONG},
                  headers=h).status_code == 403
    assert c.get("/api/v1/audit/entries").status_code == 403
    page = c.get("/admin/users", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/account/second-factor?next=/admin/users"
    assert c.get("/").headers["location"] == "/account/second-factor"

    assert c.post("/api/v1/auth/totp/enrol").status_code == 403  # CSRF holds for a pending session too
    e = c.post("/api/v1/auth/totp/enrol", headers=h)
    assert e.status_code == 200
    secret = e.json()["secret"]
    assert e.json()["otpauth_uri"] == pyotp.TOTP(secret).provisioning_uri(name="t-admin", issuer_name="CreditGov")
    assert e.json()["qr_svg"].startswith("<svg") and "style=" not in e.json()["qr_svg"]
    wrong = c.post("/api/v1/auth/totp/confirm", json={"code": _wrong(secret)}, headers=h)
    assert wrong.status_code == 422 and c.get("/api/v1/users").status_code == 403
    done = c.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=h)
    assert done.status_code == 200 and len(done.json()["recovery_codes"]) == policy().second_factor.recovery_codes
    assert c.get("/api/v1/users").status_code == 200  # with the second factor it acts
    assert c.get("/api/v1/auth/me").json()["pending"] is None
    # The account form refuses a weak password in words and comes back as it was typed.
    name = '<b>王</b> "O\'Brien"'
    weak = c.post("/admin/users", data={"username": "t-weak", "display_name": name, "role": "credit_office",
                                        "password": "12345678"}, headers={**h, "accept": "text/html"})
    assert weak.status_code == 422 and "密码" in weak.text and "too easy" not in weak.text, weak.text[-1500:]
    assert 'value="t-weak"' in weak.text and "&lt;b&gt;王&lt;/b&gt;" in weak.text and "<b>王" not in weak.text
    assert '<option value="credit_office" selected>' in weak.text and 'value="12345678"' not in weak.text

    with db.session_scope(served.url) as s:  # the key at rest: ciphertext only; codes: digests only
        u = s.execute(select(User).where(User.username == "t-admin")).scalar_one()
        assert u.totp_secret is not None and secret not in u.totp_secret and u.totp_pending is None
        assert served.ring.decrypt(u.totp_secret) == secret
        stored = list(s.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == u.id)).scalars())
        plain = {x.replace("-", "") for x in done.json()["recovery_codes"]}
        assert len(stored) == len(plain) and not plain & set(stored)
    assert [json.loads(x.detail)["user"] for x in served.audit("totp.enrol")] == ["t-admin"]


def test_every_password_sign_in_of_an_enrolled_account_asks_for_a_code_once(served: Served) -> None:
    uid, secret, recovery = _enrolled(served, "t-admin")
    c = served.client()
    r = login(c, "t-admin")
    assert r.status_code == 200 and r.json()["pending"] == "code"
    h = {"X-CSRF-Token": r.json()["csrf_token"]}
    assert c.get("/api/v1/users").status_code == 403
    bad = c.post("/api/v1/auth/second-factor", json={"code": _wrong(secret)}, headers=h)
    assert bad.status_code == 401 and "wrong code" in bad.json()["detail"]
    failed = [json.loads(x.detail) for x in served.audit("auth.failed")]
    assert failed == [{"user": "t-admin", "client": "198.51.100.7", "factor": "code", "known": True}]
    code = pyotp.TOTP(secret).now()
    ok = c.post("/api/v1/auth/second-factor", json={"code": code}, headers=h)
    assert ok.status_code == 200 and ok.json()["pending"] is None
    assert c.get("/api/v1/users").status_code == 200

    replay = login(served.client(), "t-admin", code=code)  # the same code, once more
    assert replay.status_code == 401
    assert login(served.client(), "t-admin", code=_next_step(secret)).json()["pending"] is None
    used = login(served.client(), "t-admin", code=recovery[0])
    assert used.status_code == 200 and used.json()["pending"] is None
    assert login(served.client(), "t-admin", code=recovery[0].lower()).status_code == 401  # single use
    assert json.loads(served.audit("totp.recovery_used")[0].detail)["left"] == len(recovery) - 1

    with db.session_scope(served.url) as s:  # machines sign in with tokens, never asked for a code
        token, _ = user_service.issue_token(s, user_id=uid, name="ops", actor="test")
    assert c.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_wrong_codes_are_audited_and_lock_the_name(served: Served) -> None:
    _uid, secret, _codes = _enrolled(served, "t-office", role="credit_office")
    c = served.client()
    h = {"X-CSRF-Token": login(c, "t-office").json()["csrf_token"]}
    n = policy().lockout.failures
    codes = [c.post("/api/v1/auth/second-factor", json={"code": _wrong(secret)}, headers=h).status_code
             for _ in range(n + 1)]
    assert codes == [401] * (n + 1)  # the last: the session ended with the lock-out
    assert c.get("/api/v1/auth/me").json()["signed_in"] is False
    assert login(c, "t-office").status_code == 429
    assert login(c, "t-office", code=pyotp.TOTP(secret).now()).status_code == 429
    assert [json.loads(x.detail)["factor"] for x in served.audit("auth.failed")] == ["code"] * n
    assert len(served.audit("auth.locked")) == 1


def test_an_administrator_resets_a_lost_second_factor(served: Served) -> None:
    admin_id, admin_secret, _ = _enrolled(served, "t-admin")
    office_id, _secret, _ = _enrolled(served, "t-office", role="credit_office")
    with db.session_scope(served.url) as s:
        token, _ = user_service.issue_token(s, user_id=admin_id, name="ops", actor="test")
    c = served.client()
    r = c.post(f"/api/v1/users/{office_id}/second-factor/reset", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["second_factor"] is False
    assert login(served.client(), "t-office").json()["pending"] == "enrol"
    with db.session_scope(served.url) as s:
        assert not list(s.execute(select(RecoveryCode).where(RecoveryCode.user_id == office_id)).scalars())


def _csrf(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def _form_login(c: TestClient, username: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    r = c.post("/login", data={"username": username, "password": STRONG, "csrf_token": token.group(1),
                               "next": "/"})
    assert r.status_code == 303
    return str(r.headers["location"])


def test_the_pages_walk_a_new_office_account_through_enrolment_and_the_code(served: Served) -> None:
    served.account("t-office", role="credit_office")
    c = served.client()
    assert _form_login(c, "t-office") == "/account/second-factor?next=/"
    intro = c.get("/account/second-factor?next=/")
    assert intro.status_code == 200 and 'data-testid="enrol-forced"' in intro.text
    shown = c.post("/account/second-factor/begin", data={"csrf_token": _csrf(intro.text), "next": "/"})
    assert shown.status_code == 200 and '<svg xmlns="http://www.w3.org/2000/svg"' in shown.text
    m = re.search(r'data-testid="enrol-secret">([A-Z2-7]+)<', shown.text)
    assert m is not None
    secret = m.group(1)
    wrong = c.post("/account/second-factor/confirm", data={"code": _wrong(secret), "csrf_token": _csrf(shown.text),
                                                           "next": "/"})
    assert wrong.status_code == 422 and 'data-testid="enrol-error"' in wrong.text
    done = c.post("/account/second-factor/confirm", data={"code": pyotp.TOTP(secret).now(),
                                                          "csrf_token": _csrf(shown.text), "next": "/"})
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}</code></li>", done.text)) == 10
    assert 'data-testid="enrol-continue"' in done.text and c.get("/").status_code == 200

    c.post("/logout", data={"csrf_token": _csrf(c.get("/").text)})
    assert _form_login(c, "t-office") == "/login/code?next=/"
    asked = c.get("/login/code?next=/")
    bad = c.post("/login/code", data={"code": _wrong(secret), "csrf_token": _csrf(asked.text), "next": "/"})
    assert bad.status_code == 401 and 'data-testid="code-error"' in bad.text
    good = c.post("/login/code", data={"code": _next_step(secret), "csrf_token": _csrf(asked.text), "next": "/"})
    assert good.status_code == 303 and good.headers["location"] == "/"
    assert c.get("/").status_code == 200


def test_the_demo_accounts_print_keys_that_sign_in(cli, mini) -> None:  # type: ignore[no-untyped-def]  # the cli fixture is an untyped closure
    assert cli("init").exit_code == 0
    assert cli("ingest", str(mini)).exit_code == 0
    rows = {r["username"]: r for r in json.loads(cli("users", "demo", "--json").output)}
    assert rows["admin"]["totp_secret"] and rows["office"]["totp_secret"]
    assert rows["grid"]["totp_secret"] is None  # optional for the other roles
    again = {r["username"]: r for r in json.loads(cli("users", "demo", "--json").output)}
    assert again["admin"]["totp_secret"] == rows["admin"]["totp_secret"]  # a rerun keeps the app working
    shown = cli("users", "demo").output
    assert rows["admin"]["totp_secret"] in shown and "pyotp" in shown

    app = create_app(f"sqlite:///{cli.work / 'creditgov.db'}", cli.work / "creditgov.db.key")
    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = c.post("/api/v1/auth/login", json={"username": "admin", "password": rows["admin"]["password"],
                                           "code": pyotp.TOTP(rows["admin"]["totp_secret"]).now()})
    assert r.status_code == 200 and r.json()["pending"] is None and r.json()["role"] == "admin"
