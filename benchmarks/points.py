"""Points supermarket: redemptions per second and latency under concurrent clients.

    .venv/bin/python benchmarks/points.py [--redemptions 1500] [--clients 8] [--subjects 400]
                                          [--engines sqlite,postgresql] [--pg URL]
                                          [--pg-processes N]

Issue 15: redemptions per second and p99 under 8 concurrent clients on one hot offer
and on offers spread over many, beside a bare single-statement baseline in the same
run; goal p99 ≤ 50 ms and no lost update.

A fresh store per engine (a SQLite file under benchmarks/work/, and, when reachable,
a throwaway schema of the local PostgreSQL database `test`, dropped afterwards) gets
the schema, the shipped catalogue, `--subjects` residents holding points (awarded
through the ledger) and a shop with offers, all through the domain's services. Then
`--clients` threads share a list of `--redemptions` planned calls, each call one unit
of work (`core.db.session_scope`) running `points.shop.redeem` — account lock,
idempotency, eligibility, balance, the conditional take of one item, the debit, the
audit entry — as the API does:

- hot: every call on one offer whose stock is 95 % of the calls, so the last ones are
  refused as sold out (the refusal is part of the load and of the latencies);
- spread: each call on one of 40 offers, picked at random, with stock to spare.

The baseline runs the same threads and the same number of calls, each a transaction
of one bare statement, `UPDATE points_offers SET taken = taken + 1 WHERE id = ? AND
taken < stock`, on one row (hot) and on 40 rows (spread) of the same store: what the
database alone costs for taking an item.

No lost update is then checked from the store against what the clients were told:
every offer's `taken` equals the redemptions held for it and the successes its
clients saw (the hot offer sold exactly its stock); every subject's balance, the sum
of its ledger, equals its award less the price of each redemption it was told
succeeded, with one debit entry per redemption; each baseline counter equals the
successes its clients saw. SQLite runs with WAL checkpoints in a background thread,
as `creditgov serve` runs them. Prints a table and writes benchmarks/results/points.json.
Never part of the tests.

On SQLite the clients of the process take turns on a lock held from the unit of work's
start to its commit, as the API's request sessions do (`api.deps.get_session`, an
asyncio lock there, a first-come first-served lock of threads here, as asyncio's lock
serves its waiters in order): a waiter wakes as soon as the writer before it commits,
instead of polling in SQLite's busy handler, whose sleeps grow to 100 ms each and made
the tail of the previous figures (p99 1.1–1.4 s at a p50 of 4–5 ms). A plain thread
lock is not fair — a thread that just released it often takes it again — and gave a
tail the API does not have (p99 250 ms at a p50 of 9 ms).
`--no-turns` leaves the clients to SQLite's busy handler, to show that tail. Between
server processes there is no such lock: SQLite's single writer bounds them.

On PostgreSQL the clients are threads of `--pg-processes` forked processes (default one
per core), as a PostgreSQL deployment serves with `creditgov serve --workers N`: eight
client threads in one interpreter take turns on its global lock, and a redemption's
3 ms of Python then waits behind up to seven others' (the previous figures' tail). The
processes take the next call from one shared counter and send back their latencies and
what their clients were told; the baseline runs the same way. `--pg-processes 1` keeps
all clients in this process, to show that tail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work"
RESULTS = ROOT / "results"
os.environ.setdefault("CREDITGOV_TODAY", "2026-11-01")
os.environ.setdefault("CREDITGOV_ACTOR", "bench")
PG_DEFAULT = os.environ.get("CREDITGOV_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

SEED_POINTS = 100_000
PRICE = 10
SPREAD_OFFERS = 40
WARMUP = 40
GOAL_P99_MS = 50.0
TAKE = "UPDATE points_offers SET taken = taken + 1 WHERE id = :id AND taken < stock"


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(p / 100 * len(s)))], 3)


class FairLock:
    """A lock that serves its waiters in the order they came (a ticket lock), as
    `asyncio.Lock` does for the API's requests."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cv:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cv.wait()

    def __exit__(self, *exc: object) -> None:
        with self._cv:
            self._serving += 1
            self._cv.notify_all()


