"""`creditgov users ...`: accounts, API tokens and the demo accounts; `creditgov consent
...`: the consents subjects gave organisations (banks) to read their files."""

from __future__ import annotations

import typer
from rich.table import Table

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, label, session
from creditgov.security import attempts, mfa, passwords
from creditgov.security import users as user_service
from creditgov.security.demo import ensure_demo_accounts

app = typer.Typer(help="Users, roles, passwords, the second factor and API tokens.", no_args_is_help=True)
password_app = typer.Typer(help="Change or reset a password (the sign-in policy applies).", no_args_is_help=True)
totp_app = typer.Typer(help="An account's authenticator app (TOTP): enrol at the console, or reset.",
                       no_args_is_help=True)
app.add_typer(password_app, name="password")
app.add_typer(totp_app, name="totp")
consent_app = typer.Typer(help="Consents to read a credit file (授权查询): list and revoke.", no_args_is_help=True)


@app.command("demo")
def demo(json_out: bool = JsonOpt) -> None:
    """Create one demo account per role (resetting their passwords) and print them, with
    the TOTP key of each account that must sign in with a second factor."""
    ring = STATE.keyring()
    with session() as s:
        rows = ensure_demo_accounts(s, ring, actor="cli:users-demo")
    if json_out:
        emit_json(rows)
        return
    t = Table(title="demo accounts (http://127.0.0.1:8000/login)")
    for c in ("role", "角色", "username", "password", "TOTP key", "data scope"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["role"], r["role_zh"], r["username"], r["password"], r["totp_secret"] or "-", r["scope"])
    console.print(t)
    console.print("accounts with a TOTP key ask for a code after the password: add the key to an authenticator "
                  "app, or print the current code with\n"
                  "  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('KEY').now())\"")
    console.print("public pages need no account: http://127.0.0.1:8000/public")


@app.command("create")
def create(username: str, role: str = typer.Option(..., "--role"),
           password: str = typer.Option(None, "--password", help="Omit for a token-only account."),
           name: str = typer.Option("", "--name"), region: str = typer.Option(None, "--region"),
           department: str = typer.Option(None, "--department"), organisation: str = typer.Option(None, "--org"),
           subject: int = typer.Option(None, "--subject"), json_out: bool = JsonOpt) -> None:
    """Create an account with a role and the scope that role needs."""
    with session() as s:
        u = user_service.create_user(s, username=username, password=password, role=role, display_name=name,
                                     region_code=region, department_code=department, organisation=organisation,
                                     subject_id=subject)
        out = user_service.user_dict(u)
    if json_out:
        emit_json(out)
    else:
        console.print(f"created {out['username']} ({out['role']})")


@app.command("list")
def list_(json_out: bool = JsonOpt) -> None:
    with session() as s:
        rows = [user_service.user_dict(u) for u in user_service.users(s)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="users")
    for c in ("id", "username", "role", "scope", "active", "second factor"):
        t.add_column(c)
    for r in rows:
        scope = " ".join(str(r[k]) for k in ("region_code", "department_code", "organisation", "subject_id") if r[k])
        t.add_row(str(r["id"]), r["username"], r["role"], scope, "yes" if r["active"] else "no",
                  "TOTP" if r["second_factor"] else "-")
    console.print(t)


@app.command("token")
def token(username: str, name: str = typer.Option("api", "--name"),
          days: int = typer.Option(None, "--days", help="Lifetime (default: the sign-in policy's, 90; at most 365)."),
          rotate: bool = typer.Option(False, "--rotate", help="Revoke the account's live tokens of this name as the "
                                                               "new one is issued."),
          json_out: bool = JsonOpt) -> None:
    """Issue an API token for an account (printed once); with --rotate, its successor."""
    with session() as s:
        u = user_service.user_by_name(s, username)
        old = user_service.live_tokens(s, u.id, name) if rotate else []
        if rotate and not old:
            raise typer.BadParameter(f"{username} has no live token named {name!r} to rotate", param_hint="--name")
        actor = "cli:users-token"
        if old:
            plain, tok = user_service.rotate_token(s, token_id=old[0].id, days=days, actor=actor)
            for t in old[1:]:
                user_service.revoke_token(s, token_id=t.id, actor=actor)
        else:
            plain, tok = user_service.issue_token(s, user_id=u.id, name=name, days=days, actor=actor)
        expires = tok.expires_at.isoformat(timespec="seconds") if tok.expires_at else None
    if json_out:
        emit_json({"token": plain, "id": tok.id, "user": username, "expires_at": expires,
                   "revoked": [t.id for t in old]})
    else:
        console.print(plain)


@app.command("unlock")
def unlock(username: str, json_out: bool = JsonOpt) -> None:
    """Lift a sign-in lock-out (after repeated failures) before its time-out ends."""
    with session() as s:
        u = user_service.user_by_name(s, username)
        was = attempts.unlock(s, username=u.username, actor="cli:users-unlock")
    if json_out:
        emit_json({"user": username, "was_locked": was})
    else:
        console.print(f"{username}: {'unlocked' if was else 'was not locked'}")


