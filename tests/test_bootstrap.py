"""The composition root lists every domain's parts, and nothing on disk is left out:
a models module, a router, a command app, a page module or a job that exists but is
not listed would be a part that silently never runs."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

import typer
from fastapi import APIRouter
from typer.testing import CliRunner

import creditgov
from creditgov import bootstrap
from creditgov.cli.main import app as cli_app

SRC = Path(creditgov.__file__).parent


def _module(path: Path) -> str:
    return "creditgov." + ".".join(path.relative_to(SRC).with_suffix("").parts)


def _top_level_names(path: Path) -> dict[str, ast.expr]:
    """Module-level assignments `name = <call>` (what a Typer app or router is)."""
    out: dict[str, ast.expr] = {}
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node.value
    return out


def test_every_table_module_is_listed() -> None:
    listed = {m for d in bootstrap.DOMAINS for m in d.models}
    on_disk = {_module(p) for p in SRC.rglob("*.py")
               if "migrations" not in p.parts and "    __tablename__ = " in p.read_text("utf-8")}
    assert on_disk == listed
    tables = bootstrap.metadata().tables
    assert {"subjects", "credit_records", "audit_entries", "alerts", "objections", "worker_runs"} <= set(tables)


def test_every_api_router_is_mounted() -> None:
    listed = {ref for d in bootstrap.DOMAINS for ref in d.api}
    on_disk = set()
    for p in SRC.glob("*/views.py"):
        for name, value in _top_level_names(p).items():
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "APIRouter":
                on_disk.add(f"{_module(p)}:{name}")
    assert on_disk == listed
    assert all(isinstance(r, APIRouter) for r in bootstrap.api_routers())


def test_every_page_module_is_mounted() -> None:
    listed = [m for d in bootstrap.DOMAINS for m in d.pages]
    on_disk = {_module(p) for p in SRC.rglob("*.py")
               if "router = APIRouter(" in p.read_text("utf-8") and not p.name == "views.py"}
    assert on_disk == set(listed)
    assert len(bootstrap.page_routers()) == len(listed)


def test_every_command_app_is_mounted() -> None:
    mounted = {c.ref for c in bootstrap.commands()}
    on_disk = set()
    for p in SRC.rglob("*.py"):
        if p.parent.name == "cli" and p.name in {"main.py", "common.py", "__main__.py", "__init__.py"}:
            continue
        for name, value in _top_level_names(p).items():
            if isinstance(value, ast.Call) and ast.unparse(value.func) == "typer.Typer":
                on_disk.add(f"{_module(p)}:{name}")
    # Sub-apps added to another app in their own module are reached through it.
    nested = {f"{_module(p)}:{n.args[0].id}" for p in SRC.rglob("*.py") for n in ast.walk(ast.parse(p.read_text("utf-8")))
              if isinstance(n, ast.Call) and ast.unparse(n.func).endswith(".add_typer") and n.args
              and isinstance(n.args[0], ast.Name)}
    assert on_disk - nested == {r for r in mounted if isinstance(bootstrap.resolve(r), typer.Typer)}


def test_every_job_is_listed_and_runs_by_name() -> None:
    on_disk = set()
    for p in SRC.glob("*/jobs.py"):
        for node in ast.parse(p.read_text("utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and \
                    [a.arg for a in node.args.args] == ["url"] and not node.args.kwonlyargs:
                on_disk.add(node.name)
    assert on_disk == set(bootstrap.job_names())
    assert all(callable(bootstrap.job(n)) for n in bootstrap.job_names())


def test_policies_load_in_dependency_order() -> None:
    keys = [k for k, _ in bootstrap.policies()]
    assert keys[0] == "catalog"  # every other policy names the catalogue's items
    assert set(keys) == {"catalog", "lists", "measures", "commitments", "warning_rules", "supervision_policies"}


def test_the_warnings_seam_is_wired_by_the_root_not_by_an_import() -> None:
    measures = import_module("creditgov.measures.service")
    provider = bootstrap.resolve(bootstrap.domain("alerts").seams[0].provider)
    bootstrap.wire()
    assert provider in measures.WARNING_SOURCES
    source = (SRC / "alerts").rglob("*.py")
    assert not any("register_warning_source" in p.read_text("utf-8") for p in source)


def test_the_repair_type_seam_lets_commitments_refuse_the_repair_template() -> None:
    commitments = import_module("creditgov.commitments.service")
    bootstrap.wire()
    provider = bootstrap.resolve(bootstrap.domain("workflows").seams[0].provider)
    assert commitments.REPAIR_TYPE_SOURCES == [provider]


def test_the_command_shows_every_mounted_group() -> None:
    out = CliRunner().invoke(cli_app, ["--help"]).output
    for c in bootstrap.commands():
        if c.name:
            assert c.name in out
    for name in ("init", "status", "generate", "serve", "evaluate", "own-view"):
        assert name in out


def test_the_working_day_seam_gives_lists_the_objection_calendar() -> None:
    lists = import_module("creditgov.lists.service")
    bootstrap.wire()
    assert bootstrap.resolve("creditgov.workflows.calendar:add_working_days") in lists._WORKING_DAYS