@dataclass
class Store:
    url: str
    subjects: list[int]
    hot: int
    spread: list[int]
    warm: int
    base_hot: int
    base_spread: list[int]
    stock_hot: int
    # what the clients were told, for the checks at the end
    ok_offer: Counter[int] = field(default_factory=Counter)
    ok_subject: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # SQLite: the clients' turns (module docstring); None leaves them to the busy handler
    turns: FairLock | None = None


def build(url: str, n_subjects: int, calls: int) -> Store:
    """Schema, catalogue, residents with points, a shop with the hot, spread and warm-up
    offers, and a second shop whose offers are the baseline's counter rows."""
    from creditgov.catalog import service as catalog_service
    from creditgov.core import clock, db, schema
    from creditgov.points import ledger, shop
    from creditgov.points.schemas import OfferIn, ShopIn
    from creditgov.subjects.models import Subject

    schema.upgrade(url)
    today = clock.today()
    stock_hot = calls * 95 // 100

    def offer(s: Any, code: str, title: str, stock: int) -> int:
        data = OfferIn.model_validate({"shop": code, "title": title, "price": PRICE, "stock": stock,
                                       "valid_from": today - dt.timedelta(days=30),
                                       "valid_until": today + dt.timedelta(days=90)})
        return int(shop.add_offer(s, data, actor="bench").id)

    with db.session_scope(url) as s:
        catalog_service.load_catalog(s, actor="bench")
        now = clock.now()
        people = [Subject(kind="individual", name=f"基准居民{i}", status="confirmed", attributes={},
                          created_at=now, updated_at=now) for i in range(n_subjects)]
        s.add_all(people)
        s.flush()
        subjects = [p.id for p in people]
        for sid in subjects:
            ledger.post(s, subject_id=sid, amount=SEED_POINTS, kind="award", cause="award", ref_type="award",
                        ref_id=None, cause_key=f"bench:seed:{sid}", actor="bench",
                        expires_on=today + dt.timedelta(days=700))
        shop.add_shop(s, ShopIn(code="bench-market", name="基准积分超市"), actor="bench")
        shop.add_shop(s, ShopIn(code="bench-baseline", name="基准计数行"), actor="bench")
        hot = offer(s, "bench-market", "热门：大米 5kg", stock_hot)
        spread = [offer(s, "bench-market", f"分散商品{i}", calls) for i in range(SPREAD_OFFERS)]
        warm = offer(s, "bench-market", "预热", WARMUP)
        base_hot = offer(s, "bench-baseline", "计数行（热）", stock_hot)
        base_spread = [offer(s, "bench-baseline", f"计数行{i}", calls) for i in range(SPREAD_OFFERS)]
    return Store(url, subjects, hot, spread, warm, base_hot, base_spread, stock_hot)


def run_clients(plan: list[Any], clients: int, one: Any, processes: int = 1, url: str = "",
                tallies: tuple[Counter[int], ...] = ()) -> tuple[list[float], float, Counter[str], list[str]]:
    """`clients` clients take the planned calls in order; each call's wall-clock latency.

    With `processes` > 1 the clients are threads of that many forked processes (as
    `creditgov serve --workers N` serves requests), taking the next call from a counter
    they share; each process sends back its latencies and the `tallies` (what its
    clients were told), which are added to the parent's."""
    if processes > 1:
        return _run_in_processes(plan, clients, one, processes, url, tallies)
    nxt = iter(range(len(plan)))
    take = threading.Lock()

    def next_call() -> int | None:
        with take:
            return next(nxt, None)
    return _threads(plan, clients, one, next_call)


