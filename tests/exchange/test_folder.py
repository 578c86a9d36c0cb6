"""The drop folder between two stores (a county and its city): a package is written
whole or not at all (temp file + rename), read in order, applied once, moved to done/,
and acknowledged through the folder; a file dropped again changes nothing, a half
written one is never read, and one not signed by the peer goes to rejected/."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.catalog.models import CatalogItem
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.exchange import channels, service, signing
from creditgov.exchange.models import ExchangePackage, ExchangePeer
from creditgov.exchange.schemas import PeerIn
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing, create_key_file
from tests import store_template
from tests.lists.helpers import add_record, load_domain_data, make_subject


def _store(tmp: Path, name: str) -> tuple[str, KeyRing]:
    url = f"sqlite:///{tmp / f'{name}.db'}"
    store_template.fill(url)
    ring = create_key_file(tmp / f"{name}.key")
    with db.session_scope(url) as s:
        load_domain_data(s)
        signing.create_identity(s, ring, node=name, actor="test")
    return url, ring


def _count(url: str, q: object) -> int:
    with db.session_scope(url) as s:
        return int(s.execute(q).scalar_one())  # type: ignore[call-overload]  # a select of one count


def test_a_drop_folder_carries_packages_once(tmp_path: Path) -> None:
    county, cring = _store(tmp_path, "county")
    city, yring = _store(tmp_path, "city")
    folder = tmp_path / "shared"
    with db.session_scope(county) as s:
        ckey = signing.identity(s).public_key
    with db.session_scope(city) as s:
        ykey = signing.identity(s).public_key
    with db.session_scope(county) as s:
        channels.add_peer(s, PeerIn(channel="upper", node="city", public_key=ykey, transport="folder",
                                    address=str(folder)), actor="test")
    with db.session_scope(city) as s:
        channels.add_peer(s, PeerIn(channel="lower", node="county", public_key=ckey, transport="folder",
                                    address=str(folder)), actor="test")
    # The same firm is registered in both; the county records a new shared record.
    with db.session_scope(county) as s:
        firm = make_subject(s, name='<b>"县"</b>')
        uscc = firm.uscc
        item = s.execute(select(CatalogItem.code).where(CatalogItem.data_class == "shared")
                         .order_by(CatalogItem.code).limit(1)).scalar_one()
        nk = add_record(s, firm, item, occurred_on=dt.date(2026, 10, 1)).natural_key
    with db.session_scope(city) as s:
        twin = make_subject(s, name="市")
        twin.uscc = uscc

    out = service.run(county, cring, actor="test")["upper"]
    assert (out["packaged"], out["sent"]) == (1, 1)
    files = sorted((folder / "inbox").glob("*.json"))
    assert [f.name for f in files] == ["county-000000000001.json"]
    assert not list((folder / "inbox").glob(".tmp-*"))
    (folder / "inbox" / ".tmp-city-half.part").write_text('{"format": "creditgov.exch')  # being written

    got = service.run(city, yring, actor="test")["lower"]
    assert (got["received"], got["rejected"]) == (1, 0)
    assert (folder / "inbox" / "done" / files[0].name).exists() and not files[0].exists()
    assert _count(city, select(func.count()).select_from(CreditRecord).where(CreditRecord.natural_key == nk)) == 1

    # Dropped again (a re-sent file): nothing changes. A forged one is set aside.
    shutil.copy(folder / "inbox" / "done" / files[0].name, folder / "inbox" / files[0].name)
    forged = json.loads((folder / "inbox" / files[0].name).read_text("utf-8"))
    forged["seq"] = 2
    (folder / "inbox" / "county-000000000002.json").write_text(json.dumps(forged), "utf-8")
    again = service.run(city, yring, actor="test")["lower"]
    assert (again["received"], again["rejected"]) == (1, 1)
    assert (folder / "inbox" / "rejected" / "county-000000000002.json").exists()
    assert _count(city, select(func.count()).select_from(CreditRecord).where(CreditRecord.natural_key == nk)) == 1
    assert _count(city, select(func.count()).select_from(ExchangePackage)) == 1

    # The county reads the city's acknowledgement from the folder.
    with db.session_scope(county) as s:
        assert s.execute(select(ExchangePackage.status)).scalar_one() == "delivered"
    back = service.run(county, cring, actor="test")["upper"]
    assert back["acknowledged"] == 1
    with db.session_scope(county) as s:
        assert s.execute(select(ExchangePackage.status)).scalar_one() == "acknowledged"


def test_a_peer_address_must_fit_its_transport(tmp_path: Path) -> None:
    """A drop folder is an absolute path (a relative one would follow the server's
    working directory), an http peer is a base URL with a host, and no address holds
    control characters; a refused address adds no peer."""
    county, _ = _store(tmp_path, "county")
    with db.session_scope(county) as s:
        key = signing.identity(s).public_key
    refused = [("folder", "shared/city"), ("folder", "/srv/ex\x00change"), ("http", "http://"),
               ("http", "ftp://city.example"), ("http-pull", "https://city.example/\n"), ("carrier-pigeon", "/x")]
    for transport, address in refused:
        with db.session_scope(county) as s, pytest.raises(InvalidInput):
            channels.add_peer(s, PeerIn(channel="upper", node="city", public_key=key, transport=transport,
                                        address=address), actor="test")
    assert _count(county, select(func.count()).select_from(ExchangePeer)) == 0
    with db.session_scope(county) as s:
        channels.add_peer(s, PeerIn(channel="upper", node="city", public_key=key, transport="folder",
                                    address=str(tmp_path / "shared")), actor="test")
        with_url = channels.set_transport(s, channel_name="upper", transport="http",
                                          address="https://city.example/", actor="test")
        assert with_url.address == "https://city.example/"
        with pytest.raises(InvalidInput, match="absolute path"):
            channels.set_transport(s, channel_name="upper", transport="folder", address="relative", actor="test")
