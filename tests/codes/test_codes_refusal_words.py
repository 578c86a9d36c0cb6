"""The refusals of the credit code's pages in the reader's language, from the label
catalogue: a code asked for where no region can issue one, a signing key that does not
match its public key, and the revocation list of a region that never issued a code."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from creditgov import bootstrap
from creditgov.api.app import create_app
from creditgov.codes import keys
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.web import i18n
from tests import store_template


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def test_no_region_to_issue_for_and_a_key_that_does_not_match(store: str, keyring: KeyRing) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:  # the template loads no regions
        with pytest.raises(InvalidInput, match="no region to issue codes for") as no_region:
            keys.signer(s, keyring, actor="test")
    assert i18n.refusal(no_region.value, "zh") == "系统还没有设置发放信用码的地区，暂时不能生成信用码，请联系管理员。"
    assert i18n.refusal(no_region.value, "en") == ("No region is set up to issue credit codes yet, so no code can "
                                                   "be made; ask the administrator.")
    with db.session_scope(store) as s:
        row = keys.create(s, keyring, actor="test", issuer="330522", issuer_name="长兴县")
        row.public_key = keys.b64(keys.raw_public(Ed25519PrivateKey.generate().public_key()))  # not its key
        keys._OPENED.pop(row.kid, None)
        with pytest.raises(Conflict, match="does not match its public key") as mismatch:
            keys.signer(s, keyring, actor="test")
    assert mismatch.value.params == {"kid": row.kid}
    assert i18n.refusal(mismatch.value, "zh") == ("本地区的信用码签名密钥与登记的公钥不一致，暂时不能生成信用码，"
                                                  "请联系管理员。")
    assert i18n.refusal(mismatch.value, "en") == ("This region's code signing key does not match its registered "
                                                  "public key, so no code can be made; ask the administrator.")


def test_no_revocation_list_before_a_signing_key(store: str, tmp_path: Path) -> None:
    """The public file `/codes/revocations.json` of a region without a signing key: the
    error page in the reader's language."""
    bootstrap.wire()
    key = tmp_path / "app.key"
    create_key_file(key)
    c = TestClient(create_app(store, key), base_url="https://testserver")
    for lang, words in (("zh", "本地区还没有信用码签名密钥，尚未发放过信用码，因此没有撤销清单。"),
                        ("en", "This region has no code signing key yet: it has issued no credit codes, so it has "
                               "no revocation list.")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        r = c.get("/codes/revocations.json", headers={"accept": "text/html"})
        assert r.status_code == 404 and words in r.text, r.text[:2000]
        assert i18n.error_text(404, "this region has no signing key: it has issued no codes", lang,
                               code="codes.revocations.no_key")[1] == words