def _threads(plan: list[Any], clients: int, one: Any,
             next_call: Any) -> tuple[list[float], float, Counter[str], list[str]]:
    lat: list[float] = []
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    merge = threading.Lock()
    gate = threading.Barrier(clients + 1)

    def worker() -> None:
        mine: list[float] = []
        seen: Counter[str] = Counter()
        gate.wait()
        while (k := next_call()) is not None:
            a = time.perf_counter_ns()
            try:
                seen[one(plan[k])] += 1
            except Exception as exc:  # reported and counted: an error is a finding, not a crash
                seen["error"] += 1
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            mine.append((time.perf_counter_ns() - a) / 1e6)
        with merge:
            lat.extend(mine)
            outcomes.update(seen)

    threads = [threading.Thread(target=worker, name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return lat, time.perf_counter() - t0, outcomes, errors


def _run_in_processes(plan: list[Any], clients: int, one: Any, processes: int, url: str,
                      tallies: tuple[Counter[int], ...]) -> tuple[list[float], float, Counter[str], list[str]]:
    import multiprocessing as mp

    from creditgov.core import db

    db.engine_for(url).dispose()  # no pooled connection crosses the fork
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)
    per = [n for n in (clients // processes + (1 if i < clients % processes else 0)
                       for i in range(processes)) if n]
    gate = ctx.Barrier(len(per) + 1)
    out = ctx.Queue()

    def next_call() -> int | None:
        with counter.get_lock():
            k = int(counter.value)
            if k >= len(plan):
                return None
            counter.value = k + 1
            return k

    def child(threads: int) -> None:
        eng = db.engine_for(url)
        eng.dispose(close=False)  # the parent's connections stay the parent's
        opened = [eng.connect() for _ in range(threads)]  # each client's connection, before the clock
        for c in opened:
            c.close()
        for t in tallies:
            t.clear()
        gate.wait()
        lat, _wall, outcomes, errors = _threads(plan, threads, one, next_call)
        out.put((lat, outcomes, errors, [dict(t) for t in tallies]))

    procs = [ctx.Process(target=child, args=(n,), name=f"clients-{i}") for i, n in enumerate(per)]
    for p in procs:
        p.start()
    gate.wait()
    t0 = time.perf_counter()
    lat: list[float] = []
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    for _ in procs:
        lat_, outcomes_, errors_, tallies_ = out.get()
        lat.extend(lat_)
        outcomes.update(outcomes_)
        errors.extend(errors_)
        for mine, theirs in zip(tallies, tallies_, strict=True):
            mine.update(theirs)
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return lat, wall, outcomes, errors


def redeem_call(st: Store) -> Any:
    from creditgov.core import db
    from creditgov.core.errors import Conflict
    from creditgov.points import shop

    def one(call: tuple[int, int, str]) -> str:
        sid, offer_id, key = call
        try:
            with st.turns or nullcontext(), db.session_scope(st.url) as s:
                _r, created = shop.redeem(s, subject_id=sid, offer_id=offer_id, key=key, actor=f"bench:{sid}")
        except Conflict as exc:
            return "sold out" if "sold out" in str(exc) else f"refused: {exc}"
        if created:
            with st.lock:
                st.ok_offer[offer_id] += 1
                st.ok_subject[sid] += 1
            return "redeemed"
        return "replayed"
    return one


def baseline_call(st: Store, ok: Counter[int]) -> Any:
    from sqlalchemy import text

    from creditgov.core import db

    engine = db.engine_for(st.url)  # SQLite: BEGIN IMMEDIATE, as the service's units of work
    stmt = text(TAKE)

    def one(row: int) -> str:
        with st.turns or nullcontext(), engine.begin() as conn:
            took = conn.execute(stmt, {"id": row}).rowcount
        if took == 1:
            with st.lock:
                ok[row] += 1
            return "taken"
        return "sold out"
    return one


def summary(lat: list[float], wall: float, outcomes: Counter[str], errors: list[str]) -> dict[str, Any]:
    return {"calls": len(lat), "per_s": round(len(lat) / wall, 1), "wall_s": round(wall, 2),
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99), "max_ms": round(max(lat), 3),
            "mean_ms": round(statistics.fmean(lat), 3), "outcomes": dict(outcomes), "errors": errors[:5]}


