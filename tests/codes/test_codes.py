"""The credit code on real stores (SQLite and PostgreSQL): issue and verify, expiry,
revocation by grade drop, list entry and by hand, an issuer outside the trust list,
the trust list's root signature, key rotation, and mutual recognition in the credit
check."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import zlib
from pathlib import Path

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditgov.codes import envelope, keys, revocation, service, trust
from creditgov.codes.models import IssuedCode
from creditgov.core import clock, db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.measures import service as measures_service
from creditgov.security.crypto import KeyRing, create_key_file
from tests import store_template
from tests.codes.helpers import graded_firm, graded_firms, region_key, regrade, share_trust
from tests.lists.helpers import load_domain_data, publish_manual_entry

HOSTILE = "\"><img src=x onerror=alert(2)>长兴\u202e恶意'标记'有限公司" + "𠀀" * 40


def _issue(url: str, ring: KeyRing, subject_id: int) -> service.Issued:
    with db.session_scope(url) as s:
        return service.issue(s, ring, subject_id=subject_id, actor="test")


def _verify(url: str, text: str) -> dict:
    with db.session_scope(url) as s:
        return service.verify(s, text)


@pytest.fixture
def other(tmp_path: Path) -> tuple[str, KeyRing]:
    """A second region's store (SQLite), with the shipped lists and measures."""
    url = f"sqlite:///{tmp_path / 'other.db'}"
    store_template.fill(url)
    with db.session_scope(url) as s:
        load_domain_data(s)
    return url, create_key_file(tmp_path / "other.key")


def test_issue_verify_expire(county: str, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    region_key(county, keyring, "330522", "长兴县")
    sid, uscc = graded_firm(county, name=HOSTILE)
    issued = _issue(county, keyring, sid)
    assert issued.text.startswith("CGV1:")
    assert set(issued.text[5:]) <= set(envelope._B45)  # the QR alphanumeric alphabet
    out = _verify(county, issued.text)
    assert out["status"] == "valid" and out["status_zh"] == "有效"
    st = out["states"]
    assert (st["name"], st["identifier"], st["grade"], st["band"], st["colour"]) == (HOSTILE, uscc, "A", "excellent",
                                                                                      "green")
    assert (st["issuer"], st["issuer_name"], st["model"]) == ("330522", "长兴县", "public-credit-enterprise")
    assert st["band_zh"] == "优秀(守信)" and st["kind_en"] == "Enterprise" and st["code_id"] == issued.code_id
    assert st["issued_at"].endswith("(UTC+8)")
    # The validity is the policy's 24 hours: one second before, valid; at expiry, expired.
    with db.session_scope(county) as s:
        v = service.verifier(s)
    assert v.verify(issued.text, now=issued.expires_at - dt.timedelta(seconds=1))["status"] == "valid"
    assert v.verify(issued.text, now=issued.expires_at)["status"] == "expired"
    monkeypatch.setenv("CREDITGOV_NOW", (issued.expires_at + dt.timedelta(minutes=1)).isoformat())
    assert _verify(county, issued.text)["status"] == "expired"
    # Issuing was audited, and the private key is stored only encrypted.
    with db.session_scope(county) as s:
        from sqlalchemy import select

        from creditgov.codes.models import CodeSigningKey
        from creditgov.security.models import AuditEntry

        actions = set(s.execute(select(AuditEntry.action)).scalars())
        assert {"code.issue", "code.key.create"} <= actions
        row = s.execute(select(CodeSigningKey)).scalar_one()
        assert row.private_key.startswith(keyring.key_id + ":")


def test_tampered_and_malformed_codes_are_invalid(county: str, keyring: KeyRing) -> None:
    region_key(county, keyring, "330522", "长兴县")
    sid, _ = graded_firm(county)
    text = _issue(county, keyring, sid).text
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[5:])))
    protected, unprotected, payload, sig = cose.value
    claims = cbor2.loads(payload)
    claims[envelope.CLAIM]["g"] = "A+"
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps(claims), sig]))
    forged_text = "CGV1:" + base45.b45encode(zlib.compress(forged)).decode()
    assert _verify(county, forged_text)["status"] == "invalid"
    bomb = "CGV1:" + base45.b45encode(zlib.compress(b"\0" * 100_000)).decode()
    for bad in ("hello", "CGV1:", "CGV1:!!!", "CGV1:" + base45.b45encode(b"not zlib").decode(), bomb,
                "CGV1:" + "A" * 5000):
        assert _verify(county, bad)["status"] == "invalid", bad


