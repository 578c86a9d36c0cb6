"""`creditgov worker`: run the worker; run one job; show the schedule and the log."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.table import Table

from creditgov import bootstrap
from creditgov.cli.common import STATE, JsonOpt, console, emit_json
from creditgov.worker import jobs, loop

app = typer.Typer(help="The worker: warning rules and notification delivery continuously, periodic jobs "
                       "on a schedule (APScheduler, job store in the database).")


@app.callback(invoke_without_command=True)
def worker(ctx: typer.Context,
           tick: float = typer.Option(0.2, "--tick", help="Seconds between passes when idle."),
           no_schedule: bool = typer.Option(False, "--no-schedule", help="Only the hot loop (rules, outbox)."),
           max_seconds: float = typer.Option(0, "--max-seconds", help="Stop after this long (0: run until stopped)."),
           lease_seconds: float = typer.Option(60.0, "--lease-seconds",
                                               help="How long a claimed notification is held before another "
                                                    "attempt may take it (a crashed worker's claims lapse)."),
           verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run until stopped (SIGTERM/Ctrl-C): rules on new records, list entries and runs;
    delivery with retries; and the schedule in worker/data/schedule.yaml."""
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    STATE.require_init()
    w = loop.Worker(STATE.url, tick=tick, with_schedule=not no_schedule, lease_seconds=lease_seconds)
    w.handle_signals()
    stats = w.run(max_seconds=max_seconds or None)
    console.print(f"worker stopped: {stats}")


@app.command("once")
def once(json_out: bool = JsonOpt) -> None:
    """One pass (rules, escalations, deliver everything due) and exit."""
    STATE.require_init()
    out = loop.once(STATE.url)
    if json_out:
        emit_json(out)
    else:
        console.print(out)


@app.command("job")
def job(name: str = typer.Argument(..., help=f"One of: {', '.join(sorted(bootstrap.job_names()))}"),
        json_out: bool = JsonOpt) -> None:
    """Run one periodic job now (each is safe to run twice)."""
    STATE.require_init()
    run = jobs.run_job(STATE.url, name)
    out = {"run": run.id, "job": run.job, "status": run.status, "result": run.result, "error": run.error}
    if json_out:
        emit_json(out)
    else:
        console.print(out)
    if run.status != "done":
        raise typer.Exit(1)


@app.command("jobs")
def jobs_cmd(json_out: bool = JsonOpt) -> None:
    """The schedule and each job's next run time (from the job store)."""
    STATE.require_init()
    sched = jobs.schedule()
    scheduler = loop.build_scheduler(STATE.url, sched)
    scheduler.start(paused=True)
    try:
        loop.install_jobs(scheduler, sched)
        rows = [{"job": j.id, "trigger": str(j.trigger),
                 "next_run": j.next_run_time.isoformat() if j.next_run_time else None}
                for j in scheduler.get_jobs()]
    finally:
        scheduler.shutdown(wait=False)
    if json_out:
        emit_json(rows)
        return
    t = Table(title=f"schedule ({sched.timezone})")
    for c in ("job", "trigger", "next run"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["job"], r["trigger"], r["next_run"] or "")
    console.print(t)


@app.command("runs")
def runs(job_name: str = typer.Option(None, "--job"), limit: int = typer.Option(30, "--limit"),
         json_out: bool = JsonOpt) -> None:
    """Recent job runs."""
    STATE.require_init()
    rows: list[dict[str, Any]] = [{"id": r.id, "job": r.job, "status": r.status, "started_at": r.started_at.isoformat(timespec="seconds"),
             "seconds": round((r.finished_at - r.started_at).total_seconds(), 3) if r.finished_at else None,
             "result": r.result, "error": r.error} for r in jobs.recent_runs(STATE.url, job=job_name, limit=limit)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="job runs")
    for c in ("id", "job", "status", "started", "s", "result / error"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["id"]), r["job"], r["status"], r["started_at"], str(r["seconds"]),
                  (r["error"] or str(r["result"]))[:100])
    console.print(t)
