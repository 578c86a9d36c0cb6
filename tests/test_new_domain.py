"""Adding a domain touches its own folder and one `Domain(...)` entry, nothing else.

`tests/fixtures/toy_domain/toy/` is a whole small domain — tables and a migration,
API routes, a page with its template and English translation, a menu entry, a
permission, a command and a worker job. A fresh interpreter adds it to the package and
one entry to the composition root, and every part must then work through the
product's own edges: `init`'s schema upgrade, the application factory, the command
root and the job runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

TOY = Path(__file__).parent / "fixtures" / "toy_domain"

SCRIPT = textwrap.dedent('''
    import sys
    import creditgov
    from creditgov.core import schema
    # The toy's migration goes next in the one revision chain, after today's head.
    head = schema.heads()[0]
    migrations = sys.argv[1] + "/toy/migrations"
    template = open(migrations + "/toy_migration.py.tmpl", encoding="utf-8").read()
    open(migrations + "/9999_toy.py", "w", encoding="utf-8").write(template.replace("{head}", head))
    creditgov.__path__.append(sys.argv[1])   # the toy folder beside the package's own
    from creditgov import bootstrap
    from creditgov.bootstrap import Command, Domain
    bootstrap.DOMAINS = (*bootstrap.DOMAINS, Domain(
        "toy", layer=6, models=("creditgov.toy.models",), api=("creditgov.toy.views:router",),
        pages=("creditgov.toy.pages",), commands=(Command("creditgov.toy.cli:app", "toy"),),
        jobs=(("toy_count", "creditgov.toy.jobs:toy_count"),),
        permissions="creditgov.toy.permissions:PERMISSIONS", nav=(("/toy", "玩具", "toy.read"),)))

    import pyotp
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from creditgov.api.app import create_app
    from creditgov.core import db
    from creditgov.security import mfa, users
    from creditgov.security.crypto import create_key_file
    from creditgov.worker import jobs

    from pathlib import Path
    url, key = sys.argv[2], Path(sys.argv[3])
    bootstrap.wire()
    ring = create_key_file(key)
    schema.upgrade(url)
    assert schema.current_revision(url) == "9999_toy", schema.current_revision(url)
    assert "toy_notes" in bootstrap.metadata().tables
    with db.session_scope(url) as s:
        admin = users.create_user(s, username="admin", password="correct horse battery", role="admin", actor="test")
        totp_key = mfa.enrol_now(s, ring, admin, actor="test")[0].secret
        grid = users.create_user(s, username="bank", password="correct horse battery", role="bank_officer",
                                 organisation="a-bank", actor="test")
        grid_token, _ = users.issue_token(s, user_id=grid.id, name="t", actor="test")

    c = TestClient(create_app(url, key), base_url="https://testserver")
    assert c.post("/api/v1/auth/login", json={"username": "admin", "password": "correct horse battery",
                                              "code": pyotp.TOTP(totp_key).now()}).status_code == 200
    csrf = c.get("/api/v1/auth/me").json()["csrf_token"]
    assert c.post("/api/v1/toy/notes", params={"text": "<b>x</b>"}, headers={"X-CSRF-Token": csrf}
                  ).status_code == 201
    assert c.get("/api/v1/toy/notes/count").json() == {"count": 1}
    assert c.get("/api/v1/toy/notes/count", headers={"Authorization": f"Bearer {grid_token}"}
                 ).status_code == 403   # the domain's own permission row holds
    assert "toy_count" in c.get("/api/v1/openapi.json").text
    page = c.get("/toy")
    assert page.status_code == 200 and "玩具笔记: 1" in page.text and 'href="/toy"' in page.text
    c.cookies.set("cg_lang", "en")
    english = c.get("/toy").text
    assert "Toy notes: 1" in english and ">Toy<" in english, english[-2000:]

    from creditgov.cli.main import app
    out = CliRunner().invoke(app, ["--db", url, "toy", "count"])
    assert out.exit_code == 0 and "toy notes: 1" in out.output, out.output
    run = jobs.run_job(url, "toy_count")
    assert run.status == "done" and run.result == {"notes": 1}, (run.status, run.error)
    print("toy domain: every part works")
''')


def test_a_domain_in_its_own_folder_and_one_root_entry_works_everywhere(tmp_path: Path) -> None:
    script = tmp_path / "toy_check.py"
    script.write_text(SCRIPT, "utf-8")
    toy = tmp_path / "toy_domain"
    shutil.copytree(TOY, toy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "CREDITGOV_TODAY": "2026-11-01"}
    out = subprocess.run([sys.executable, str(script), str(toy), f"sqlite:///{tmp_path / 'toy.db'}",
                          str(tmp_path / "toy.key")], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "toy domain: every part works" in out.stdout
