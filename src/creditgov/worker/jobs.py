"""The periodic jobs: the schedule, and running a job by name with its log. Each job
lives in its domain (`<domain>/jobs.py`) and is listed in the composition root
(`creditgov.bootstrap`); this module owns only `evaluations`, which follows the
schedule's list of models. Every job is safe to run twice — that is what lets the
scheduler coalesce missed runs, lets two workers overlap during a deploy, and lets an
operator run any job by hand (`creditgov worker job NAME`); each job's module says why
its job is. `evaluations` is skipped when today's run of the same model version exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from creditgov import bootstrap
from creditgov.core import clock, db
from creditgov.core.config import PolicyFile
from creditgov.core.errors import NotFound
from creditgov.worker.models import JobRun

log = logging.getLogger("creditgov.worker")


class JobSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    job: str
    cron: str | None = None
    every_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_trigger(self) -> JobSpec:
        if (self.cron is None) == (self.every_seconds is None):
            raise ValueError(f"job {self.job!r}: give exactly one of `cron` and `every_seconds`")
        if self.job not in bootstrap.job_names():
            raise ValueError(f"unknown job {self.job!r} (known: {', '.join(sorted(bootstrap.job_names()))})")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"job {self.job!r}: cron needs five fields (minute hour day month weekday)")
        return self


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    timezone: str = "Asia/Shanghai"
    jobs: list[JobSpec]
    evaluations: list[str] = Field(default_factory=list)


SCHEDULE = PolicyFile(Schedule, "creditgov.worker", "data/schedule.yaml")


def schedule(path: Path | None = None) -> Schedule:
    """The shipped schedule, or the deployment's own file (`CREDITGOV_SCHEDULE`)."""
    path = path or (Path(os.environ["CREDITGOV_SCHEDULE"]) if os.environ.get("CREDITGOV_SCHEDULE") else None)
    return SCHEDULE.load(path)


# ----------------------------------------------------------------------------- the jobs


def evaluations(url: str) -> dict[str, Any]:
    """Each scheduled model once per day and published version."""
    from creditgov.scoring import service as scoring
    from creditgov.scoring.models import EvaluationRun

    today = clock.today()
    out: dict[str, Any] = {}
    for name in schedule().evaluations:
        try:
            with db.session_scope(url) as s:
                row, _ = scoring.get(s, name)
                done = s.execute(select(EvaluationRun.id).where(
                    EvaluationRun.model_name == name, EvaluationRun.model_hash == row.content_hash,
                    EvaluationRun.as_of == today, EvaluationRun.status == "done").limit(1)).scalar()
            if done is not None:
                out[name] = {"skipped": f"run {done} already evaluated {name} on {today}"}
                continue
            out[name] = scoring.evaluate(url, ref=name, as_of=today, actor="worker:evaluations").as_dict()
        except NotFound as exc:
            out[name] = {"skipped": str(exc)}
        except Exception as exc:  # one model failing must not stop the others
            log.exception("evaluation of %s failed", name)
            out[name] = {"failed": f"{type(exc).__name__}: {exc}"}
    return out


def run_job(url: str, name: str) -> JobRun:
    """Run one job now and log it in `worker_runs` (a failure is logged, not raised:
    the scheduler keeps going and the log says why)."""
    if name not in bootstrap.job_names():
        raise NotFound(f"unknown job {name!r} (known: {', '.join(sorted(bootstrap.job_names()))})")
    with db.session_scope(url) as s:
        run = JobRun(job=name, started_at=clock.now(), status="running", result={}, host=socket.gethostname())
        s.add(run)
        s.flush()
        run_id = run.id
    status: Literal["done", "failed"] = "done"
    result: dict[str, Any] = {}
    error = None
    try:
        result = bootstrap.job(name)(url)
    except Exception as exc:
        log.exception("job %s failed", name)
        status, error = "failed", "".join(traceback.format_exception_only(exc)).strip()
    with db.session_scope(url) as s:
        row = s.get(JobRun, run_id)
        assert row is not None
        row.status, row.finished_at, row.error = status, clock.now(), error
        row.result = _jsonable(result)
        s.flush()
        s.expunge(row)
        return row


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set):
        return [_jsonable(x) for x in v]
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    return str(v)


# The scheduler calls jobs by textual reference with the job name only: the database
# URL (which may hold a password) never goes into the job store.
CONTEXT: dict[str, str] = {}


def scheduled(name: str) -> None:
    run_job(CONTEXT["url"], name)


def recent_runs(url: str, *, job: str | None = None, limit: int = 50) -> list[JobRun]:
    with db.session_scope(url) as s:
        q = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
        if job:
            q = q.where(JobRun.job == job)
        rows = list(s.execute(q).scalars())
        for r in rows:
            s.expunge(r)
        return rows