def verify(st: Store, base_ok: Counter[int]) -> dict[str, Any]:
    """No lost update: the store against what the clients were told (module docstring)."""
    from sqlalchemy import func, select

    from creditgov.core import db
    from creditgov.points.models import Offer, PointsEntry, Redemption

    problems: list[str] = []
    with db.session_scope(st.url) as s:
        taken = dict(s.execute(select(Offer.id, Offer.taken)).tuples().all())
        held = dict(s.execute(select(Redemption.offer_id, func.count()).where(
            Redemption.status.in_(("reserved", "settled"))).group_by(Redemption.offer_id)).tuples().all())
        for oid in [st.hot, st.warm, *st.spread]:
            if not taken[oid] == held.get(oid, 0) == st.ok_offer[oid]:
                problems.append(f"offer {oid}: taken {taken[oid]}, redemptions {held.get(oid, 0)}, "
                                f"successes seen {st.ok_offer[oid]}")
        if taken[st.hot] != st.stock_hot:
            problems.append(f"hot offer sold {taken[st.hot]} of a stock of {st.stock_hot}")
        for row in [st.base_hot, *st.base_spread]:
            if taken[row] != base_ok[row]:
                problems.append(f"baseline row {row}: counter {taken[row]}, successes seen {base_ok[row]}")
        ledgers = dict(s.execute(select(PointsEntry.subject_id, func.sum(PointsEntry.amount))
                                 .group_by(PointsEntry.subject_id)).tuples().all())
        debits = dict(s.execute(select(PointsEntry.subject_id, func.count()).where(PointsEntry.kind == "redeem")
                                .group_by(PointsEntry.subject_id)).tuples().all())
        per_subject = dict(s.execute(select(Redemption.subject_id, func.count())
                                     .group_by(Redemption.subject_id)).tuples().all())
        for sid in st.subjects:
            want = SEED_POINTS - PRICE * st.ok_subject[sid]
            if not (int(ledgers.get(sid, 0)) == want and debits.get(sid, 0) == per_subject.get(sid, 0)
                    == st.ok_subject[sid]):
                problems.append(f"subject {sid}: ledger {ledgers.get(sid)}, expected {want}; debits "
                                f"{debits.get(sid, 0)}, redemptions {per_subject.get(sid, 0)}, "
                                f"successes seen {st.ok_subject[sid]}")
    return {"no_lost_update": not problems, "problems": problems[:10],
            "redemptions_held": sum(held.values()), "successes_seen": sum(st.ok_offer.values()),
            "hot_sold": taken[st.hot], "hot_stock": st.stock_hot, "subjects_checked": len(st.subjects),
            "baseline_taken": sum(taken[r] for r in [st.base_hot, *st.base_spread])}


