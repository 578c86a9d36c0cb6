"""The exchange's Done-means, on loopback: two real `creditgov serve` processes with
separate stores (two SQLite files, then two PostgreSQL schemas) — a county (anlan-county) and its city (huzhou-city, the upper
platform) — built from one small generated county (the city collected the county's
records earlier, so it holds copies under the same natural keys).

- A repair approved in the county reaches the city's copy of the record.
- A list entry made in the city reaches the county's lists and its next credit check.
- A package sent twice or out of order is applied once.
- A server killed with SIGKILL in the middle of an exchange (the receiver, then the
  sending process) loses nothing and duplicates nothing.

Each side sends with `creditgov exchange run` (what the worker's `exchange` job runs)
into the other side's running server, whose inbox authenticates it by signature."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from creditgov import bootstrap
from creditgov.catalog.models import CatalogItem
from creditgov.core import db
from creditgov.exchange import collect, signing
from creditgov.exchange.channels import peer_by_node
from creditgov.exchange.models import ExchangePackage, PackageSubject
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing, load_key_file
from creditgov.subjects.models import Subject
from creditgov.web.i18n import LANG_COOKIE
from tests import store_template
from tests.lists.helpers import add_record

EXE = Path(sys.executable).with_name("creditgov")
bootstrap.metadata()  # every table, for the ORM reads of both stores below
T0, T1 = "2026-11-02", "2026-11-10"  # the red list's 7-day response window lies between


def _cli(*args: str, env: dict[str, str]) -> Any:
    from creditgov.cli.main import app

    r = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert r.exit_code == 0, f"creditgov {' '.join(args)}:\n{r.output}"
    return json.loads(r.stdout) if "--json" in args else r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    name: str
    db: Path  # the SQLite file, or for PostgreSQL a path naming the key file's folder
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[str] | None = None
    pg: str | None = None  # a PostgreSQL URL (its own schema) instead of the SQLite file

    @property
    def url(self) -> str:
        return self.pg or f"sqlite:///{self.db}"

    @property
    def key(self) -> Path:
        return Path(str(self.db) + ".key")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, today: str = T1) -> dict[str, str]:
        return {**os.environ, "CREDITGOV_KEY_FILE": str(self.key), "CREDITGOV_TODAY": today,
                "CREDITGOV_ACTOR": f"test:{self.name}"}

    def cg(self, *args: str, today: str = T1) -> Any:
        """The real `creditgov` command, run in this process (a process per command
        costs seconds of imports); the servers and the killed senders are processes."""
        return _cli("--db", self.url, *args, env={"CREDITGOV_KEY_FILE": str(self.key), "CREDITGOV_TODAY": today,
                                                   "CREDITGOV_ACTOR": f"test:{self.name}"})

    def start(self) -> None:
        self.proc = subprocess.Popen([str(EXE), "--db", self.url, "serve", "--port", str(self.port)],
                                     env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2).read()  # noqa: S310 - loopback
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, f"{self.name} did not start"
                time.sleep(0.1)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def ring(self) -> KeyRing:
        return load_key_file(self.key)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    """The county and the city, each on its own store: two SQLite files, or two
    PostgreSQL schemas (the `pg_base` fixture: skipped without PostgreSQL, a failure
    under CI=true)."""
    with ExitStack() as stack:
        pg = [stack.enter_context(store_template.pg_schema(request.getfixturevalue("pg_base"), f"t_exchange_{n}_"))
              for n in ("county", "city")] if request.param == "postgres" else [None, None]
        yield from _pair(tmp_path_factory.mktemp(f"exchange-{request.param}"), pg)


def _pair(tmp: Path, pg: list[str | None]) -> Iterator[tuple[Node, Node]]:
    files = tmp / "county-files"
    _cli("generate", "--out", str(files), "--subjects", "1000", "--seed", "5", "--as-of", T0, "--json",
         env={"CREDITGOV_TODAY": T0})
    county = Node("anlan-county", tmp / "county" / "county.db", pg=pg[0])
    city = Node("huzhou-city", tmp / "city" / "city.db", pg=pg[1])
    for n in (county, city):
        n.db.parent.mkdir(mode=0o700)
        t = time.monotonic()
        n.cg("init", today=T0)
        n.cg("ingest", str(files), today=T0)
        print(f"{n.name}: init + ingest {time.monotonic() - t:.1f} s")
    keys = {n.name: n.cg("exchange", "init", "--node", n.name, "--json")["public_key"] for n in (county, city)}
    county.cg("exchange", "peer", "add", "upper", city.name, "--key", keys[city.name], "--http", city.base, "--json")
    city.cg("exchange", "peer", "add", "lower", county.name, "--key", keys[county.name], "--http", county.base,
            "--json")
    try:
        county.start()
        city.start()
        yield county, city
    finally:
        county.stop()
        city.stop()


def _one(url: str, q: Any) -> Any:
    with db.session_scope(url) as s:
        return s.execute(q).one()


def _count(url: str, q: Any) -> int:
    with db.session_scope(url) as s:
        return int(s.execute(q).scalar_one())


def test_a_repair_approved_in_the_county_reaches_the_citys_copy(pair: tuple[Node, Node]) -> None:
    county, city = pair
    rec_id, nk, sid, dept = _one(county.url, select(
        CreditRecord.id, CreditRecord.natural_key, CreditRecord.subject_id, CreditRecord.department_code)
        .join(CatalogItem, CatalogItem.code == CreditRecord.item_code).join(Subject, Subject.id == CreditRecord.subject_id)
        .where(CatalogItem.severity == "minor", CatalogItem.data_class.in_(("public", "shared")),
               CreditRecord.status == "active", CreditRecord.is_current.is_(True), Subject.uscc.is_not(None))
        .order_by(CreditRecord.id).limit(1))
    assert _one(city.url, select(CreditRecord.status).where(CreditRecord.natural_key == nk,
                                                             CreditRecord.is_current.is_(True)))[0] == "active"
    county.cg("repair", "commitment", str(sid), "--agree", "--signed-by", "法定代表人", "--json")
    county.cg("repair", "fulfil", str(rec_id), "--department", dept, "--note", "罚款已缴清", "--json")
    app = county.cg("repair", "apply", str(sid), "--record", str(rec_id), "--json")
    assert app["status"] == "submitted", app
    county.cg("repair", "forward", str(app["id"]), "--unit", "credit", "--json")
    done = county.cg("repair", "approve", str(app["id"]), "--department", dept, "--json")
    assert done["record"]["status"] == "repaired"

    sent = county.cg("exchange", "run", "--json")
    assert sent["upper"]["sent"] >= 1 and sent["upper"]["failed"] == 0, sent
    (status,) = _one(city.url, select(CreditRecord.status).where(
        CreditRecord.natural_key == nk, CreditRecord.is_current.is_(True)))
    assert status == "repaired"
    st = county.cg("exchange", "status", "--json")
    assert st[0]["out"] == {"acknowledged": st[0]["next_seq"] - 1} and st[0]["last_error"] is None
    assert any(p["kinds"] == ["record.repaired"] and p["status"] == "applied"
               for p in city.cg("exchange", "packages", "--direction", "in", "--json"))


def test_a_list_entry_made_in_the_city_reaches_the_countys_lists_and_check(pair: tuple[Node, Node]) -> None:
    county, city = pair
    (uscc,) = _one(city.url, select(Subject.uscc).where(Subject.kind == "enterprise", Subject.uscc.is_not(None))
                   .order_by(Subject.id.desc()).limit(1))
    entry = city.cg("lists", "propose", uscc, "--list", "red", "--decision-no", "市红〔2026〕1号", "--basis",
                    "诚信典型 <b>市级</b>", "--json", today=T0)
    city.cg("lists", "notify", str(entry["id"]), "--json", today=T0)
    city.cg("lists", "approve", str(entry["id"]), "--unit", "credit", "--json")
    city.cg("lists", "publish", str(entry["id"]), "--json")
    before = county.cg("check", "run", uscc, "--scenario", _scenario(county), "--json")
    assert "red" not in [e["list"] for e in before["lists"]]

    sent = city.cg("exchange", "run", "--json")
    assert sent["lower"]["failed"] == 0 and sent["lower"]["acknowledged"] >= 1, sent
    entries = county.cg("lists", "entries", "--list", "red", "--json")
    mine = [e for e in entries if e.get("decision_no") == "市红〔2026〕1号"]
    assert len(mine) == 1 and mine[0]["status"] == "published" and mine[0]["origin"] == "upper"
    after = county.cg("check", "run", uscc, "--scenario", _scenario(county), "--json")
    assert [(e["list"], e["origin"]) for e in after["lists"] if e["list"] == "red"] == [("red", "upper")]


def _scenario(node: Node) -> str:
    out = node.cg("measures", "scenarios", "--json")
    return str(out[0]["code"])


def _new_records(node: Node, n: int, tag: str) -> list[str]:
    """`n` new shared records of the county's firms, packaged one per package."""
    ring = node.ring()
    keys = []
    with db.session_scope(node.url) as s:
        item = s.execute(select(CatalogItem.code).where(CatalogItem.data_class == "shared",
                                                        CatalogItem.polarity == "negative")
                         .order_by(CatalogItem.code).limit(1)).scalar_one()
        firms = list(s.execute(select(Subject).where(Subject.uscc.is_not(None)).order_by(Subject.id).limit(n)).scalars())
    for f in firms:
        with db.session_scope(node.url) as s:
            rec = add_record(s, s.get(Subject, f.id), item, occurred_on=dt.date(2026, 10, 1))
            rec.text = f"{tag} <script>x</script> “引号”"
            keys.append(rec.natural_key)
            collect.collect(s, ring, peer_by_node(s, "huzhou-city"), actor="test")
    return keys