@password_app.command("change")
def password_change(username: str,
                    old: str = typer.Option(..., "--old", prompt="current password", hide_input=True),
                    new: str = typer.Option(..., "--new", prompt="new password", hide_input=True,
                                            confirmation_prompt=True),
                    json_out: bool = JsonOpt) -> None:
    """Change a password, proving the current one (a wrong one counts as a failed sign-in)."""
    with session() as s:
        u = user_service.user_by_name(s, username)
        passwords.change(s, user=u, old_password=old, new_password=new, client="console")
    if json_out:
        emit_json({"user": username, "changed": True})
    else:
        console.print(f"{username}: password changed; the account's browser sessions ended")


@password_app.command("reset")
def password_reset(username: str,
                   password: str = typer.Option(None, "--password", help="Omit for a random temporary password."),
                   json_out: bool = JsonOpt) -> None:
    """Set a temporary password (printed once) that must be changed at the next sign-in."""
    with session() as s:
        u = user_service.user_by_name(s, username)
        temporary = passwords.reset(s, user=u, password=password, actor="cli:users-password-reset")
    if json_out:
        emit_json({"user": username, "temporary_password": temporary})
    else:
        console.print(f"{username}: temporary password (change at next sign-in): {temporary}")


@totp_app.command("enrol")
def totp_enrol(username: str, json_out: bool = JsonOpt) -> None:
    """Enrol an authenticator app at the console (a first administrator, an account set
    up for someone in person): prints the key, its otpauth URI and the recovery codes."""
    ring = STATE.keyring()
    with session() as s:
        u = user_service.user_by_name(s, username)
        e, codes = mfa.enrol_now(s, ring, u, actor="cli:users-totp-enrol")
    if json_out:
        emit_json({"user": username, "secret": e.secret, "otpauth_uri": e.uri, "recovery_codes": codes})
        return
    console.print(f"TOTP key for {username}: {e.secret}\n{e.uri}")
    console.print("recovery codes (each works once):\n  " + "\n  ".join(codes))


@totp_app.command("reset")
def totp_reset(username: str, json_out: bool = JsonOpt) -> None:
    """Remove an account's authenticator app (a lost phone); its sessions end."""
    with session() as s:
        u = user_service.user_by_name(s, username)
        mfa.reset(s, u, actor="cli:users-totp-reset")
    if json_out:
        emit_json({"user": username, "second_factor": False})
    else:
        console.print(f"{username}: authenticator app removed; it enrols again at the next sign-in if its role requires")


def _set_active(username: str, active: bool, json_out: bool) -> None:
    with session() as s:
        u = user_service.user_by_name(s, username)
        u = user_service.set_active(s, user_id=u.id, active=active, actor=f"cli:users-{'activate' if active else 'deactivate'}")
        out = user_service.user_dict(u)
    if json_out:
        emit_json(out)
    else:
        console.print(f"{out['username']}: {'active' if out['active'] else 'deactivated'}")


@app.command("deactivate")
def deactivate(username: str, json_out: bool = JsonOpt) -> None:
    """Stop an account: it cannot sign in, and its sessions and tokens end at once."""
    _set_active(username, False, json_out)


@app.command("activate")
def activate(username: str, json_out: bool = JsonOpt) -> None:
    """Let a deactivated account sign in again (its old tokens stay revoked)."""
    _set_active(username, True, json_out)


@consent_app.command("list")
def consent_list(subject: int = typer.Option(None, "--subject"), organisation: str = typer.Option(None, "--org"),
                 json_out: bool = JsonOpt) -> None:
    with session() as s:
        rows = [user_service.consent_dict(c)
                for c in user_service.consents(s, subject_id=subject, organisation=organisation)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="consents")
    for c in ("id", "subject", "organisation", "purpose", "granted", "expires", "status"):
        t.add_column(c)
    for r in rows:
        status = label("consent_status", r["status"]) + (f" {r['revoked_on']}" if r["revoked_on"] else "")
        t.add_row(str(r["id"]), str(r["subject_id"]), label("organisation", r["organisation"]),
                  label("purpose", r["purpose"]), r["granted_on"], r["expires_on"] or "-", status)
    console.print(t)


@consent_app.command("revoke")
def consent_revoke(consent_id: int, json_out: bool = JsonOpt) -> None:
    """End a consent from today (at the subject's request, e.g. at the window)."""
    with session() as s:
        out = user_service.consent_dict(user_service.revoke_consent(s, consent_id=consent_id,
                                                                    actor="cli:consent-revoke"))
    if json_out:
        emit_json(out)
    else:
        console.print(f"consent {out['id']} ({out['organisation']}) revoked on {out['revoked_on']}")
