"""The exchange: packages collected, signed, received and applied per second.

    .venv/bin/python benchmarks/exchange.py [--records 20000] [--db URL]

Two stores of the same kind (SQLite files under benchmarks/work/, or two PostgreSQL
schemas of `--db`): a county with `--records` new shared-class records of 2,000 firms,
and its city holding the same firms. Measures, in one process:

1. collect — the county's collector turning the records into signed packages of the
   channel's `package_items` (records/s, packages/s);
2. apply — the city receiving every package in order through `exchange.apply.receive`
   (verify, store encrypted, apply each item as a record copy, acknowledge): items/s;
3. duplicates — every package received again (nothing changes): packages/s;
4. bare Ed25519 sign + verify of the same envelopes, as the baseline of the crypto cost.

Prints the figures and writes benchmarks/results/exchange.json. Never part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from stdnum.cn import uscc as stdnum_uscc

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work" / "exchange"
RESULTS = ROOT / "results"
sys.path.insert(0, str(ROOT.parent))

from creditgov import bootstrap  # noqa: E402
from creditgov.catalog import service as catalog_service  # noqa: E402
from creditgov.catalog.models import CatalogItem  # noqa: E402
from creditgov.core import clock, db, schema  # noqa: E402
from creditgov.exchange import apply, channels, collect, signing  # noqa: E402
from creditgov.exchange.models import ExchangePackage  # noqa: E402
from creditgov.exchange.schemas import PeerIn  # noqa: E402
from creditgov.records.models import CreditRecord  # noqa: E402
from creditgov.security.crypto import KeyRing, create_key_file  # noqa: E402
from creditgov.subjects.models import Subject  # noqa: E402

FIRMS = 2000


def make_uscc(n: int) -> str:
    body = f"91330100MA{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def _store(url: str, key: Path, node: str) -> KeyRing:
    schema.upgrade(url)
    ring = create_key_file(key)
    with db.session_scope(url) as s:
        catalog_service.load_catalog(s, actor="bench")
        signing.create_identity(s, ring, node=node, actor="bench")
        now = clock.now()
        s.add_all([Subject(kind="enterprise", name=f"企业{i}", uscc=make_uscc(i), status="confirmed", attributes={},
                           created_at=now, updated_at=now) for i in range(FIRMS)])
    return ring


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--db", default=None, help="a PostgreSQL URL (two schemas are made); default SQLite files")
    a = ap.parse_args()
    bootstrap.wire()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    urls = {n: f"sqlite:///{WORK / f'{n}.db'}" for n in ("county", "city")}
    if a.db:
        import sqlalchemy as sa

        eng = sa.create_engine(a.db)
        with eng.begin() as c:
            for n in urls:
                c.execute(sa.text(f"DROP SCHEMA IF EXISTS bench_exchange_{n} CASCADE"))
                c.execute(sa.text(f"CREATE SCHEMA bench_exchange_{n}"))
        sep = "&" if "?" in a.db else "?"
        urls = {n: f"{a.db}{sep}options=-csearch_path%3Dbench_exchange_{n}" for n in urls}
    county = _store(urls["county"], WORK / "county.key", "county")
    city = _store(urls["city"], WORK / "city.key", "city")
    with db.session_scope(urls["county"]) as s:
        ckey = signing.identity(s).public_key
    with db.session_scope(urls["city"]) as s:
        ykey = signing.identity(s).public_key
    with db.session_scope(urls["county"]) as s:
        channels.add_peer(s, PeerIn(channel="upper", node="city", public_key=ykey, transport="http",
                                    address="http://127.0.0.1:9"), actor="bench")
        item = s.execute(select(CatalogItem.code).where(CatalogItem.data_class == "shared")
                         .order_by(CatalogItem.code).limit(1)).scalar_one()
        firms = list(s.execute(select(Subject.id).order_by(Subject.id)).scalars())
        now = clock.now()
        s.add_all([CreditRecord(subject_id=firms[i % FIRMS], item_code=item, occurred_on=dt.date(2026, 10, 1),
                                department_code="market", document_no=f"B-{i}", status="active",
                                natural_key=f"{i:032x}", version=1, is_current=True, content_hash=f"{i:032x}",
                                source="bench", created_at=now, text=f"记录{i}") for i in range(a.records)])
    with db.session_scope(urls["city"]) as s:
        channels.add_peer(s, PeerIn(channel="lower", node="county", public_key=ckey, transport="http",
                                    address="http://127.0.0.1:9"), actor="bench")

    t = time.perf_counter()
    made = 0
    while True:
        with db.session_scope(urls["county"]) as s:
            n = len(collect.collect(s, county, channels.peer_by_node(s, "city"), actor="bench"))
        if n == 0:
            break
        made += n
    collect_s = time.perf_counter() - t
    with db.session_scope(urls["county"]) as s:
        envs = [signing.unseal(county, p.sealed) for p in
                s.execute(select(ExchangePackage).order_by(ExchangePackage.seq)).scalars()]
    items = sum(len(e["items"]) for e in envs)

    t = time.perf_counter()
    for e in envs:
        with db.session_scope(urls["city"]) as s:
            apply.receive(s, city, e)
    apply_s = time.perf_counter() - t
    t = time.perf_counter()
    for e in envs:
        with db.session_scope(urls["city"]) as s:
            assert apply.receive(s, city, e)["duplicate"]
    dup_s = time.perf_counter() - t

    key = Ed25519PrivateKey.generate()
    t = time.perf_counter()
    for e in envs:
        key.public_key().verify(key.sign(signing.canonical(e)), signing.canonical(e))
    bare_s = time.perf_counter() - t

    out = {"store": "postgresql" if a.db else "sqlite", "records": a.records, "packages": made, "items": items,
           "collect_records_per_s": round(items / collect_s), "collect_packages_per_s": round(made / collect_s, 1),
           "apply_items_per_s": round(items / apply_s), "apply_packages_per_s": round(made / apply_s, 1),
           "duplicate_packages_per_s": round(made / dup_s, 1),
           "bare_sign_verify_packages_per_s": round(made / bare_s, 1),
           "machine": platform.platform(), "python": platform.python_version()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "exchange.json").write_text(json.dumps(out, indent=2), "utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
