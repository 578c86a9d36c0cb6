"""The house rules `make lint` holds really fail on a breach: a copy of the source with
one bad import (or one oversize file) must be refused, and the tree as it is accepted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def lint_imports() -> str:
    exe = BIN / "lint-imports"
    if not exe.exists():
        pytest.fail("lint-imports is not installed: `make test` installs the dev extras")
    return str(exe)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    return tmp_path


def _run(lint_imports: str, root: Path) -> subprocess.CompletedProcess[str]:
    """`make lint`'s two steps on the copy: contracts written from the copy's own
    composition root, then import-linter over the copy."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    config = subprocess.run([sys.executable, str(root / "scripts/import_contracts.py")], cwd=root, env=env,
                            capture_output=True, text=True, check=True).stdout
    (root / "importlinter.ini").write_text(config, "utf-8")
    return subprocess.run([lint_imports, "--no-cache", "--config", "importlinter.ini"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_layers_hold_and_a_breach_is_refused(lint_imports: str, tmp_path: Path) -> None:
    root = _copy(tmp_path)
    ok = _run(lint_imports, root)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Contracts: 2 kept, 0 broken." in ok.stdout

    clock = root / "src/creditgov/core/clock.py"
    clock.write_text(clock.read_text("utf-8") + "\nfrom creditgov.alerts import service as _alerts  # noqa\n", "utf-8")
    records = root / "src/creditgov/records/service.py"
    records.write_text(records.read_text("utf-8") + "\nfrom creditgov.lists import service as _lists  # noqa\n",
                       "utf-8")
    broken = _run(lint_imports, root)
    assert broken.returncode != 0
    assert "creditgov.core.clock -> creditgov.alerts" in broken.stdout
    assert "creditgov.records.service -> creditgov.lists" in broken.stdout


def test_edges_never_import_one_another(lint_imports: str, tmp_path: Path) -> None:
    root = _copy(tmp_path)
    views = root / "src/creditgov/lists/views.py"
    views.write_text(views.read_text("utf-8") + "\nfrom creditgov.subjects import views as _other  # noqa\n", "utf-8")
    broken = _run(lint_imports, root)
    assert broken.returncode != 0
    assert "creditgov.lists.views -> creditgov.subjects.views" in broken.stdout


def test_a_service_may_read_any_domains_tables(lint_imports: str, tmp_path: Path) -> None:
    root = _copy(tmp_path)
    records = root / "src/creditgov/records/service.py"
    records.write_text(records.read_text("utf-8") + "\nfrom creditgov.workflows import models as _wf  # noqa\n",
                       "utf-8")
    assert _run(lint_imports, root).returncode == 0


def test_a_new_domain_is_held_by_its_declared_layer(lint_imports: str, tmp_path: Path) -> None:
    """Listing a domain in the root is all it takes for the layers to hold it."""
    root = _copy(tmp_path)
    pkg = root / "src/creditgov/newdomain"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", "utf-8")
    (pkg / "service.py").write_text("from creditgov.workflows import service as _wf  # noqa\n", "utf-8")
    boot = root / "src/creditgov/bootstrap.py"
    text = boot.read_text("utf-8").replace('DOMAINS: tuple[Domain, ...] = (\n',
                                          'DOMAINS: tuple[Domain, ...] = (\n    Domain("newdomain", layer=4),\n')
    boot.write_text(text, "utf-8")
    broken = _run(lint_imports, root)
    assert broken.returncode != 0
    assert "creditgov.newdomain.service -> creditgov.workflows" in broken.stdout


def test_the_source_checks_refuse_an_oversize_file_and_a_silent_ignore(tmp_path: Path) -> None:
    script = ROOT / "scripts/check_sources.py"
    assert subprocess.run([sys.executable, str(script), str(ROOT / "src/creditgov")],
                          capture_output=True, text=True).returncode == 0
    (tmp_path / "big.py").write_text("x = 1\n" * 601, "utf-8")
    (tmp_path / "quiet.py").write_text("y: int = 'a'  # type: ignore[assignment]\n", "utf-8")
    (tmp_path / "said.py").write_text("y: int = 'a'  # type: ignore[assignment]  # a reason\n", "utf-8")
    (tmp_path / "migrations/versions").mkdir(parents=True)
    (tmp_path / "migrations/versions/0001_big.py").write_text("x = 1\n" * 700, "utf-8")
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "big.py: 601 lines" in out.stdout
    assert "quiet.py:1: `type: ignore[assignment]` without a reason" in out.stdout
    assert "said.py" not in out.stdout and "0001_big.py" not in out.stdout
