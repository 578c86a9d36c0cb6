"""Warnings: record-to-notification latency, and rule evaluation over a large county.

    .venv/bin/python benchmarks/alerts.py [--subjects 1000000] [--latency-records 200]
                                          [--scan-records 200000] [--db URL]

Builds a county of `--subjects` enterprises in 20 streets × 20 grids (bulk inserts,
no generator: the point is the rules, not ingestion), loads the shipped warning rules
and an SMS channel pointing at a real local HTTP gateway process, and measures:

1. latency — a worker process (`python -m creditgov.worker --tick 0.05`) runs; new
   court records (失信被执行人) are committed one at a time, 20 per second, each for a
   different firm; for each, the time from its commit to the moment the worker handed
   the SMS to the channel (`notifications.handed_at`) and to the gateway's acceptance
   (`sent_at`), all read from the product's clock (`clock.now()`) in both processes. Percentiles p50/p95/p99/max. Goal: p95 ≤ 1 s.
2. record scan — `--scan-records` records committed at once (1 % of them watched
   items), then one scanner pass: records examined per second, alerts raised.
3. run rules — two published runs of `public-credit-enterprise` over every firm (0.2 %
   dropping ≥ 10 points, 0.1 % falling to D): the comparison and the alerts raised.
4. colour codes — regenerating every firm's code from the latest run.

Prints the figures and writes benchmarks/results/alerts.json. Never part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work"
RESULTS = ROOT / "results"
GATEWAY = ROOT.parent / "tests" / "alerts" / "peers" / "gateway.py"
os.environ.setdefault("CREDITGOV_TODAY", "2026-11-01")
TODAY = dt.date.fromisoformat(os.environ["CREDITGOV_TODAY"])


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * (len(s) - 1))))
    return round(s[k], 4)


def build(url: str, n: int, gateway_url: str) -> dict[str, float]:
    """Schema, catalogue, regions, firms, channels, contacts, rules."""
    import sqlalchemy as sa

    from creditgov.alerts import contacts as alert_contacts
    from creditgov.alerts import service as alerts
    from creditgov.alerts.schemas import ContactsFile
    from creditgov.catalog import service as catalog
    from creditgov.core import clock, db, schema
    from creditgov.core.db import bulk_insert
    from creditgov.lists import service as lists_service
    from creditgov.subjects.models import Region, Subject

    t0 = time.perf_counter()
    schema.upgrade(url)
    with db.session_scope(url) as s:
        catalog.load_catalog(s, actor="bench")
        lists_service.load_lists(s, actor="bench")
        s.add(Region(code="330127", name="安澜县", level="county", depth=0, parent_id=None, path="/330127/"))
        s.flush()
        county = s.execute(sa.select(Region.id).where(Region.code == "330127")).scalar_one()
        grids: list[tuple[int, str]] = []
        for i in range(1, 21):
            st = Region(code=f"330127-S{i:02d}", name=f"第{i}街道", level="street", depth=1, parent_id=county,
                        path=f"/330127/330127-S{i:02d}/")
            s.add(st)
            s.flush()
            for j in range(1, 21):
                code = f"330127-S{i:02d}-G{j:02d}"
                g = Region(code=code, name=f"第{i}街道第{j}网格", level="grid", depth=2, parent_id=st.id,
                           path=f"{st.path}{code}/")
                s.add(g)
                s.flush()
                grids.append((g.id, code))
    t_regions = time.perf_counter()
    now = clock.now()
    cols = ["kind", "name", "uscc", "region_id", "industry", "attributes", "status", "source", "created_at",
            "updated_at"]
    step = 200_000
    for lo in range(0, n, step):
        rows = [("enterprise", f"基准企业{k}", f"91330127MA{k:08d}", grids[k % len(grids)][0], "manufacturing", "{}",
                 "confirmed", "bench", now, now) for k in range(lo, min(n, lo + step))]
        with db.session_scope(url) as s:
            bulk_insert(s, Subject.__table__, cols, rows)
    t_subjects = time.perf_counter()
    chan = WORK / "alerts-channels.yaml"
    chan.write_text(json.dumps({"channels": [{"name": "sms", "plugin": "http_sms", "backoff_seconds": 0.2,
                                              "settings": {"url": gateway_url + "/sms", "timeout_seconds": 5}}]}),
                    encoding="utf-8")
    contacts = ContactsFile.model_validate({"contacts": [
        {"kind": "grid_worker", "key": code, "name": f"网格员{k}", "phone": f"138{k:08d}"}
        for k, (_, code) in enumerate(grids)]})
    with db.session_scope(url) as s:
        alert_contacts.load_channels(s, path=chan, actor="bench")
        alert_contacts.load_contacts(s, contacts=contacts, actor="bench")
        alerts.load_rules(s, actor="bench")
    return {"regions_s": round(t_regions - t0, 2), "subjects_s": round(t_subjects - t_regions, 2),
            "setup_s": round(time.perf_counter() - t0, 2)}


def _record(sid: int, item: str, k: int, on: dt.date, dep: str = "court") -> dict[str, object]:
    from creditgov.core import clock
    from creditgov.ingest.values import short_hash

    return {"subject_id": sid, "item_code": item, "occurred_on": on, "decided_on": on, "department_code": dep,
            "document_no": f"BENCH-{item}-{k}", "status": "active", "published_from": on,
            "published_until": clock.add_months(on, 36), "natural_key": short_hash(f"bench|{item}|{k}"),
            "version": 1, "is_current": True, "content_hash": short_hash(f"c|{item}|{k}"), "source": "bench",
            "created_at": clock.now()}


def latency(url: str, n: int, count: int, rate: float) -> dict[str, object]:
    """Commit `count` watched records at `rate` per second; measure to handed_at/sent_at."""
    import sqlalchemy as sa

    from creditgov.alerts.models import Alert, Notification
    from creditgov.core import clock, db
    from creditgov.records.models import CreditRecord

    worker = subprocess.Popen([sys.executable, "-m", "creditgov.worker", "--db", url, "--tick", "0.05",
                               "--no-schedule"], env=os.environ.copy())
    try:
        time.sleep(6.0)  # the worker's start-up (imports) is not latency
        committed: dict[int, dt.datetime] = {}
        for k in range(count):
            sid = 1 + (k * 7919) % n
            with db.session_scope(url) as s:
                rec = CreditRecord(**_record(sid, "court.dishonest_debtor", k, TODAY - dt.timedelta(days=1)))
                s.add(rec)
                s.flush()
                rid = rec.id
            committed[rid] = clock.now()
            time.sleep(1.0 / rate)
        deadline = time.time() + 60
        while time.time() < deadline:
            with db.session_scope(url) as s:
                left = s.execute(sa.select(sa.func.count(Notification.id)).where(
                    Notification.channel == "sms", Notification.status != "sent")).scalar_one()
                sent = s.execute(sa.select(sa.func.count(Notification.id)).where(
                    Notification.channel == "sms", Notification.status == "sent")).scalar_one()
            if left == 0 and sent >= count:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    handed: list[float] = []
    delivered: list[float] = []
    with db.session_scope(url) as s:
        rows = s.execute(sa.select(Alert.evidence, Notification.handed_at, Notification.sent_at)
                         .join(Notification, Notification.alert_id == Alert.id)
                         .where(Notification.channel == "sms", Alert.rule_code == "court-dishonest-debtor")).all()
    for evidence, h, sent_at in rows:
        rid = evidence[0].get("record")
        if rid in committed and h is not None:
            handed.append((h - committed[rid]).total_seconds())
            delivered.append((sent_at - committed[rid]).total_seconds())
    return {"records": count, "rate_per_s": rate, "measured": len(handed),
            "to_channel_s": {"p50": pct(handed, 50), "p95": pct(handed, 95), "p99": pct(handed, 99),
                             "max": round(max(handed), 4) if handed else None,
                             "mean": round(statistics.fmean(handed), 4) if handed else None},
            "to_gateway_ack_s": {"p50": pct(delivered, 50), "p95": pct(delivered, 95), "p99": pct(delivered, 99)},
            "goal_p95_s": 1.0, "met": bool(handed) and pct(handed, 95) <= 1.0}


def scan(url: str, n: int, count: int) -> dict[str, object]:
    from creditgov.alerts import rules
    from creditgov.core import db
    from creditgov.core.db import bulk_insert
    from creditgov.records.models import CreditRecord

    cols = list(_record(1, "utility.bill", 0, TODAY).keys())
    rows = []
    for k in range(count):
        watched = k % 100 == 0
        item, dep = ("court.judgement", "court") if watched else ("utility.bill", "utility")
        r = _record(1 + (k * 104729) % n, item, 10_000_000 + k, TODAY - dt.timedelta(days=k % 40), dep)
        rows.append(tuple(r[c] for c in cols))
    with db.session_scope(url) as s:
        bulk_insert(s, CreditRecord.__table__, cols, rows)
    t0 = time.perf_counter()
    out = rules.evaluate(url, scanners=("records",))
    secs = time.perf_counter() - t0
    return {"records": count, "watched": count // 100, "seconds": round(secs, 2),
            "records_per_s": round(out.examined / secs), "raised": out.raised, "repeated": out.repeated,
            "notifications": out.notifications}


def run_rules(url: str, n: int) -> dict[str, object]:
    import sqlalchemy as sa

    from creditgov.alerts import colours, rules
    from creditgov.core import clock, db
    from creditgov.core.db import bulk_insert
    from creditgov.scoring.models import EvaluationRun, Score
    from creditgov.subjects.models import Subject

    with db.session_scope(url) as s:
        ids = list(s.execute(sa.select(Subject.id).order_by(Subject.id)).scalars())

    def grade(v: int) -> tuple[str, str]:
        return ("A", "green") if v >= 88 else ("B", "green") if v >= 78 else ("C", "yellow") if v >= 65 else ("D", "red")

    t_ins = time.perf_counter()
    for as_of, shift in ((dt.date(2026, 10, 1), 0), (dt.date(2026, 11, 1), 1)):
        with db.session_scope(url) as s:
            run = EvaluationRun(model_name="public-credit-enterprise", model_version="1", model_hash="0" * 64,
                                as_of=as_of, engine="bench", status="done", published=True, subjects=len(ids),
                                grades={}, timings={}, started_at=clock.now(), finished_at=clock.now())
            s.add(run)
            s.flush()
            rows = []
            for k, sid in enumerate(ids):
                v = 70 + (k * 37) % 30
                if shift and k % 500 == 0:
                    v -= 12  # 0.2 % drop by 12 points
                if shift and k % 1000 == 1:
                    v = 50  # 0.1 % fall to D
                g, c = grade(v)
                rows.append((run.id, sid, Decimal(v), g, c, "{}"))
            bulk_insert(s, Score.__table__, ["run_id", "subject_id", "score", "grade", "colour", "dimensions"], rows)
    t0 = time.perf_counter()
    out = rules.evaluate(url, scanners=("runs",))
    secs = time.perf_counter() - t0
    t1 = time.perf_counter()
    with db.session_scope(url) as s:
        col = colours.regenerate(s, actor="bench")
    t_col = time.perf_counter() - t1
    with db.session_scope(url) as s:
        col2 = colours.regenerate(s, actor="bench")
    return {"subjects": len(ids), "insert_two_runs_s": round(t0 - t_ins, 2), "evaluate_s": round(secs, 2),
            "subjects_compared_per_s": round(out.examined / secs), "raised": out.raised,
            "notifications": out.notifications, "colour_codes": {"first_s": round(t_col, 2), "subjects": col["subjects"],
                                                                  "second_changed": col2["changed"]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--latency-records", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20.0, help="latency records committed per second")
    ap.add_argument("--scan-records", type=int, default=200_000)
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file under benchmarks/work/)")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    url = args.db
    if url is None:
        path = WORK / f"alerts-{args.subjects}.db"
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    state = WORK / "alerts-gateway.json"
    gw = subprocess.Popen([sys.executable, str(GATEWAY), "--state", str(state)], stdout=subprocess.PIPE, text=True)
    try:
        assert gw.stdout is not None
        gateway_url = "http://127.0.0.1:" + gw.stdout.readline().split()[1]
        say(f"county of {args.subjects:,} firms in {url.split('?')[0]}")
        setup = build(url, args.subjects, gateway_url)
        say(f"built in {setup['setup_s']} s; latency: {args.latency_records} records at {args.rate}/s")
        lat = latency(url, args.subjects, args.latency_records, args.rate)
        say(f"latency to channel p50 {lat['to_channel_s']['p50']} s, p95 {lat['to_channel_s']['p95']} s")  # type: ignore[index]
        say(f"record scan over {args.scan_records:,} new records")
        sc = scan(url, args.subjects, args.scan_records)
        say(f"scan {sc['records_per_s']:,} records/s, {sc['raised']} alerts")
        say("run rules over two published runs")
        rr = run_rules(url, args.subjects)
        say(f"compared {rr['subjects']:,} subjects in {rr['evaluate_s']} s, {rr['raised']} alerts")
    finally:
        gw.terminate()
        gw.wait(timeout=10)
        if gw.stdout:
            gw.stdout.close()
    received = json.loads(state.read_text(encoding="utf-8"))
    result = {"benchmark": "alerts", "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "database": url.split("://")[0],
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
              "subjects": args.subjects, "setup": setup, "latency": lat, "record_scan": sc, "run_rules": rr,
              "gateway": {"sms_received": len(received["messages"]), "duplicates": received["duplicates"]}}
    out = RESULTS / "alerts.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
