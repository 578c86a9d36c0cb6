from __future__ import annotations

import pytest

from creditgov.core.errors import ConfigError
from creditgov.security.crypto import create_key_file, load_key_file, mask_id, mask_name


def test_encrypt_roundtrip_and_fresh_nonce(tmp_path) -> None:
    ring = create_key_file(tmp_path / "k")
    a, b = ring.encrypt("330522199005120021"), ring.encrypt("330522199005120021")
    assert a != b and "3305" not in a
    assert ring.decrypt(a) == "330522199005120021"
    assert ring.blind_index("x") == ring.blind_index("x") != ring.blind_index("y")


def test_key_file_is_private_and_reloads(tmp_path) -> None:
    path = tmp_path / "k"
    ring = create_key_file(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    again = load_key_file(path)
    assert again.decrypt(ring.encrypt("秘密")) == "秘密"
    assert create_key_file(path).key_id == ring.key_id  # never overwritten


def test_other_key_cannot_decrypt(tmp_path) -> None:
    a, b = create_key_file(tmp_path / "a"), create_key_file(tmp_path / "b")
    with pytest.raises(ConfigError, match="encrypted with key"):
        b.decrypt(a.encrypt("x"))


def test_missing_key_file_says_run_init(tmp_path) -> None:
    with pytest.raises(ConfigError, match="creditgov init"):
        load_key_file(tmp_path / "none")


def test_masks() -> None:
    assert mask_id("33052219900512123X") == "330***********123X"
    assert mask_name("王建国") == "王*国" and mask_name("张伟") == "张*" and mask_name("欧阳小明") == "欧**明"