def test_fast_base45_matches_the_library() -> None:
    for n in range(0, 130):
        data = os.urandom(n)
        assert envelope.b45encode(data) == base45.b45encode(data).decode()


def test_revocation_by_grade_drop_list_and_hand(county: str, keyring: KeyRing,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    region_key(county, keyring, "330522", "长兴县")
    (dropped, _), (listed, _), (steady, _), (by_hand, _) = graded_firms(county, ["A", "A", "B", "A"])
    codes = {sid: _issue(county, keyring, sid) for sid in (dropped, listed, steady, by_hand)}
    assert all(c.states["b"] in ("excellent", "good") for c in codes.values())
    regrade(county, {dropped: "C", listed: "A", steady: "A", by_hand: "A"})
    publish_manual_entry(county, monkeypatch, "key-attention", listed, start="2026-11-01")
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s:
        revocation.revoke(s, codes[by_hand].code_id, reason="manual", actor="test")
        swept = revocation.sweep(s, actor="test")
        again = revocation.sweep(s, actor="test")
        with pytest.raises(Conflict):
            revocation.revoke(s, codes[by_hand].code_id, reason="manual", actor="test")
    assert swept["revoked"] == {"grade_drop": 1, "list_entry": 1} and again["revoked"] == {}
    monkeypatch.delenv("CREDITGOV_TODAY")
    monkeypatch.setenv("CREDITGOV_NOW", (codes[steady].issued_at + dt.timedelta(hours=1)).isoformat())
    got = {sid: _verify(county, c.text)["status"] for sid, c in codes.items()}
    assert got == {dropped: "revoked", listed: "revoked", steady: "valid", by_hand: "revoked"}
    # The published list is signed by the region's key and names exactly the revoked ids.
    with db.session_scope(county) as s:
        doc = revocation.own_list(s, keyring, actor="test")
        assert doc is not None
        kid = keys.active(s).kid  # type: ignore[union-attr]  # made above
        t = trust.trusted(s)[kid]
    raw = base64.b64decode(doc["payload"])
    t.key.verify(base64.b64decode(doc["signature"]), raw)
    assert sorted(json.loads(raw)["revoked"]) == sorted(codes[s_].code_id for s_ in (dropped, listed, by_hand))


def test_repair_revokes(county: str, keyring: KeyRing) -> None:
    region_key(county, keyring, "330522", "长兴县")
    sid, _ = graded_firm(county)
    code = _issue(county, keyring, sid)
    with db.session_scope(county) as s:
        from creditgov.subjects.models import Subject
        from creditgov.workflows.models import RepairApplication
        from tests.lists.helpers import add_record

        subj = s.get(Subject, sid)
        rec = add_record(s, subj, next(iter(_negative_item(s))), occurred_on=dt.date(2026, 1, 5))
        now = clock.now() + dt.timedelta(seconds=5)
        s.add(RepairApplication(subject_id=sid, record_id=rec.id, channel="online", actor="test",
                                applied_on=dt.date(2026, 11, 1), status="approved", eligibility={},
                                department_code="market", created_at=now, updated_at=now))
    # The worker's job does the sweep (and a second run finds nothing new).
    from creditgov.codes.jobs import code_revocations

    assert code_revocations(county)["revoked"] == {"repair": 1}
    assert code_revocations(county)["revoked"] == {}
    assert _verify(county, code.text)["status"] == "revoked"


def _negative_item(s) -> list[str]:  # noqa: ANN001 - a session
    from sqlalchemy import select

    from creditgov.catalog.models import CatalogItem

    return list(s.execute(select(CatalogItem.code).where(CatalogItem.polarity == "negative")).scalars())


def test_unknown_issuer_until_the_province_list_is_imported(county: str, keyring: KeyRing, other, tmp_path: Path
                                                            ) -> None:
    other_url, other_ring = other
    region_key(county, keyring, "330522", "长兴县")
    region_key(other_url, other_ring, "330501", "吴兴区")
    sid, _ = graded_firm(county)
    text = _issue(county, keyring, sid).text
    assert _verify(other_url, text)["status"] == "unknown_issuer"
    root_file = tmp_path / "root.key"
    trust.root_create(root_file)
    share_trust(root_file, [county, other_url], [county, other_url])
    out = _verify(other_url, text)
    assert out["status"] == "valid" and out["states"]["issuer_name"] == "长兴县"
    # B's verifier learns A's revocations only from A's signed list.
    with db.session_scope(county) as s:
        code_id = s.execute(__import__("sqlalchemy").select(IssuedCode.code_id)).scalar_one()
        revocation.revoke(s, code_id, reason="manual", actor="test")
        doc = json.dumps(revocation.own_list(s, keyring, actor="test"))
    assert _verify(other_url, text)["status"] == "valid"
    with db.session_scope(other_url) as s:
        revocation.import_list(s, doc, actor="test")
    assert _verify(other_url, text)["status"] == "revoked"
    # A list signed by a key outside the trust list, or altered, is refused.
    stranger = Ed25519PrivateKey.generate()
    from creditgov.codes import documents

    fake = documents.sign(documents.REVOCATIONS, {"issuer": "330522", "issued_at": 1, "revoked": []}, stranger,
                          kid="00" * 8)
    altered = json.loads(doc)
    altered["payload"] = base64.b64encode(json.dumps({"issuer": "330522", "issued_at": 2 ** 31 - 1,
                                                      "revoked": []}).encode()).decode()
    with db.session_scope(other_url) as s:
        for bad in (json.dumps(fake), json.dumps(altered)):
            with pytest.raises(InvalidInput):
                revocation.import_list(s, bad, actor="test")


def test_trust_list_root_signature(county: str, keyring: KeyRing, other, tmp_path: Path) -> None:
    other_url, other_ring = other
    region_key(county, keyring, "330522", "长兴县")
    (tmp_path / "root.key").exists() or trust.root_create(tmp_path / "root.key")
    text = share_trust(tmp_path / "root.key", [county], [other_url])
    doc = json.loads(text)
    with db.session_scope(other_url) as s:
        root_pub = trust.pinned_root(s).public_key  # type: ignore[union-attr]  # pinned by share_trust
    # Altered payload: refused.
    payload = json.loads(base64.b64decode(doc["payload"]))
    payload["keys"][0]["issuer_name"] = "<b>假冒</b>"
    tampered = {**doc, "payload": base64.b64encode(json.dumps(payload).encode()).decode()}
    # Signed by another root: refused, and the pinned root is never replaced.
    trust.root_create(tmp_path / "rogue.key")
    rogue = trust.root_load(tmp_path / "rogue.key")
    with db.session_scope(county) as s:
        rogue_doc = trust.export(s, root_key=rogue, actor="test")
    with db.session_scope(other_url) as s:
        with pytest.raises(InvalidInput, match="signature"):
            trust.import_list(s, json.dumps(tampered), actor="test")
        with pytest.raises(InvalidInput, match="signature"):
            trust.import_list(s, json.dumps(rogue_doc), actor="test")
        with pytest.raises(Conflict):
            trust.import_list(s, json.dumps(rogue_doc), root=keys.b64(keys.raw_public(rogue.public_key())),
                              actor="test")
        assert trust.pinned_root(s).public_key == root_pub  # type: ignore[union-attr]  # pinned
    # An older list than the one in force is refused (no rollback to a list with a
    # withdrawn key).
    older = json.loads(text)
    p2 = json.loads(base64.b64decode(older["payload"]))
    p2["issued_at"] -= 10
    raw = json.dumps(p2).encode()
    older = {**older, "payload": base64.b64encode(raw).decode(),
             "signature": base64.b64encode(trust.root_load(tmp_path / "root.key").sign(raw)).decode()}
    with db.session_scope(other_url) as s, pytest.raises(Conflict, match="older"):
        trust.import_list(s, json.dumps(older), actor="test")


def test_rotation_keeps_old_codes_valid(county: str, keyring: KeyRing, other, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    other_url, _ = other
    first = region_key(county, keyring, "330522", "长兴县")
    sid, _ = graded_firm(county)
    old = _issue(county, keyring, sid)
    with db.session_scope(county) as s:
        second = keys.rotate(s, keyring, actor="test").kid
    new = _issue(county, keyring, sid)
    assert first != second
    trust.root_create(tmp_path / "root.key")
    share_trust(tmp_path / "root.key", [county], [other_url])
    for url in (county, other_url):
        assert _verify(url, old.text)["states"]["kid"] == first
        assert _verify(url, old.text)["status"] == "valid"
        assert _verify(url, new.text)["states"]["kid"] == second
        assert _verify(url, new.text)["status"] == "valid"
    # Once every code of the retired key has expired, the key leaves the trust list.
    monkeypatch.setenv("CREDITGOV_NOW", (old.expires_at + dt.timedelta(hours=1)).isoformat())
    with db.session_scope(county) as s:
        assert first not in trust.trusted(s) and second in trust.trusted(s)
        assert [e["kid"] for e in trust.entries(s)] == [second]


def test_mutual_recognition_in_the_credit_check(county: str, keyring: KeyRing, other, tmp_path: Path) -> None:
    """A firm graded A in region A (county) presents its code in region B (other),
    which has no grade of its own for it: B's approval check counts the excellent band
    as evidence; a scenario that recognises no foreign code, and a code naming another
    firm, do not."""
    other_url, other_ring = other
    region_key(county, keyring, "330522", "长兴县")
    region_key(other_url, other_ring, "330501", "吴兴区")
    (sid, uscc), (elsewhere, _) = graded_firms(county, ["A", "A"])
    with db.session_scope(other_url) as s:
        from tests.lists.helpers import make_subject

        local = make_subject(s, kind="enterprise", name="同一企业")
        local.uscc = uscc
        local_id = local.id
    trust.root_create(tmp_path / "root.key")
    share_trust(tmp_path / "root.key", [county, other_url], [county, other_url])
    text = _issue(county, keyring, sid).text
    wrong = _issue(county, keyring, elsewhere).text
    with db.session_scope(other_url) as s:
        plain = measures_service.check(s, scenario="administrative-approval", subject_id=local_id, actor="test")
        with_code = measures_service.check(s, scenario="administrative-approval", subject_id=local_id,
                                           actor="test", evidence=text)
        other_firm = measures_service.check(s, scenario="administrative-approval", subject_id=local_id,
                                            actor="test", evidence=wrong)
        unrecognised = measures_service.check(s, scenario="export-tax-refund", subject_id=local_id, actor="test",
                                              evidence=text)
    assert plain.band is None and "fast-track-approval" not in {m["code"] for m in plain.measures}
    assert with_code.evidence is not None and with_code.evidence["accepted"] and with_code.band == "excellent"
    assert "fast-track-approval" in {m["code"] for m in with_code.measures}
    assert other_firm.evidence is not None and not other_firm.evidence["accepted"]
    assert "another subject" in other_firm.evidence["why"] and other_firm.band is None
    assert unrecognised.evidence is not None and not unrecognised.evidence["accepted"]
    # In its own region a code is no evidence: the check reads the grade there.
    with db.session_scope(county) as s:
        own = measures_service.check(s, scenario="administrative-approval", subject_id=sid, actor="test",
                                     evidence=text)
    assert own.evidence is not None and not own.evidence["accepted"] and own.band == "excellent"


def test_the_policy_file_is_validated() -> None:
    from creditgov.codes.schemas import POLICY
    from creditgov.core.errors import ConfigError

    shipped = POLICY.shipped()
    assert shipped.validity_hours == 24 and shipped.recognition["administrative-approval"].bands == ["excellent",
                                                                                                     "good"]
    for old, new, words in (("social_org: []", "socialorg: []", "unknown subject kinds"),
                            ("bands: [excellent]", "bands: [superb]", "unknown band"),
                            ("validity_hours: 24", "validity_hours: 0", "validity_hours")):
        with pytest.raises(ConfigError, match=words):
            POLICY.parse(POLICY.text().replace(old, new))


def test_a_persons_code_shows_name_and_id_masked(county: str, keyring: KeyRing) -> None:
    import datetime as dt_

    from tests.lists.helpers import add_run, make_subject

    region_key(county, keyring, "330522", "长兴县")
    with db.session_scope(county) as s:
        p = make_subject(s, kind="individual", name="张小三")
        p.resident_id = keyring.encrypt("330522199001011234")
        p.resident_id_index = keyring.blind_index("330522199001011234")
        p.resident_id_masked = "330***********1234"
        add_run(s, "community-resident", dt_.date(2026, 10, 31), [(p, "AAA", "green")])
        sid = p.id
    issued = _issue(county, keyring, sid)
    out = _verify(county, issued.text)
    assert out["status"] == "valid"
    assert (out["states"]["name"], out["states"]["identifier"]) == ("张*三", "330***********1234")
    inside = cbor2.loads(envelope.open_text(issued.text).signed)  # everything the signature covers
    assert b"199001011234" not in inside[3] and "张小三".encode() not in inside[3]
