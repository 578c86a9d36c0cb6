"""API load: credit checks and credit-file reads against `creditgov serve`.

    .venv/bin/python benchmarks/api.py [--subjects 100000] [--seconds 20] [--concurrency 8]
                                       [--workers 2] [--mix 0.5]

Builds (once, cached under benchmarks/work/) a synthetic county of --subjects
subjects: generated, ingested, evaluated with the enterprise and resident models
(published, so checks show grades), one bank account with an API token and consents.
Then starts `creditgov serve` in its own process on a free loopback port, and wrk
(benchmarks/api_load.lua, a second process) sends a fixed-duration load of
authenticated requests on keep-alive connections: a share --mix of POST
/api/v1/checks (a check is recorded and audited: a write per request) and the rest
GET /api/v1/subjects/{id} (the full file, with the personal-read audit entry for
residents). Requests only ever go to 127.0.0.1. Beside it, in the same run, the same
connections against GET /api/v1/auth/me (sign-in only, no data) as the framework's
ceiling. Prints throughput and latency percentiles and writes benchmarks/results/api.json. The goal on this 2-core machine: at least 500 requests
per second with p99 at most 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work"
RESULTS = ROOT / "results"
os.environ.setdefault("CREDITGOV_TODAY", "2026-11-01")
SCENARIO = "administrative-approval"


def _cg(url: str, key: Path, *args: str) -> None:
    exe = Path(sys.executable).with_name("creditgov")
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(key)}
    subprocess.run([str(exe), "--db", url, *args], check=True, env=env, stdout=subprocess.DEVNULL)


def build(subjects: int, seed: int) -> tuple[str, Path, dict]:
    """The evaluated county and its bank token, cached between runs."""
    WORK.mkdir(exist_ok=True)
    county = WORK / f"county-{subjects}-{seed}"
    db = WORK / f"api-{subjects}-{seed}.db"
    key = WORK / f"api-{subjects}-{seed}.key"
    meta_file = WORK / f"api-{subjects}-{seed}.json"
    if meta_file.exists() and db.exists():
        return f"sqlite:///{db}", key, json.loads(meta_file.read_text())
    for p in WORK.glob(db.name + "*"):
        p.unlink()
    if not (county / "manifest.yaml").exists():
        t = time.perf_counter()
        from creditgov.demo.county import generate

        generate(county, subjects=subjects, seed=seed)
        print(f"generated {county.name} in {time.perf_counter() - t:.0f} s", flush=True)
    url = f"sqlite:///{db}"
    os.environ["CREDITGOV_KEY_FILE"] = str(key)
    t = time.perf_counter()
    _cg(url, key, "init")
    _cg(url, key, "ingest", str(county))
    print(f"ingested in {time.perf_counter() - t:.0f} s", flush=True)
    for model in ("public-credit-enterprise", "community-resident"):
        t = time.perf_counter()
        _cg(url, key, "evaluate", "-m", model)
        print(f"evaluated {model} in {time.perf_counter() - t:.0f} s", flush=True)
    from sqlalchemy import select, update

    from creditgov.core import db as cgdb
    from creditgov.scoring.models import EvaluationRun
    from creditgov.security import users as user_service
    from creditgov.subjects.models import Subject

    with cgdb.session_scope(url) as s:
        s.execute(update(EvaluationRun).where(EvaluationRun.status == "done").values(published=True))
        u = user_service.create_user(s, username="bench-office", password=None, role="credit_office",
                                     actor="bench")
        token, _ = user_service.issue_token(s, user_id=u.id, name="bench", actor="bench")
        firms = list(s.execute(select(Subject.id).where(Subject.resident_id_index.is_(None))).scalars())
        people = list(s.execute(select(Subject.id).where(Subject.resident_id_index.is_not(None))).scalars())
    meta = {"token": token, "firms": firms, "people": people}
    meta_file.write_text(json.dumps(meta))
    return url, key, meta


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(base: str, token: str, ids: list[int], *, seconds: float, concurrency: int, mix: float, seed: int,
        mode: str = "mix") -> dict:
    """One fixed-duration load from wrk (a second process, written in C, so the load
    generator takes little of the two cores the server needs) with api_load.lua."""
    exe = shutil.which("wrk")
    if exe is None:
        raise SystemExit("wrk is missing: `make bench` installs it (scripts/system-deps.sh)")
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as fh:
        fh.write("\n".join(map(str, ids)) + "\n")
        ids_file = fh.name
    try:
        out = subprocess.run([exe, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                              "-s", str(ROOT / "api_load.lua"), base, "--", ids_file, token, str(mix), str(seed),
                              mode], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(ids_file)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    wall = r["duration_us"] / 1e6
    ok = r["requests"] - r["errors"]
    ms = lambda us: round(us / 1000, 2)  # noqa: E731
    return {"seconds": round(wall, 2), "requests": r["requests"], "errors": r["error_codes"] or {},
            "socket_errors": r["socket_errors"], "req_per_s": round(ok / wall, 1),
            "p50_ms": ms(r["p50_us"]), "p90_ms": ms(r["p90_us"]), "p95_ms": ms(r["p95_us"]),
            "p99_ms": ms(r["p99_us"]), "max_ms": ms(r["max_us"]), "mean_ms": ms(r["mean_us"]),
            "sent": {"checks": r["sent_checks"], "files": r["sent_files"]}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2,
                    help="server processes (`creditgov serve --workers`; one per core here; see docs/web.md)")
    ap.add_argument("--mix", type=float, default=0.5, help="share of credit checks (the rest: credit files)")
    a = ap.parse_args()
    url, key, meta = build(a.subjects, a.seed)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(key)}
    exe = Path(sys.executable).with_name("creditgov")
    server = subprocess.Popen([str(exe), "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(a.workers)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("server did not start") from None
                time.sleep(0.5)
        # Firms and residents in the county's proportions; residents' reads are audited.
        rng = random.Random(a.seed)
        ids = rng.sample(meta["firms"], min(5000, len(meta["firms"]))) + \
            rng.sample(meta["people"], min(5000, len(meta["people"])))
        wrk(base, meta["token"], ids, seconds=3, concurrency=a.concurrency, mix=a.mix, seed=1)  # warm-up
        # The baseline in the same run: the same server, connections and token answering
        # GET /auth/me, which signs the caller in and touches no data — the ceiling the
        # framework leaves for the credit checks and files.
        base_res = wrk(base, meta["token"], ids, seconds=max(5, a.seconds / 2), concurrency=a.concurrency,
                       mix=a.mix, seed=a.seed, mode="me")
        res = wrk(base, meta["token"], ids, seconds=a.seconds, concurrency=a.concurrency, mix=a.mix, seed=a.seed)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    out = {"benchmark": "api", "subjects": a.subjects, "seed": a.seed, "cores": os.cpu_count(),
           "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "database": "sqlite", "server_workers": a.workers, "concurrency": a.concurrency, "check_share": a.mix,
           "load_generator": "wrk", "load_avg_after": [round(x, 2) for x in os.getloadavg()],
           "goal": {"req_per_s": 500, "p99_ms": 50}, **res, "baseline_auth_me": base_res}
    out["goal_met"] = bool(res["req_per_s"] >= 500 and (res["p99_ms"] or 1e9) <= 50)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"\nAPI load on a {a.subjects:,}-subject county: {a.workers} server process(es), "
          f"{a.concurrency} connections, {a.mix:.0%} checks / {1 - a.mix:.0%} credit files, {res['seconds']} s")
    print(f"  {'':<28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  errors")
    for label, r in (("checks + credit files", res), ("baseline: GET /auth/me", base_res)):
        print(f"  {label:<28}{r['req_per_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}  "
              f"{r['errors'] or 0}{' socket ' + str(r['socket_errors']) if r['socket_errors'] else ''}")
    print(f"  sent: {res['sent']['checks']:,} checks, {res['sent']['files']:,} credit files; "
          f"load average after {out['load_avg_after']}")
    print(f"  goal (≥500 req/s, p99 ≤50 ms): {'met' if out['goal_met'] else 'NOT met'}")
    print(f"  written to {RESULTS / 'api.json'}")


if __name__ == "__main__":
    main()
