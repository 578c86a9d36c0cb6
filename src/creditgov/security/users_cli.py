"""`creditgov users ...`: accounts, API tokens and the demo accounts."""

from __future__ import annotations

import typer
from rich.table import Table

from creditgov.cli.common import JsonOpt, console, emit_json, session
from creditgov.security import users as user_service
from creditgov.security.demo import ensure_demo_accounts

app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)


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
    from sqlalchemy import select

    from creditgov.core.errors import NotFound
    from creditgov.security.accounts import User

    with session() as s:
        u = s.execute(select(User).where(User.username == username)).scalar()
        if u is None:
            raise NotFound(f"user {username!r} not found")
        plain, tok = user_service.issue_token(s, user_id=u.id, name=name, days=days)
    if json_out:
        emit_json({"token": plain, "id": tok.id, "user": username})
    else:
        console.print(plain)
