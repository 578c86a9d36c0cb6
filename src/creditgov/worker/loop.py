"""The worker process: a hot loop for warning rules and the outbox, and APScheduler
for the periodic jobs.

Why a loop for the hot path: from a record's commit to the notification handed to a
channel should take well under a second (the goal is p95 ≤ 1 s), which a scheduler
with a persistent job store is not made for (it writes its store on every run). The
loop polls the record cursor and the outbox every `tick` and sleeps only when a pass
found nothing. Periodic jobs live in APScheduler with its job store in our database,
so their next run times survive restarts.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from creditgov import bootstrap
from creditgov.alerts import outbox, rules
from creditgov.core import db
from creditgov.worker import jobs

log = logging.getLogger("creditgov.worker")
JOBSTORE_TABLE = "worker_jobs"


def build_scheduler(url: str, sched: jobs.Schedule | None = None) -> BackgroundScheduler:
    """A scheduler whose jobs are the schedule's, stored in `worker_jobs`."""
    sched = sched or jobs.schedule()
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine_for(url), tablename=JOBSTORE_TABLE)},
        executors={"default": APThreadPool(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone=sched.timezone)
    jobs.CONTEXT["url"] = url
    return scheduler


def install_jobs(scheduler: BackgroundScheduler, sched: jobs.Schedule) -> list[str]:
    wanted = []
    for spec in sched.jobs:
        trigger = (CronTrigger.from_crontab(spec.cron, timezone=sched.timezone) if spec.cron
                   else IntervalTrigger(seconds=spec.every_seconds, timezone=sched.timezone))
        scheduler.add_job("creditgov.worker.jobs:scheduled", trigger, args=[spec.job], id=spec.job,
                          name=spec.job, replace_existing=True)
        wanted.append(spec.job)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    return wanted


@dataclass
class Worker:
    url: str
    tick: float = 0.2
    with_schedule: bool = True
    lease_seconds: float = outbox.LEASE_SECONDS
    stop: threading.Event = field(default_factory=threading.Event)
    stats: dict[str, int] = field(default_factory=lambda: {"passes": 0, "raised": 0, "sent": 0, "errors": 0})

    def one_pass(self, pool: outbox.ChannelPool) -> bool:
        """Rules then delivery; True when something happened (no sleep then)."""
        found = rules.evaluate(self.url)
        delivered = outbox.deliver_due(self.url, pool=pool, lease_seconds=self.lease_seconds)
        self.stats["passes"] += 1
        self.stats["raised"] += found.raised
        self.stats["sent"] += delivered.sent
        return bool(found.raised or found.repeated or delivered.claimed)

    def run(self, *, max_seconds: float | None = None) -> dict[str, Any]:
        scheduler = None
        if self.with_schedule:
            scheduler = build_scheduler(self.url)
            scheduler.start(paused=True)
            install_jobs(scheduler, jobs.schedule())
            scheduler.resume()
        pool = outbox.ChannelPool(self.url)
        end = time.monotonic() + max_seconds if max_seconds else None
        backoff = self.tick
        try:
            while not self.stop.is_set() and (end is None or time.monotonic() < end):
                try:
                    busy = self.one_pass(pool)
                    backoff = self.tick
                except Exception:  # the database away for a moment must not end the worker
                    log.exception("worker pass failed; retrying")
                    self.stats["errors"] += 1
                    busy, backoff = False, min(30.0, backoff * 2)
                if not busy:
                    self.stop.wait(backoff)
        finally:
            pool.close()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
        return dict(self.stats)

    def handle_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())


def once(url: str) -> dict[str, Any]:
    """One full pass without the scheduler: rules, escalations, then deliver all that
    is due (for cron-style deployments and for tests)."""
    found = rules.evaluate(url)
    esc = bootstrap.job("escalations")(url)
    delivered = outbox.drain(url)
    return {"rules": found.as_dict(), **esc, "delivery": delivered.as_dict()}
