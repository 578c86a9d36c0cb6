"""`creditgov users ...`: accounts, API tokens and the demo accounts; `creditgov consent
...`: the consents subjects gave organisations (banks) to read their files."""

from __future__ import annotations

import typer
from rich.table import Table

from creditgov.cli.common import JsonOpt, console, emit_json, session
from creditgov.security import users as user_service
from creditgov.security.demo import ensure_demo_accounts

app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
consent_app = typer.Typer(help="Consents to read a credit file (授权查询): list and revoke.", no_args_is_help=True)


@app.command("demo")
def demo(json_out: bool = JsonOpt) -> None:
    """Create one demo account per role (resetting their passwords) and print them."""
    with session() as s:
        rows = ensure_demo_accounts(s, actor="cli:users-demo")
    if json_out:
        emit_json(rows)
        return
    t = Table(title="demo accounts (http://127.0.0.1:8000/login)")
    for c in ("role", "角色", "username", "password", "data scope"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["role"], r["role_zh"], r["username"], r["password"], r["scope"])
    console.print(t)
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
    for c in ("id", "username", "role", "scope", "active"):
        t.add_column(c)
    for r in rows:
        scope = " ".join(str(r[k]) for k in ("region_code", "department_code", "organisation", "subject_id") if r[k])
        t.add_row(str(r["id"]), r["username"], r["role"], scope, "yes" if r["active"] else "no")
    console.print(t)


@app.command("token")
def token(username: str, name: str = typer.Option("api", "--name"), days: int = typer.Option(365, "--days"),
          json_out: bool = JsonOpt) -> None:
    """Issue an API token for an account (printed once)."""
    with session() as s:
        u = user_service.user_by_name(s, username)
        plain, tok = user_service.issue_token(s, user_id=u.id, name=name, days=days)
    if json_out:
        emit_json({"token": plain, "id": tok.id, "user": username})
    else:
        console.print(plain)


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
    for c in ("id", "subject", "organisation", "purpose", "granted", "expires", "revoked"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["id"]), str(r["subject_id"]), r["organisation"], r["purpose"], r["granted_on"],
                  r["expires_on"] or "-", r["revoked_on"] or "-")
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
