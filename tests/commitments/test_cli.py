"""`creditgov commitment sign` passes through the same rules as the API and the pages
(`commitments.service.sign_commitment`): the credit-repair commitment is not signed
through this door, the signer agrees to the text, and one recorded at the window names
who signed. Each refusal is the API's own answer to the same request, word for word;
the real command line runs as a user runs it, in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.commitments.models import Commitment
from creditgov.core import db
from tests.api.conftest import client_for
from tests.api.county import TODAY, County, build

REPAIR_TEMPLATE = "credit-repair"
SIGNABLE = "notification-commitment"
SUBJECT = "3"  # a subject with no commitment in the mini county (see tests/commitments/test_views.py)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    tmp = tmp_path_factory.mktemp("commitments-cli")
    return build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key", evaluate=False)


def _cg(county: County, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CREDITGOV_DB": county.url, "CREDITGOV_KEY_FILE": str(county.key_file),
           "CREDITGOV_TODAY": TODAY, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "creditgov.cli", *args], cwd=Path(county.key_file).parent,
                          env=env, capture_output=True, text=True, timeout=300)


def _api_refusal(county: County, body: dict[str, object]) -> str:
    """What the API answers the credit office's window for the same request (422)."""
    headers = {"Authorization": f"Bearer {county.tokens['credit_office']}"}
    r = client_for(county).post(f"/api/v1/subjects/{SUBJECT}/commitments", json=body, headers=headers)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    return detail


def _cli_refusal(county: County, *args: str) -> str:
    res = _cg(county, "commitment", "sign", SUBJECT, *args)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    err = " ".join(res.stderr.split())
    assert err.startswith("error: "), res.stderr
    return err.removeprefix("error: ")


def _count(county: County) -> int:
    with db.session_scope(county.url) as s:
        return s.execute(select(func.count(Commitment.id))).scalar_one()


def test_the_cli_refuses_the_repair_commitment_with_the_apis_message(county: County) -> None:
    before = _count(county)
    api = _api_refusal(county, {"template": REPAIR_TEMPLATE, "agree": True, "signed_by": "法定代表人"})
    assert api.startswith(f"{REPAIR_TEMPLATE} is the credit-repair commitment: it is signed with a repair")
    cli = _cli_refusal(county, "--template", REPAIR_TEMPLATE, "--agree", "--signed-by", "法定代表人")
    assert cli == api
    assert _count(county) == before


def test_the_cli_asks_for_agreement_and_the_signer_like_the_api(county: County) -> None:
    before = _count(county)
    api = _api_refusal(county, {"template": SIGNABLE, "agree": False, "signed_by": "负责人"})
    assert _cli_refusal(county, "--template", SIGNABLE, "--signed-by", "负责人") == api
    assert "agree" in api
    api = _api_refusal(county, {"template": SIGNABLE, "agree": True})
    assert _cli_refusal(county, "--template", SIGNABLE, "--agree") == api
    assert "signed_by" in api
    assert _count(county) == before

    res = _cg(county, "commitment", "sign", SUBJECT, "--template", SIGNABLE, "--agree", "--signed-by", "负责人",
              "--actor", "window:clerk", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["template"], out["subject_id"], out["signed_by"], out["status"]) == (SIGNABLE, 3, "负责人", "signed")
    with db.session_scope(county.url) as s:
        row = s.get(Commitment, out["id"])
        assert row is not None and row.actor == "window:clerk"
