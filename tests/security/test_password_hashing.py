"""The cost of hashing passwords is the sign-in policy's (`hashing`): the shipped file
hashes at RFC 9106's second recommendation, a deployment's own file may lower it no
further than OWASP's Argon2id minimum, a file without the section keeps argon2-cffi's
figures, and a hash made at another cost is made again at its holder's next sign-in —
on SQLite and PostgreSQL, through the real API.

The rest of the suite hashes at the floor (tests/conftest.py names a policy file of
its own, as a deployment does); these tests take that file away where they need the
shipped figures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.security import passwords
from creditgov.security.accounts import User
from creditgov.security.policy import ARGON2ID_FLOOR, SIGNIN, policy
from tests.security.served import STRONG, Served, login

SHIPPED_PREFIX = "$argon2id$v=19$m=65536,t=3,p=4$"


def _own_file(tmp_path: Path, hashing: dict | None) -> Path:
    """The shipped policy with `hashing` replaced (or, with None, left out)."""
    doc = yaml.safe_load(SIGNIN.text())
    if hashing is None:
        del doc["hashing"]
    else:
        doc["hashing"] = {**doc["hashing"], **hashing}
    path = tmp_path / "signin.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_the_shipped_cost_is_rfc_9106s_and_the_suite_hashes_at_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    cheapest = min(ARGON2ID_FLOOR, key=lambda pair: pair[0] * pair[1])
    assert passwords.hash_password(STRONG).startswith(f"$argon2id$v=19$m={cheapest[0]},t={cheapest[1]},p=1$")
    monkeypatch.delenv("CREDITGOV_SIGNIN_POLICY")
    cost = policy().hashing
    assert cost is not None and (cost.memory_kib, cost.time_cost, cost.parallelism) == (65536, 3, 4)
    made = passwords.hash_password(STRONG)
    assert made.startswith(SHIPPED_PREFIX) and passwords.verify(made, STRONG)
    assert not passwords.verify(made, STRONG + " ")


@pytest.mark.parametrize(("memory_kib", "time_cost", "parallelism"), [
    (7168, 4, 1),     # 7 MiB needs 5 passes
    (9216, 3, 1),     # 9 MiB needs 4
    (19455, 2, 1),    # a KiB short of 19 MiB × 2
    (47103, 1, 1),    # a KiB short of 46 MiB × 1
    (4096, 20, 1),    # under the smallest memory, however many passes
    (65536, 0, 4),
    (65536, 3, 0),
])
def test_a_deployments_cost_below_owasps_minimum_is_refused(tmp_path: Path, memory_kib: int, time_cost: int,
                                                            parallelism: int) -> None:
    path = _own_file(tmp_path, {"memory_kib": memory_kib, "time_cost": time_cost, "parallelism": parallelism})
    with pytest.raises(ConfigError) as refused:
        SIGNIN.load(path)
    assert str(path) in str(refused.value) and "hashing" in str(refused.value)


def test_each_of_owasps_equal_minimums_is_accepted_and_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i, (memory_kib, time_cost) in enumerate(ARGON2ID_FLOOR):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = _own_file(folder, {"memory_kib": memory_kib, "time_cost": time_cost, "parallelism": 1})
        monkeypatch.setenv("CREDITGOV_SIGNIN_POLICY", str(path))
        made = passwords.hash_password(STRONG)
        assert made.startswith(f"$argon2id$v=19$m={memory_kib},t={time_cost},p=1$"), made
        assert passwords.verify(made, STRONG)


def test_a_deployments_file_without_the_section_keeps_argon2_cffis_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_SIGNIN_POLICY", str(_own_file(tmp_path, None)))
    assert policy().hashing is None
    assert passwords.hash_password(STRONG).startswith(SHIPPED_PREFIX)


def test_a_hash_made_at_another_cost_is_made_again_at_the_next_sign_in(served: Served,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    served.account("t-dept")

    def stored() -> str:
        with db.session_scope(served.url) as s:
            made = s.execute(select(User.password_hash).where(User.username == "t-dept")).scalar_one()
        assert made is not None
        return made

    cheap = stored()
    assert not cheap.startswith(SHIPPED_PREFIX)
    monkeypatch.delenv("CREDITGOV_SIGNIN_POLICY")  # the deployment raises the cost to the shipped one
    assert login(served.client(), "t-dept", "wrong password").status_code == 401
    assert stored() == cheap  # a failed sign-in changes nothing
    assert login(served.client(), "t-dept").status_code == 200
    again = stored()
    assert again.startswith(SHIPPED_PREFIX) and again != cheap
    assert login(served.client(), "t-dept").status_code == 200  # and the new hash is the password's
    assert login(served.client(), "nobody-here").status_code == 401
