"""Sign-in defences on SQLite and PostgreSQL, through the real API: the lock-out and its
end, the rate limits per name and per address, every failure in the audit chain, the
same answer for unknown names, session idle and absolute time-outs, and API token
lifetimes and rotation."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from creditgov.core import clock, db
from creditgov.security import service as audit
from creditgov.security import users as user_service
from creditgov.security.accounts import ApiToken, SigninAttempt, User
from creditgov.security.policy import policy
from tests.security.served import START, STRONG, Served, login


def test_thirty_wrong_passwords_lock_the_name_until_the_time_out_ends(served: Served) -> None:
    served.account("t-dept")
    c = served.client()
    codes = [login(c, "t-dept", "wrong password").status_code for _ in range(30)]
    n = policy().lockout.failures
    assert codes == [401] * n + [429] * (30 - n)
    right = login(c, "t-dept")
    assert right.status_code == 429 and "locked" in right.json()["detail"]
    assert int(right.headers["retry-after"]) > 14 * 60
    assert "cg_session" not in right.headers.get("set-cookie", "")
    # Every failure is in the audit chain, with the lock-out and the first refusal.
    failed = served.audit("auth.failed")
    assert len(failed) == n and all(json.loads(e.detail)["user"] == "t-dept" for e in failed)
    assert json.loads(failed[0].detail)["client"] == "198.51.100.7"
    assert len(served.audit("auth.locked")) == 1 and len(served.audit("auth.refused")) == 1
    with db.session_scope(served.url) as s:
        assert audit.verify(s).ok

    served.at(START + dt.timedelta(minutes=policy().lockout.minutes - 1))
    assert login(c, "t-dept").status_code == 429  # still locked
    served.at(START + dt.timedelta(minutes=policy().lockout.minutes, seconds=1))
    ok = login(c, "t-dept")
    assert ok.status_code == 200 and ok.json()["username"] == "t-dept" and ok.json()["pending"] is None
    # The success starts the count again: one more failure does not lock.
    assert login(c, "t-dept", "wrong again").status_code == 401
    assert login(c, "t-dept").status_code == 200


def test_an_unknown_name_is_locked_like_a_real_one(served: Served) -> None:
    served.account("t-real")
    c = served.client()
    real = [login(c, "t-real", "wrong password") for _ in range(6)]
    ghost = [login(c, "t-ghost", "wrong password") for _ in range(6)]
    assert [r.status_code for r in real] == [r.status_code for r in ghost] == [401] * 5 + [429]
    assert real[0].json()["detail"] == ghost[0].json()["detail"]
    assert real[-1].json()["detail"] == ghost[-1].json()["detail"]
    known = [json.loads(e.detail)["known"] for e in served.audit("auth.failed")]
    assert known == [True] * 5 + [False] * 5  # the audit chain tells them apart; the answers do not


def test_form_sign_in_failures_are_locked_out_and_audited_too(served: Served) -> None:
    import re

    served.account("t-form")
    c = served.client()
    statuses = []
    for _ in range(6):
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token is not None
        r = c.post("/login", data={"username": "t-form", "password": "nope", "csrf_token": token.group(1),
                                   "next": "/"})
        statuses.append(r.status_code)
    assert statuses == [401] * 5 + [429]
    assert "登录失败次数过多" in r.text
    assert len(served.audit("auth.failed")) == 5


def test_one_address_guessing_over_many_names_is_limited(served: Served) -> None:
    limit = policy().rates.per_address
    spray, other = served.client("192.0.2.10"), served.client("192.0.2.11")
    served.account("t-victim")
    codes = [login(spray, f"name-{i}", "Summer2026!").status_code for i in range(limit.failures)]
    assert codes == [401] * limit.failures
    refused = login(spray, "t-victim")  # even the right password, from that address
    assert refused.status_code == 429 and "address" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= limit.seconds
    assert login(other, "t-victim").status_code == 200  # another address is not affected
    served.at(START + dt.timedelta(seconds=limit.seconds + 1))
    assert login(spray, "t-victim").status_code == 200


def test_a_patient_guesser_is_limited_per_name_across_lock_outs(served: Served) -> None:
    served.account("t-slow")
    rates, lock = policy().rates.per_account, policy().lockout
    t = START
    tries = 0
    statuses = []
    # Guess from many addresses, waiting out each lock-out, for as long as the window lasts.
    while tries < rates.failures:
        for _ in range(lock.failures):
            statuses.append(login(served.client(f"192.0.2.{100 + tries}"), "t-slow", "guess").status_code)
            tries += 1
        t += dt.timedelta(minutes=lock.minutes, seconds=1)
        served.at(t)
    assert statuses == [401] * rates.failures
    limited = login(served.client("192.0.2.250"), "t-slow")
    assert limited.status_code == 429 and "user name" in limited.json()["detail"]
    served.at(START + dt.timedelta(seconds=rates.seconds + 1))
    assert login(served.client("192.0.2.251"), "t-slow").status_code == 200


def test_old_attempts_are_pruned(served: Served) -> None:
    served.account("t-prune")
    c = served.client()
    login(c, "t-prune", "wrong")
    served.at(START + dt.timedelta(days=2))
    login(c, "t-prune")
    with db.session_scope(served.url) as s:
        rows = list(s.execute(select(SigninAttempt.outcome)).scalars())
    assert rows == ["ok"]


def test_sessions_end_when_idle_and_at_the_absolute_time_out(served: Served) -> None:
    served.account("t-idle")
    rules = policy().sessions
    c = served.client()
    assert login(c, "t-idle").status_code == 200
    t = START
    for _ in range(3):  # active every idle-1 minutes: still signed in
        t += dt.timedelta(minutes=rules.idle_minutes - 1)
        served.at(t)
        assert c.get("/api/v1/auth/me").json()["signed_in"] is True
    served.at(t + dt.timedelta(minutes=rules.idle_minutes + 1))
    assert c.get("/api/v1/auth/me").json()["signed_in"] is False
    assert c.get("/subjects", headers={"accept": "text/html"}).headers["location"].startswith("/login")

    served.at(START)
    c = served.client()
    r = login(c, "t-idle")
    assert f"max-age={rules.absolute_hours * 3600}" in r.headers["set-cookie"].lower()
    t = START
    while t < START + dt.timedelta(hours=rules.absolute_hours) - dt.timedelta(minutes=rules.idle_minutes):
        t += dt.timedelta(minutes=rules.idle_minutes - 1)
        served.at(t)
        assert c.get("/api/v1/auth/me").json()["signed_in"] is True
    served.at(START + dt.timedelta(hours=rules.absolute_hours, seconds=1))
    assert c.get("/api/v1/auth/me").json()["signed_in"] is False


def test_tokens_last_ninety_days_unless_asked_and_rotate(served: Served) -> None:
    admin_id = served.account("t-adm", role="admin")
    with db.session_scope(served.url) as s:
        admin_token, _ = user_service.issue_token(s, user_id=admin_id, name="ops", actor="test")
    uid = served.account("t-bank", role="bank_officer", organisation="a-bank", password=None)
    c = served.client()
    admin = {"Authorization": f"Bearer {admin_token}"}
    made = c.post(f"/api/v1/users/{uid}/tokens", json={"name": "core banking"}, headers=admin)
    assert made.status_code == 201
    expires = dt.datetime.fromisoformat(made.json()["expires_at"])
    assert expires.date() == (START + dt.timedelta(days=policy().tokens.default_days)).date()
    too_long = c.post(f"/api/v1/users/{uid}/tokens", json={"name": "x", "days": policy().tokens.max_days + 1},
                      headers=admin)
    assert too_long.status_code == 422 and "days" in too_long.json()["detail"]

    old = {"Authorization": f"Bearer {made.json()['token']}"}
    assert c.get("/api/v1/auth/me", headers=old).json()["username"] == "t-bank"
    rotated = c.post(f"/api/v1/tokens/{made.json()['id']}/rotate", headers=admin)
    assert rotated.status_code == 201 and rotated.json()["name"] == "core banking"
    new = {"Authorization": f"Bearer {rotated.json()['token']}"}
    assert c.get("/api/v1/auth/me", headers=new).json()["username"] == "t-bank"
    assert c.get("/api/v1/auth/me", headers=old).status_code == 401
    again = c.post(f"/api/v1/tokens/{made.json()['id']}/rotate", headers=admin)
    assert again.status_code == 422  # a revoked token has no successor
    assert [e for e in served.audit("token.rotate")
            if json.loads(e.detail) == {"token": made.json()["id"], "successor": rotated.json()["id"]}]
    with db.session_scope(served.url) as s:
        live = [t for t in s.execute(select(ApiToken).where(ApiToken.user_id == uid)).scalars()
                if t.revoked_at is None]
        assert [t.id for t in live] == [rotated.json()["id"]]


def test_the_command_line_rotates_a_token_by_name(cli) -> None:  # type: ignore[no-untyped-def]  # the cli fixture is an untyped closure
    assert cli("init").exit_code == 0
    assert cli("users", "create", "t-sys", "--role", "bank_officer", "--org", "b").exit_code == 0
    first = json.loads(cli("users", "token", "t-sys", "--name", "core", "--json").output)
    assert clock.to_cst(first["expires_at"]).date() == dt.date(2027, 1, 30)  # 90 days after 2026-11-01, in China
    second = json.loads(cli("users", "token", "t-sys", "--name", "core", "--rotate", "--json").output)
    assert second["revoked"] == [first["id"]] and second["token"] != first["token"]
    refused = cli("users", "token", "t-sys", "--name", "nothing-here", "--rotate")
    assert refused.exit_code != 0 and "no live token" in refused.output


def test_an_administrator_unlocks_a_name(served: Served) -> None:
    served.account("t-locked")
    admin_id = served.account("t-adm2", role="admin")
    with db.session_scope(served.url) as s:
        admin_token, _ = user_service.issue_token(s, user_id=admin_id, name="ops", actor="test")
    c = served.client()
    for _ in range(policy().lockout.failures):
        login(c, "t-locked", "wrong")
    assert login(c, "t-locked", STRONG).status_code == 429
    with db.session_scope(served.url) as s:
        uid = s.execute(select(User.id).where(User.username == "t-locked")).scalar_one()
    r = c.post(f"/api/v1/users/{uid}/unlock", headers={"Authorization": f"Bearer {admin_token}"})
    assert r.status_code == 200 and r.json() == {"username": "t-locked", "was_locked": True}
    assert login(c, "t-locked").status_code == 200
    assert [json.loads(e.detail)["user"] for e in served.audit("auth.unlock")] == ["t-locked"]


def test_hostile_sign_in_input_is_refused_cleanly_and_recorded(served: Served) -> None:
    served.account("t-plain")
    c = served.client()
    for name, password in (("a\ud800b", STRONG), ("t-plain", "x\udfffy")):  # not text: refused as input
        assert login(c, name, password).status_code == 422
    for name, password in (('"><script>alert(1)</script>', "x" * 200), ("名字\u202e\u0000", "密码\u0000"),
                           ("t-plain' OR '1'='1", "' OR '1'='1"), ("t-plain", "长" * 200)):
        r = login(c, name, password)
        assert r.status_code == 401, (name, r.status_code, r.text)
    assert login(c, "t-plain").status_code == 200
    names = [json.loads(e.detail)["user"] for e in served.audit("auth.failed")]
    assert names[:2] == ['"><script>alert(1)</script>', "名字\u202e?"]
    with db.session_scope(served.url) as s:
        assert audit.verify(s).ok