def bench_engine(url: str, engine: str, calls: int, clients: int, n_subjects: int,
                 turns: bool = True, processes: int = 1) -> dict[str, Any]:
    from creditgov.core import db

    say(f"{engine}: building the store ({n_subjects} residents, {SPREAD_OFFERS + 2} offers) …")
    t0 = time.perf_counter()
    st = build(url, n_subjects, calls)
    if turns and url.startswith("sqlite"):
        st.turns = FairLock()
    say(f"{engine}: built in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(15)
    run = uuid.uuid4().hex[:8]
    people = st.subjects

    def plan(offers: list[int], tag: str, count: int) -> list[tuple[int, int, str]]:
        return [(people[(k * 7) % len(people)], rng.choice(offers), f"{tag}-{run}-{k}") for k in range(count)]

    checkpoints = db.BackgroundCheckpoints(url).start()
    base_ok: Counter[int] = Counter()
    runs: dict[str, dict[str, Any]] = {}
    try:
        redeem = redeem_call(st)
        told = (st.ok_offer, st.ok_subject)
        where = f"{clients} clients" + (f" in {processes} processes" if processes > 1 else "")
        run_clients(plan([st.warm], "warm", WARMUP), clients, redeem, processes, url, told)
        for name, p in (("redeem hot", plan([st.hot], "hot", calls)),
                        ("redeem spread", plan(st.spread, "spread", calls))):
            say(f"{engine}: {name}: {calls} calls from {where} …")
            runs[name] = summary(*run_clients(p, clients, redeem, processes, url, told))
        base = baseline_call(st, base_ok)
        for name, rows in (("baseline hot", [st.base_hot] * calls),
                           ("baseline spread", [rng.choice(st.base_spread) for _ in range(calls)])):
            say(f"{engine}: {name}: {calls} bare UPDATEs from {where} …")
            runs[name] = summary(*run_clients(rows, clients, base, processes, url, (base_ok,)))
    finally:
        checkpoints.stop()
    check = verify(st, base_ok)
    worst = max(runs[k]["p99_ms"] for k in ("redeem hot", "redeem spread"))
    errors = sum(r["outcomes"].get("error", 0) for r in runs.values())
    return {"runs": runs, "check": check, "worst_redeem_p99_ms": worst, "errors": errors,
            "turns": st.turns is not None, "processes": processes,
            "goal_met": worst <= GOAL_P99_MS and check["no_lost_update"] and errors == 0}


def pg_schema(base: str) -> tuple[str, Any] | None:
    """A throwaway schema of the local PostgreSQL, or None when it is not reachable."""
    import sqlalchemy as sa

    try:
        eng = sa.create_engine(base, connect_args={"connect_timeout": 3})
        name = "bench_points_" + uuid.uuid4().hex[:8]
        with eng.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {name}"))
    except Exception as exc:  # reported: PostgreSQL is optional here
        say(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return None
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with eng.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        eng.dispose()
    return f"{base}{sep}options=-csearch_path%3D{name}", drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redemptions", type=int, default=1500, help="Calls per run (hot, spread, each baseline).")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--subjects", type=int, default=400)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL database to make a throwaway schema in.")
    ap.add_argument("--pg-processes", type=int, default=min(8, os.cpu_count() or 1),
                    help="PostgreSQL: the clients are threads of this many processes, as `creditgov serve "
                         "--workers N` serves requests (default: one per core); 1 keeps them in this process.")
    ap.add_argument("--no-turns", action="store_true",
                    help="SQLite: no turn-taking lock in the process; waiters poll in SQLite's busy handler.")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT.parent / "src"))
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    load_before = os.getloadavg()
    engines: dict[str, dict[str, Any]] = {}
    for engine in args.engines.split(","):
        if engine == "sqlite":
            path = WORK / "points.db"
            for p in WORK.glob("points.db*"):
                p.unlink()
            engines[engine] = bench_engine(f"sqlite:///{path}", engine, args.redemptions, args.clients,
                                           args.subjects, turns=not args.no_turns)
        elif engine == "postgresql":
            made = pg_schema(args.pg)
            if made is None:
                continue
            url, drop = made
            try:
                engines[engine] = bench_engine(url, engine, args.redemptions, args.clients, args.subjects,
                                               processes=args.pg_processes)
            finally:
                drop()
        else:
            ap.error(f"unknown engine {engine!r}")
    res: dict[str, Any] = {
        "benchmark": "points", "command": " ".join(["benchmarks/points.py", *sys.argv[1:]]),
        "clients": args.clients, "redemptions_per_run": args.redemptions,
        "subjects": args.subjects, "spread_offers": SPREAD_OFFERS, "goal_p99_ms": GOAL_P99_MS,
        "goal_met": bool(engines) and all(e["goal_met"] for e in engines.values()),
        "cores": os.cpu_count(), "python": platform.python_version(),
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()], "engines": engines}
    for engine, e in engines.items():
        names = list(e["runs"])
        how = ((" (clients take turns in the process)" if e["turns"] else " (busy handler only)")
               if engine == "sqlite" else f" (clients in {e['processes']} processes)" if e["processes"] > 1 else "")
        print(f"\n  {engine}, {args.clients} clients, {args.redemptions} calls per run{how}")
        print("  " + " " * 14 + "".join(f"{n:>17}" for n in names))
        print(f"  {'per second':<14}" + "".join(f"{e['runs'][n]['per_s']:>17,.1f}" for n in names))
        for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"):
            label = k.replace("_ms", "") + " (ms)"
            print(f"  {label:<14}" + "".join(f"{e['runs'][n][k]:>17.3f}" for n in names))
        for n in names:
            said = ", ".join(f"{v} {o}" for o, v in sorted(e["runs"][n]["outcomes"].items()))
            print(f"  {n + ':':<17}{said}" + "".join(f"; {x}" for x in e["runs"][n]["errors"][:2]))
        c = e["check"]
        print(f"  no lost update: {'yes' if c['no_lost_update'] else 'NO'} — hot offer sold {c['hot_sold']} of "
              f"{c['hot_stock']}, {c['redemptions_held']} redemptions held = {c['successes_seen']} successes "
              f"seen, {c['subjects_checked']} balances = their ledgers")
        for p in c["problems"]:
            print(f"    ! {p}")
        print(f"  goal p99 ≤ {GOAL_P99_MS:g} ms and no lost update: {'met' if e['goal_met'] else 'NOT met'} "
              f"(worst redemption p99 {e['worst_redeem_p99_ms']:.1f} ms)")
    print(f"\n  load average {res['load_avg_before']} → {res['load_avg_after']}")
    out = RESULTS / "points.json"
    out.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
