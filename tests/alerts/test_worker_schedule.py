"""The worker's schedule: APScheduler with its job store in our database, every run
logged, jobs safe to run twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov import bootstrap
from creditgov.alerts import service as alerts
from creditgov.core import db
from creditgov.core.errors import ConfigError, NotFound
from creditgov.worker import jobs, loop
from creditgov.worker.models import JobRun, SchedulerJob
from tests.alerts.helpers import write_yaml


def test_schedule_runs_jobs_from_a_persistent_store(sqlite_store: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_store
    with db.session_scope(url) as s:
        from creditgov.lists import service as lists_service

        lists_service.load_lists(s, actor="test")
        alerts.load_rules(s, actor="test")
    monkeypatch.setenv("CREDITGOV_SCHEDULE", str(write_yaml(tmp_path / "schedule.yaml", {
        "version": "t", "timezone": "Asia/Shanghai",
        "jobs": [{"job": "escalations", "every_seconds": 0.4}, {"job": "list_expiry", "cron": "10 0 * * *"}]})))
    stats = loop.Worker(url, tick=0.05).run(max_seconds=2.5)
    assert stats["errors"] == 0 and stats["passes"] > 10
    with db.session_scope(url) as s:
        runs = s.execute(select(JobRun.job, JobRun.status, func.count()).group_by(JobRun.job, JobRun.status)).all()
        assert {(j, st) for j, st, _ in runs} == {("escalations", "done")}
        assert dict(((j, st), n) for j, st, n in runs)[("escalations", "done")] >= 3
        stored = dict(s.execute(select(SchedulerJob.id, SchedulerJob.next_run_time)).all())
        assert set(stored) == {"escalations", "list_expiry"} and all(v for v in stored.values())
    # The store survives the process: a new scheduler sees the jobs before installing any.
    sched = loop.build_scheduler(url)
    sched.start(paused=True)
    try:
        assert {j.id for j in sched.get_jobs()} == {"escalations", "list_expiry"}
    finally:
        sched.shutdown(wait=False)


def test_jobs_by_hand_and_their_log(sqlite_store: str) -> None:
    url = sqlite_store
    run = jobs.run_job(url, "list_expiry")
    assert run.status == "done" and run.result == {"exited": []}
    again = jobs.run_job(url, "list_expiry")
    assert again.status == "done" and again.id == run.id + 1
    with pytest.raises(NotFound):
        jobs.run_job(url, "no_such_job")
    assert [r.id for r in jobs.recent_runs(url, job="list_expiry")] == [again.id, run.id]


def test_a_bad_schedule_names_the_field(tmp_path: Path) -> None:
    bad = write_yaml(tmp_path / "s.yaml", {"version": "1", "jobs": [{"job": "colour_codes", "cron": "0 3 * *"}]})
    with pytest.raises(ConfigError, match="s.yaml:3: jobs.0: Value error, job 'colour_codes': cron needs five"):
        jobs.schedule(bad)
    assert {j.job for j in jobs.schedule().jobs} <= set(bootstrap.job_names())