def _post(node: Node, envelope: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(node.base + "/api/v1/exchange/inbox", data=json.dumps(envelope).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback
        out: dict[str, Any] = json.loads(r.read())
        return out


def _envelopes(node: Node, seqs: list[int]) -> dict[int, dict[str, Any]]:
    ring = node.ring()
    with db.session_scope(node.url) as s:
        rows = s.execute(select(ExchangePackage).where(ExchangePackage.direction == "out",
                                                       ExchangePackage.seq.in_(seqs))).scalars()
        return {p.seq: signing.unseal(ring, p.sealed) for p in rows}


def _copies(city: Node, keys: list[str]) -> dict[str, int]:
    with db.session_scope(city.url) as s:
        return dict(s.execute(select(CreditRecord.natural_key, func.count()).where(CreditRecord.natural_key.in_(keys))
                              .group_by(CreditRecord.natural_key)).tuples().all())


def _in_order(city: Node) -> None:
    """The city's received packages are 1..n, each once, all applied."""
    with db.session_scope(city.url) as s:
        rows = list(s.execute(select(ExchangePackage.seq, ExchangePackage.status).where(
            ExchangePackage.direction == "in", ExchangePackage.channel == "lower").order_by(ExchangePackage.seq)))
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert {r[1] for r in rows} == {"applied"}


def test_a_package_sent_twice_or_out_of_order_applies_once(pair: tuple[Node, Node]) -> None:
    county, city = pair
    keys = _new_records(county, 3, "乱序")
    with db.session_scope(county.url) as s:
        seqs = sorted(s.execute(select(ExchangePackage.seq).where(ExchangePackage.status == "pending")).scalars())
    assert len(seqs) == 3
    env = _envelopes(county, seqs)
    a, b, c = seqs
    assert _post(city, env[c])["status"] == "held"
    assert _post(city, env[a])["applied_through"] == a
    again = _post(city, env[a])
    assert again["duplicate"] is True and again["applied_through"] == a
    assert _post(city, env[b])["applied_through"] == c  # b, then the held c
    assert _copies(city, keys) == dict.fromkeys(keys, 1)
    with db.session_scope(city.url) as s:  # marked-up text arrives unharmed
        texts = set(s.execute(select(CreditRecord.text).where(CreditRecord.natural_key.in_(keys))).scalars())
    assert texts == {"乱序 <script>x</script> “引号”"}
    # The county still thinks they are pending: its next run sends all three again.
    sent = county.cg("exchange", "run", "--force", "--json")
    # The first answer says all three are applied: the other two need not go again.
    assert sent["upper"]["sent"] == 1 and sent["upper"]["acknowledged"] == 3, sent
    assert _copies(city, keys) == dict.fromkeys(keys, 1)
    _in_order(city)
    # Forged: the county's package with a changed item is refused (401).
    forged = json.loads(json.dumps(env[a]))
    forged["items"][0]["status"] = "revoked"
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(city, forged)
    assert err.value.code == 401


def _wait_applied(city: Node, at_least: int, proc: subprocess.Popen[str] | None = None) -> int:
    deadline = time.monotonic() + 60
    while True:
        n = _count(city.url, select(func.count()).select_from(ExchangePackage).where(
            ExchangePackage.direction == "in", ExchangePackage.status == "applied"))
        if n >= at_least or (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            return n
        time.sleep(0.01)


def test_a_server_killed_mid_exchange_loses_and_duplicates_nothing(pair: tuple[Node, Node]) -> None:
    county, city = pair
    start = _count(city.url, select(func.count()).select_from(ExchangePackage).where(ExchangePackage.direction == "in"))
    keys = _new_records(county, 60, "中断")

    # 1. The receiving server dies mid-way through the county's run.
    run = subprocess.Popen([str(EXE), "--db", county.url, "exchange", "run", "--json"], env=county.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Killed as soon as the first packages are in: on a loaded machine this watcher can
    # be slow to look, and waiting for the tenth let the sender finish all 60 first.
    _wait_applied(city, start + 2, run)
    city.kill9()
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    first = json.loads(out)["upper"]
    got = _copies(city, keys)
    assert set(got.values()) <= {1} and first["failed"] == 1 and 0 < len(got) < len(keys), (first, len(got))
    city.start()

    # 2. The sending process dies mid-way through the retry.
    run = subprocess.Popen([str(EXE), "--db", county.url, "exchange", "run", "--force", "--json"], env=county.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_applied(city, start + len(got) + 10, run)
    run.send_signal(signal.SIGKILL)
    run.wait(30)

    # 3. Runs until everything is acknowledged.
    for _ in range(5):
        st = county.cg("exchange", "status", "--json")[0]
        if set(st["out"]) == {"acknowledged"}:
            break
        county.cg("exchange", "run", "--force", "--json")
    assert set(county.cg("exchange", "status", "--json")[0]["out"]) == {"acknowledged"}
    assert _copies(city, keys) == dict.fromkeys(keys, 1)
    _in_order(city)
    listed = _count(city.url, select(func.count()).select_from(ListEntry))
    assert listed >= 1


def _page(node: Node, path: str, token: str, lang: str) -> str:
    req = urllib.request.Request(node.base + path, headers={"authorization": f"Bearer {token}",
                                                            "cookie": f"{LANG_COOKIE}={lang}"})
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback
        return str(r.read().decode("utf-8"))


def test_the_page_and_the_subjects_own_view_show_the_exchange(pair: tuple[Node, Node]) -> None:
    """The exchange page (zh/en) lists the channels and packages; the repaired firm's own
    page lists the package that carried its repair to the city."""
    county, city = pair
    county.cg("users", "create", "exchange-admin", "--role", "admin", "--json")
    admin = county.cg("users", "token", "exchange-admin", "--json")["token"]
    zh, en = (_page(county, "/exchange", admin, lang) for lang in ("zh", "en"))
    assert "数据交换" in zh and "huzhou-city" in zh and "对方已确认" in zh and "信用修复" in zh
    assert "Exchange" in en and "acknowledged" in en and "credit repair" in en and "对方已确认" not in en
    api = json.loads(_page(county, "/api/v1/exchange/status", admin, "en"))
    assert api[0]["channel"] == "upper" and set(api[0]["out"]) == {"acknowledged"}

    with db.session_scope(county.url) as s:
        firm = s.execute(select(PackageSubject.subject_id).join(ExchangePackage, ExchangePackage.id ==
                                                                PackageSubject.package_id)
                         .where(ExchangePackage.direction == "out").order_by(ExchangePackage.seq).limit(1)).scalar_one()
    county.cg("users", "create", "firm-own", "--role", "subject", "--subject", str(firm), "--json")
    own = county.cg("users", "token", "firm-own", "--json")["token"]
    mine_zh, mine_en = (_page(county, "/me/credit", own, lang) for lang in ("zh", "en"))
    assert "我的数据去向" in mine_zh and "huzhou-city" in mine_zh and "信用修复" in mine_zh
    assert "Where my data went" in mine_en and "credit repair" in mine_en
    TOKENS[county.base] = {"admin": admin, "own": own}


TOKENS: dict[str, dict[str, str]] = {}  # per county server: the accounts the page test made


def test_the_pages_in_a_real_browser(pair: tuple[Node, Node], browser: Any) -> None:
    """Chromium renders the exchange page and the firm's own section in both languages."""
    county, _city = pair
    assert county.base in TOKENS, "runs after the page test, which made the accounts"
    tokens = TOKENS[county.base]
    for lang, title, ack, mine in (("zh", "数据交换", "对方已确认", "我的数据去向"),
                                   ("en", "Exchange", "acknowledged", "Where my data went")):
        ctx = browser.new_context(extra_http_headers={"authorization": f"Bearer {tokens['admin']}"})
        ctx.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": county.base}])
        page = ctx.new_page()
        page.goto(county.base + "/exchange")
        assert page.locator("h1").first.inner_text().startswith(title)
        row = page.locator("[data-testid=channel-upper]")
        assert "huzhou-city" in row.inner_text()
        assert ack in page.locator("[data-testid=exchange-packages]").inner_text()
        ctx.close()
        ctx = browser.new_context(extra_http_headers={"authorization": f"Bearer {tokens['own']}"})
        ctx.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": county.base}])
        page = ctx.new_page()
        page.goto(county.base + "/me/credit#exchanged")
        section = page.locator("#exchanged")
        assert mine in section.inner_text() and "huzhou-city" in section.locator("[data-testid=own-exchange]").inner_text()
        ctx.close()


def test_a_city_that_cannot_be_reached_pulls_from_the_county(pair: tuple[Node, Node]) -> None:
    """HTTP pull: the county leaves packages for the city to fetch (signed request),
    the city applies them and posts its signed acknowledgement back."""
    county, city = pair
    county.cg("exchange", "peer", "set", "upper", "--pull", city.base, "--json")
    try:
        keys = _new_records(county, 2, "拉取")
        sent = county.cg("exchange", "run", "--json")["upper"]
        assert sent["sent"] == 0 and _copies(city, keys) == {}
        got = city.cg("exchange", "run", "--json")["lower"]
        assert (got["pulled"], got["pull_errors"]) == (2, 0)
        assert _copies(city, keys) == dict.fromkeys(keys, 1)
        assert city.cg("exchange", "run", "--json")["lower"]["pulled"] == 0  # nothing twice
        assert set(county.cg("exchange", "status", "--json")[0]["out"]) == {"acknowledged"}
        _in_order(city)
        # An unsigned or forged feed request is refused.
        req = urllib.request.Request(county.base + "/api/v1/exchange/feed?after=0", headers={
            "x-exchange-node": city.name, "x-exchange-time": "2026-11-10T00:00:00", "x-exchange-signature": "AAAA"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)  # noqa: S310 - loopback
        assert err.value.code == 401
    finally:
        county.cg("exchange", "peer", "set", "upper", "--http", city.base, "--json")
