"""Every command that writes a file checks, before it acts, that it can write there
(SQLite and PostgreSQL): a missing folder, a folder given for a file, a file inside a
file are refused in one line (`cli.common.writable`) and nothing is issued, numbered or
put on the audit chain — a report nobody received leaves no `report.download`, a print
nobody received no `documents.print`. A write that still fails after the check (a full
disk: /dev/full) rolls the act back with it. The reviewer's cases: `report --out
/nonexistent/dir/x.pdf`, `documents inspections --out /nonexistent/a.pdf`,
`statistics form --xlsx /nonexistent/x.xlsx`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.documents.test_inspection_notices import POLICY, ROSTER
from tests.lists.helpers import make_subject

from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.lists import service as lists_service
from creditgov.reports.models import CreditReport
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision.schemas import InspectorsFile

FULL = Path("/dev/full")   # opens for writing; every write fails (ENOSPC)


def _acts(url: str) -> tuple[int, int]:
    """What acting leaves behind: audit entries and issued reports or documents (the
    store's key recorded at its first use, by whichever command, aside)."""
    with db.session_scope(url) as s:
        return (s.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action != "store.key_recorded")) or 0,
                s.scalar(select(func.count()).select_from(CreditReport)) or 0)


@pytest.fixture
def scene(county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A firm, a notified serious-dishonesty entry and a random draw with tasks."""
    key = tmp_path / "outputs.key"
    create_key_file(key)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    with db.session_scope(county) as s:
        supervision_service.load_policies(s, path=policy_file, actor="test")
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        firm = make_subject(s, name="输出测试有限公司")
        e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="manual",
                                  basis="测试认定", decision_no=f"T-{firm.id}")
        lists_service.notify(s, entry_id=e.id)
        firm_id = firm.id
    with db.session_scope(county) as s:
        draw_id = int(supervision_draws.draw(s, policy_name="notice-test", seed="20261101", actor="test")["draw_id"])
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    return {"url": county, "firm": firm_id, "draw": draw_id, "tmp": tmp_path}


def _commands(scene: dict[str, object], out: Path) -> list[tuple[str, list[str]]]:
    """(the option, the command line) of every command that writes a file, aimed at `out`
    (a suffix each command takes is added)."""
    firm, draw = str(scene["firm"]), str(scene["draw"])
    pdf, xlsx, csv, js, png = (out.with_name(out.name + s) for s in (".pdf", ".xlsx", ".csv", ".json", ".png"))
    return [
        ("--out", ["report", firm, "--out", str(pdf)]),
        ("--out", ["documents", "inspections", "--draw", draw, "--out", str(pdf)]),
        ("--out", ["documents", "notices", "--list", "serious-dishonesty", "--out", str(pdf)]),
        ("--out", ["documents", "decisions", "--kind", "objection", "--out", str(pdf)]),
        ("--xlsx", ["statistics", "form", "--xlsx", str(xlsx)]),
        ("--pdf", ["statistics", "form", "--pdf", str(pdf)]),
        ("--out", ["supervise", "tasks", "--out", str(xlsx)]),
        ("--out", ["supervise", "inputs", draw, "--out", str(js)]),
        ("--xlsx", ["campaign", "show", "1", "--xlsx", str(xlsx)]),   # refused before the campaign is looked up
        ("--out", ["complaints", "list", "--out", str(csv)]),
        ("--out", ["complaints", "stats", "--out", str(csv)]),
        ("--out", ["lists", "entries", "--out", str(csv)]),
        ("--out", ["alerts", "list", "--out", str(csv)]),
        ("--out", ["exchange", "packages", "--out", str(csv)]),
        ("--out", ["analyse", "colours", "--out", str(xlsx)]),
        ("--png", ["code", "issue", firm, "--png", str(png)]),        # before a code is signed and audited
        ("--out", ["code", "trust", "export", "--out", str(js)]),
        ("--out", ["model", "schema", "--out", str(js)]),
    ]


def _folder_commands(out: Path) -> list[tuple[str, list[str]]]:
    """The commands that write a folder, or a file in a folder they make when missing."""
    return [("--out", ["generate", "--out", str(out), "--subjects", "1000"]),
            ("--chart", ["analyse", "colours", "--chart", str(out.with_name(out.name + ".png"))]),
            ("--out", ["finance", "bank-spec", "repayments", "--bank", "nosuch", "--out", str(out)]),
            ("OUT", ["finance", "export-records", str(out)])]


def test_an_unwritable_path_is_refused_before_anything_is_done(scene: dict[str, object], cli) -> None:
    url, tmp = str(scene["url"]), scene["tmp"]
    assert isinstance(tmp, Path)
    a_file = tmp / "a-file"
    a_file.write_text("x", encoding="utf-8")
    before = _acts(url)
    cases = [(tmp / "nonexistent" / "dir" / "x", "does not exist"),   # the reviewer's missing folder
             (a_file / "x", "not a folder")]                       # a "folder" that is a file
    for target, why in cases:
        folders = _folder_commands(target) if why == "not a folder" else []   # a missing one is made
        for option, args in _commands(scene, target) + folders:
            with pytest.raises(InvalidInput) as got:                  # `run()` prints it in one line, exit 2
                cli("--db", url, *args)
            said = str(got.value)
            assert said.startswith(f"{option} ") and why in said and "\n" not in said, (args, said)
    # A folder where a file is wanted.
    for args in (["report", str(scene["firm"]), "--out", str(tmp)],
                 ["documents", "inspections", "--draw", str(scene["draw"]), "--out", str(tmp)],
                 ["statistics", "form", "--pdf", str(tmp)]):
        with pytest.raises(InvalidInput, match="that is a folder"):
            cli("--db", url, *args)
    assert _acts(url) == before                                       # nothing issued, nothing audited
    assert not (tmp / "nonexistent").exists()


def test_a_write_that_fails_after_the_check_records_nothing(scene: dict[str, object], cli) -> None:
    url = str(scene["url"])
    before = _acts(url)
    for args in (["report", str(scene["firm"]), "--out", str(FULL)],
                 ["documents", "inspections", "--draw", str(scene["draw"]), "--out", str(FULL)],
                 ["documents", "notices", "--list", "serious-dishonesty", "--out", str(FULL)]):
        with pytest.raises(InvalidInput, match="cannot write there"):
            cli("--db", url, *args)
    assert _acts(url) == before                                       # the act rolled back with the file


def test_a_written_report_and_print_are_recorded_once(scene: dict[str, object], cli) -> None:
    url, tmp = str(scene["url"]), scene["tmp"]
    assert isinstance(tmp, Path)
    audits, issued = _acts(url)
    r = cli("--db", url, "report", str(scene["firm"]), "--out", str(tmp / "r.pdf"))
    assert r.exit_code == 0, r.output
    r = cli("--db", url, "documents", "inspections", "--draw", str(scene["draw"]), "--out", str(tmp / "n.pdf"))
    assert r.exit_code == 0, r.output
    assert (tmp / "r.pdf").read_bytes().startswith(b"%PDF") and (tmp / "n.pdf").read_bytes().startswith(b"%PDF")
    with db.session_scope(url) as s:
        actions = list(s.execute(select(AuditEntry.action).order_by(AuditEntry.id).offset(audits)).scalars())
        printed = s.scalar(select(func.count()).select_from(CreditReport))
    assert actions.count("report.download") == 1 and actions.count("documents.print") == 1, actions
    assert printed is not None and printed > issued


def test_the_command_says_it_in_one_line(tmp_path: Path) -> None:
    """Through the installed entry point: no traceback, one line, exit code 2."""
    env = {**os.environ, "CREDITGOV_DB": str(tmp_path / "cg.db")}
    env.pop("CREDITGOV_KEY_FILE", None)
    run = [sys.executable, "-m", "creditgov.cli"]
    assert subprocess.run([*run, "init"], env=env, capture_output=True, text=True, timeout=300).returncode == 0
    for args in (["statistics", "form", "--xlsx", "/nonexistent/x.xlsx"],
                 ["report", "1", "--out", "/nonexistent/dir/x.pdf"]):
        res = subprocess.run([*run, *args], env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "/nonexistent" in lines[0], lines
