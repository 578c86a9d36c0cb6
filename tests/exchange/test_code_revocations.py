"""Code revocations travel through the exchange both ways: a region's signed revocation
list goes up to the city and down to its counties as a `code.revocations` item, is
applied once (a re-sent or older list changes nothing), and from then on the receiving
region's credit check refuses the revoked foreign code — before any verifier there
fetched the issuer's list. Receiver on SQLite and PostgreSQL, issuer on SQLite."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from creditgov.codes import revocation, service, trust
from creditgov.codes.models import ImportedRevocations
from creditgov.core import db
from creditgov.core.errors import Conflict
from creditgov.exchange import apply, channels, collect, signing
from creditgov.exchange.models import ExchangePackage, ReceivedFact
from creditgov.exchange.schemas import PeerIn
from creditgov.measures import service as measures_service
from creditgov.security.crypto import KeyRing, create_key_file
from tests import store_template
from tests.codes.helpers import graded_firm, region_key, share_trust
from tests.lists.helpers import load_domain_data, make_subject


@pytest.fixture
def city(tmp_path: Path) -> tuple[str, KeyRing]:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    store_template.fill(url)
    with db.session_scope(url) as s:
        load_domain_data(s)
    return url, create_key_file(tmp_path / "city.key")


def _bind(county: str, county_ring: KeyRing, city: str, city_ring: KeyRing) -> None:
    """The county's upper channel is the city; the city's lower channel the county."""
    with db.session_scope(county) as s:
        mine = signing.create_identity(s, county_ring, node="changxing", actor="test").public_key
    with db.session_scope(city) as s:
        theirs = signing.create_identity(s, city_ring, node="huzhou", actor="test").public_key
        channels.add_peer(s, PeerIn(channel="lower", node="changxing", public_key=mine, transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
    with db.session_scope(county) as s:
        channels.add_peer(s, PeerIn(channel="upper", node="huzhou", public_key=theirs, transport="http",
                                    address="http://127.0.0.1:9"), actor="test")


def _send(url: str, ring: KeyRing, node: str) -> list[dict]:
    """What `exchange run` packages for the peer `node`, as the envelopes that travel."""
    with db.session_scope(url) as s:
        made = collect.collect(s, ring, channels.peer_by_node(s, node), actor="test")
        return [signing.unseal(ring, p.sealed) for p in made]


def _receive(url: str, ring: KeyRing, env: dict) -> dict:
    with db.session_scope(url) as s:
        return apply.receive(s, ring, env)


def _check(url: str, subject_id: int, text: str) -> dict:
    with db.session_scope(url) as s:
        got = measures_service.check(s, scenario="administrative-approval", subject_id=subject_id, actor="test",
                                     evidence=text)
        assert got.evidence is not None
        return {**got.evidence, "band": got.band}


def test_revocations_travel_up_and_down(county: str, keyring: KeyRing, city: tuple[str, KeyRing],
                                        tmp_path: Path) -> None:
    city_url, city_ring = city
    region_key(county, keyring, "330522", "长兴县")
    region_key(city_url, city_ring, "330500", "湖州市")
    # A firm graded A in the city presents its code in the county, and the other way round.
    city_firm, city_uscc = graded_firm(city_url, "A")
    county_firm, county_uscc = graded_firm(county, "A")
    with db.session_scope(county) as s:
        here = make_subject(s, kind="enterprise", name="市里的企业")
        here.uscc = city_uscc
        city_firm_in_county = here.id
    with db.session_scope(city_url) as s:
        there = make_subject(s, kind="enterprise", name="县里的企业")
        there.uscc = county_uscc
        county_firm_in_city = there.id
    trust.root_create(tmp_path / "root.key")
    share_trust(tmp_path / "root.key", [county, city_url], [county, city_url])
    _bind(county, keyring, city_url, city_ring)
    with db.session_scope(city_url) as s:
        down_code = service.issue(s, city_ring, subject_id=city_firm, actor="test")
    with db.session_scope(county) as s:
        up_code = service.issue(s, keyring, subject_id=county_firm, actor="test")
    assert _check(county, city_firm_in_county, down_code.text)["accepted"]
    assert _check(city_url, county_firm_in_city, up_code.text)["accepted"]
    assert _send(city_url, city_ring, "changxing") == []  # nothing revoked yet: no list travels

    # Down: the city revokes its code; the county's check refuses it once the package applied.
    with db.session_scope(city_url) as s:
        revocation.revoke(s, down_code.code_id, reason="manual", actor="test")
    (down,) = _send(city_url, city_ring, "changxing")
    assert [i["kind"] for i in down["items"]] == ["code.revocations"]
    assert _check(county, city_firm_in_county, down_code.text)["accepted"]  # not yet applied
    ack = _receive(county, keyring, down)
    assert ack["applied_through"] == 1
    refused = _check(county, city_firm_in_county, down_code.text)
    assert (refused["accepted"], refused["status"], refused["band"]) == (False, "revoked", None)
    assert "revoked" in refused["why"]
    assert _receive(county, keyring, down)["duplicate"] is True  # re-sent: nothing twice
    assert _send(city_url, city_ring, "changxing") == []  # nothing new: nothing sent again

    # Up: the county revokes its code; the city learns it. It would pass the county's list
    # on to its other channels, but never back down the channel it came from.
    with db.session_scope(county) as s:
        revocation.revoke(s, up_code.code_id, reason="manual", actor="test")
    (up,) = _send(county, keyring, "huzhou")
    assert [i["kind"] for i in up["items"]] == ["code.revocations"]  # the city's list is not sent back
    assert _receive(city_url, city_ring, up)["applied_through"] == 1
    assert _check(city_url, county_firm_in_city, up_code.text)["status"] == "revoked"
    assert _send(city_url, city_ring, "changxing") == []
    # The city revokes another code: its newer list replaces the one the county holds.
    with db.session_scope(city_url) as s:
        revocation.revoke(s, service.issue(s, city_ring, subject_id=city_firm, actor="test").code_id,
                          reason="manual", actor="test")
    (newer,) = _send(city_url, city_ring, "changxing")
    older = json.loads(down["items"][0]["document"])
    newer_doc = json.loads(newer["items"][0]["document"])
    assert json.loads(base64.b64decode(newer_doc["payload"]))["issued_at"] >= \
        json.loads(base64.b64decode(older["payload"]))["issued_at"]
    assert _receive(county, keyring, newer)["applied_through"] == 2
    with db.session_scope(county) as s:
        held = {r.issuer: sorted(r.revoked) for r in s.execute(select(ImportedRevocations)).scalars()}
        assert held == {"330500": sorted(json.loads(base64.b64decode(newer_doc["payload"]))["revoked"])}
        assert down_code.code_id in held["330500"] and len(held["330500"]) == 2
    with db.session_scope(county) as s:  # the older list, arriving late, changes nothing
        try:
            assert revocation.import_list(s, json.dumps(older), actor="test")["unchanged"]
        except Conflict:
            pass
    with db.session_scope(county) as s:
        assert len(s.execute(select(ImportedRevocations.revoked)).scalar_one()) == 2
        results = {p.seq: p.result for p in s.execute(select(ExchangePackage).where(
            ExchangePackage.direction == "in")).scalars()}
        assert results == {1: {"applied": 1}, 2: {"applied": 1}}
        assert s.execute(select(ReceivedFact)).first() is None


def test_a_list_signed_by_an_untrusted_key_is_kept_as_refused(county: str, keyring: KeyRing,
                                                              city: tuple[str, KeyRing]) -> None:
    """A county whose trust list does not hold the city's key refuses the list (a
    received fact with the reason); the channel goes on."""
    city_url, city_ring = city
    region_key(city_url, city_ring, "330500", "湖州市")
    firm, _uscc = graded_firm(city_url, "A")
    _bind(county, keyring, city_url, city_ring)
    with db.session_scope(city_url) as s:
        code = service.issue(s, city_ring, subject_id=firm, actor="test")
        revocation.revoke(s, code.code_id, reason="manual", actor="test")
    (env,) = _send(city_url, city_ring, "changxing")
    assert _receive(county, keyring, env)["applied_through"] == 1
    with db.session_scope(county) as s:
        (fact,) = s.execute(select(ReceivedFact)).scalars()
        assert (fact.kind, fact.outcome) == ("code.revocations", "refused")
        assert "not in the trust list" in fact.body["reason"]
        assert json.loads(fact.body["item"]["document"])["format"] == "creditgov-revocations/1"
        assert s.execute(select(ImportedRevocations)).first() is None
