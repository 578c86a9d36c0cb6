"""The password policy on SQLite and PostgreSQL: length and a strength estimate per
role (`12345678` refused for an administrator), no reuse of the last passwords,
expiry, change with the old password and reset to a temporary one that must be
changed — through the service, the API, the pages and the command line."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.security import passwords
from creditgov.security import users as user_service
from creditgov.security.accounts import PasswordHistory, User
from creditgov.security.policy import policy
from creditgov.security.scopes import Role, Unauthenticated
from tests.security.served import START, STRONG, Served, login


def test_strength_not_composition_decides_and_administrators_need_more() -> None:
    for weak in ("12345678", "password1234", "qwertyuiop123", "admin-admin-admin"):
        with pytest.raises(InvalidInput):
            passwords.check_strength(weak, role=Role.ADMIN, username="admin")
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        passwords.check_strength("Tr0ub4dor&3", role=Role.ADMIN, username="admin")
    with pytest.raises(InvalidInput, match="too easy to guess"):
        passwords.check_strength("wang.xiaoming2026", role=Role.CREDIT_OFFICE, username="wang.xiaoming")
    # No digits, capitals or symbols needed: four random words pass for any role.
    passwords.check_strength("maple canyon ledger", role=Role.ADMIN, username="admin")
    passwords.check_strength("tea kettle 9", role=Role.GRID, username="g1")
    passwords.check_strength("north wind " * 18, role=Role.ADMIN, username="admin")  # 198 characters: judged by 72
    with pytest.raises(InvalidInput, match="at most 200"):
        passwords.check_strength("x" * 201, role=Role.GRID, username="g1")
    with pytest.raises(InvalidInput, match="Unicode"):
        passwords.check_strength("lone \ud800 surrogate here", role=Role.GRID, username="g1")
    with pytest.raises(InvalidInput, match="at least 8"):
        passwords.check_strength("short", role=Role.GRID, username="g1")


def test_an_administrator_cannot_be_given_12345678(served: Served) -> None:
    with pytest.raises(InvalidInput, match="at least 12"), db.session_scope(served.url) as s:
        user_service.create_user(s, username="t-weak", password="12345678", role="admin", actor="test")
    admin_id = served.account("t-admin", role="admin")
    with db.session_scope(served.url) as s:
        token, _ = user_service.issue_token(s, user_id=admin_id, name="ops", actor="test")
    c = served.client()
    h = {"Authorization": f"Bearer {token}"}
    for weak in ("12345678", "123456789012"):
        r = c.post("/api/v1/users", json={"username": "t-weak", "role": "admin", "password": weak}, headers=h)
        assert r.status_code == 422, r.text
    assert c.post("/api/v1/users", json={"username": "t-weak", "role": "admin", "password": STRONG},
                  headers=h).status_code == 201
    with db.session_scope(served.url) as s:
        assert s.execute(select(func.count()).where(User.username == "t-weak")).scalar_one() == 1


def test_a_holder_changes_the_password_with_the_old_one_and_cannot_go_back(served: Served) -> None:
    served.account("t-dept")
    c = served.client()
    h = {"X-CSRF-Token": login(c, "t-dept").json()["csrf_token"]}
    other = served.client("198.51.100.8")
    assert login(other, "t-dept").status_code == 200

    def change(old: str, new: str) -> int:
        return c.post("/api/v1/auth/password", json={"old_password": old, "new_password": new},
                      headers=h).status_code

    assert change("not the password", "sunlit orchard path") == 401
    assert json.loads(served.audit("auth.failed")[-1].detail)["during"] == "password change"
    assert change(STRONG, STRONG) == 422  # the current one
    assert change(STRONG, "12345678") == 422
    history = ["sunlit orchard path", "quiet river stones", "amber field lantern", "copper kite meadow",
               "velvet harbor moon", "granite tulip echo"]
    current = STRONG
    for new in history:
        assert change(current, new) == 200
        current = new
    assert c.get("/api/v1/auth/me").json()["signed_in"] is True  # this session goes on
    assert other.get("/api/v1/auth/me").json()["signed_in"] is False  # the others end
    assert change(current, history[-3]) == 422  # among the last five
    assert change(current, STRONG) == 200  # six changes ago: allowed again
    with db.session_scope(served.url) as s:
        uid = s.execute(select(User.id).where(User.username == "t-dept")).scalar_one()
        kept = s.execute(select(func.count()).where(PasswordHistory.user_id == uid)).scalar_one()
        assert kept == policy().passwords.history
    assert login(served.client(), "t-dept", history[-1]).status_code == 401
    assert login(served.client(), "t-dept", STRONG).status_code == 200


def test_a_reset_password_must_be_changed_before_anything_else(served: Served) -> None:
    uid = served.account("t-grid-worker")
    admin_id = served.account("t-admin", role="admin")
    with db.session_scope(served.url) as s:
        token, _ = user_service.issue_token(s, user_id=admin_id, name="ops", actor="test")
    c = served.client()
    assert login(c, "t-grid-worker").status_code == 200
    r = c.post(f"/api/v1/users/{uid}/password", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    assert c.get("/api/v1/auth/me").json()["signed_in"] is False  # its sessions ended
    assert login(c, "t-grid-worker").status_code == 401
    signed = login(c, "t-grid-worker", temporary)
    assert signed.json()["pending"] == "password"
    h = {"X-CSRF-Token": signed.json()["csrf_token"]}
    assert c.get("/api/v1/subjects").status_code == 403
    done = c.post("/api/v1/auth/password", json={"old_password": temporary, "new_password": "lilac ferry bells"},
                  headers=h)
    assert done.status_code == 200 and done.json()["pending"] is None
    assert c.get("/api/v1/subjects").status_code == 200
    entry = json.loads(served.audit("password.reset")[0].detail)
    assert entry == {"user": "t-grid-worker", "temporary": True} and temporary not in json.dumps(entry)


def test_a_password_expires_after_the_configured_days(served: Served) -> None:
    served.account("t-old")
    days = policy().passwords.expiry_days
    assert days > 0
    served.at(START + dt.timedelta(days=days - 1))
    assert login(served.client(), "t-old").json()["pending"] is None
    served.at(START + dt.timedelta(days=days))
    assert login(served.client(), "t-old").json()["pending"] == "password"


def test_the_password_page_changes_it_and_says_why_not(served: Served) -> None:
    served.account("t-page")
    c = served.client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    c.post("/login", data={"username": "t-page", "password": STRONG, "csrf_token": token.group(1), "next": "/"})
    page = c.get("/account/password")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf is not None
    form = {"csrf_token": csrf.group(1), "old_password": STRONG, "next": "/subjects"}
    mismatch = c.post("/account/password", data={**form, "new_password": "a b c d e f", "new_password2": "x"})
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    weak = c.post("/account/password", data={**form, "new_password": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 422 and 'data-testid="password-error"' in weak.text
    said = re.search(r'data-testid="password-error"[^>]*>([^<]*)<', weak.text)
    assert said is not None and said.group(1).startswith("密码太容易被猜到（强度 "), weak.text[-1500:]
    assert "too easy" not in weak.text
    reused = c.post("/account/password", data={**form, "new_password": STRONG, "new_password2": STRONG})
    assert reused.status_code == 422 and "新密码不能与当前密码或最近" in reused.text
    ok = c.post("/account/password", data={**form, "new_password": "harbor lantern quill",
                                          "new_password2": "harbor lantern quill"})
    assert ok.status_code == 303 and ok.headers["location"] == "/subjects"
    assert login(served.client(), "t-page", "harbor lantern quill").status_code == 200


def test_the_command_line_resets_and_changes_passwords(cli) -> None:  # type: ignore[no-untyped-def]  # the cli fixture is an untyped closure
    assert cli("init").exit_code == 0
    with pytest.raises(InvalidInput, match="12 characters"):  # `creditgov` prints it and exits 2
        cli("users", "create", "t-cli-admin", "--role", "admin", "--password", "12345678")
    assert cli("users", "create", "t-cli-admin", "--role", "admin", "--password", STRONG).exit_code == 0
    out = json.loads(cli("users", "password", "reset", "t-cli-admin", "--json").output)
    temporary = out["temporary_password"]
    with pytest.raises(Unauthenticated, match="current password is wrong"):
        cli("users", "password", "change", "t-cli-admin", "--old", "wrong", "--new", "ivory compass rain")
    changed = cli("users", "password", "change", "t-cli-admin", "--old", temporary, "--new", "ivory compass rain")
    assert changed.exit_code == 0, changed.output
    url = f"sqlite:///{cli.work / 'creditgov.db'}"
    with db.session_scope(url) as s:
        u = s.execute(select(User).where(User.username == "t-cli-admin")).scalar_one()
        assert u.must_change_password is False and passwords.verify(u.password_hash, "ivory compass rain")
    unlocked = json.loads(cli("users", "unlock", "t-cli-admin", "--json").output)
    assert unlocked == {"user": "t-cli-admin", "was_locked": False}
