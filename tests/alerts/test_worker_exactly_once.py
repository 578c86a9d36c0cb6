"""End to end on the demo county: a new court record is ingested, the worker process
raises the matching alert once, and the real SMTP server receives exactly one e-mail
and the real HTTP gateway exactly one SMS — also when the worker is killed between
the commit and the delivery, or after a channel accepted a message but before the
outbox recorded it."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts.models import Alert, Notification
from creditgov.core import db
from creditgov.ingest import service as ingest_service
from creditgov.security.crypto import load_key_file
from creditgov.subjects.models import Region, Subject
from tests.alerts.demo import Demo
from tests.alerts.helpers import channels_file, write_yaml
from tests.alerts.peers.running import HttpPeer, SmtpPeer, stop, wait_for

RULE = "court-dishonest-debtor"


def _target(url: str) -> tuple[int, str, str, str]:
    """A registered firm of the demo county: (id, name, credit code, grid code)."""
    with db.session_scope(url) as s:
        subj, path = s.execute(select(Subject, Region.path).join(Region, Region.id == Subject.region_id)
                               .where(Subject.kind == "enterprise", Subject.uscc.is_not(None),
                                      Subject.status == "confirmed").order_by(Subject.id).limit(1)).one()
        grid = [c for c in path.strip("/").split("/") if c][2]  # county / street / grid / micro-grid
        return subj.id, subj.name, subj.uscc, grid


def _configure(demo: Demo, tmp: Path, smtp: SmtpPeer, http: HttpPeer, grid: str) -> None:
    """The deployment's channels and contacts, set after the initial load (so the
    historical backlog was only ever put in inboxes)."""
    with db.session_scope(demo.url) as s:
        alert_contacts.load_channels(s, path=channels_file(tmp, smtp_port=smtp.port, http_url=http.url), actor="test")
        alert_contacts.load_contacts(s, path=write_yaml(tmp / "contacts.yaml", {"contacts": [
            {"kind": "grid_worker", "key": grid, "name": "网格员李明", "phone": "13800001111"},
            {"kind": "department", "key": "credit", "name": "县信用办", "email": "xinyong@anlan.gov.test"},
        ]}), actor="test")


def _new_court_record(demo: Demo, tmp: Path, name: str, uscc: str, case: str) -> None:
    """The court's next export: one new 失信被执行人 row, through the court's own spec."""
    folder = tmp / f"court-{case}"
    (folder / "specs").mkdir(parents=True)
    (folder / "data").mkdir()
    shutil.copyfile(demo.folder / "specs" / "court_enforcement.yaml", folder / "specs" / "court_enforcement.yaml")
    with (folder / "data" / "court_enforcement_2026_11.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["案号", "被执行人名称", "证件号码", "类别", "执行标的(元)", "立案日期", "发布日期", "失信情形"])
        w.writerow([case, name, uscc, "失信被执行人", "120000.00", "2026年10月20日", "2026年10月28日",
                    "有履行能力而拒不履行生效法律文书确定义务"])
    summary = ingest_service.ingest_paths(demo.url, load_key_file(demo.key), [folder / "specs" / "court_enforcement.yaml"],
                                          actor="test:court")
    assert summary.counts.accepted == 1, summary.as_dict()


def _worker(demo: Demo, *, fault: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "CREDITGOV_TODAY": "2026-11-01"}
    env.pop("CREDITGOV_FAULT", None)
    if fault:
        env["CREDITGOV_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-m", "creditgov.worker", "--db", demo.url, "--tick", "0.1",
                             "--no-schedule", "--lease-seconds", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _count(url: str, subject_id: int) -> tuple[int, list[str]]:
    with db.session_scope(url) as s:
        n = s.execute(select(func.count(Alert.id)).where(Alert.rule_code == RULE,
                                                         Alert.subject_id == subject_id)).scalar_one()
        statuses = list(s.execute(select(Notification.status).join(Alert, Alert.id == Notification.alert_id)
                                  .where(Alert.subject_id == subject_id, Alert.rule_code == RULE)).scalars())
        return n, statuses


@pytest.fixture
def peers(tmp_path: Path):  # type: ignore[no-untyped-def]
    smtp = SmtpPeer(tmp_path / "maildir").start()
    http = HttpPeer(tmp_path / "gateway.json").start()
    yield smtp, http
    smtp.stop()
    http.stop()


def test_new_court_record_raises_one_alert_one_email_one_sms(demo_store: Demo, tmp_path: Path, peers) -> None:  # type: ignore[no-untyped-def]
    smtp, http = peers
    sid, name, uscc, grid = _target(demo_store.url)
    _configure(demo_store, tmp_path, smtp, http, grid)
    worker = _worker(demo_store)
    try:
        t0 = time.monotonic()
        _new_court_record(demo_store, tmp_path, name, uscc, "（2026）浙0127执9001号")
        assert wait_for(lambda: len(smtp.messages()) >= 1 and len(http.messages("sms")) >= 1, timeout=30), \
            worker.stderr.read() if worker.poll() is not None else "no delivery"
        latency = time.monotonic() - t0
        time.sleep(1.0)  # ten more passes of the worker: nothing more may arrive
        assert worker.poll() is None, "the worker died"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
        stop(worker)
    mails, sms = smtp.messages(), http.messages("sms")
    assert len(mails) == 1 and len(sms) == 1
    assert mails[0]["To"] == "xinyong@anlan.gov.test" and name in mails[0]["Subject"]
    assert sms[0]["to"] == "13800001111" and name in sms[0]["text"]
    n, statuses = _count(demo_store.url, sid)
    assert n == 1 and sorted(statuses) == ["sent"] * 5  # 3 inboxes (grid, credit office, principal), e-mail, SMS
    assert latency < 20


def test_worker_killed_between_commit_and_delivery_delivers_exactly_once(demo_store: Demo, tmp_path: Path,
                                                                         peers) -> None:  # type: ignore[no-untyped-def]
    smtp, http = peers
    sid, name, uscc, grid = _target(demo_store.url)
    _configure(demo_store, tmp_path, smtp, http, grid)
    doomed = _worker(demo_store, fault="outbox.committed")
    try:
        _new_court_record(demo_store, tmp_path, name, uscc, "（2026）浙0127执9002号")
        doomed.wait(timeout=30)
    finally:
        stop(doomed)
    assert doomed.returncode == -signal.SIGKILL  # killed at the crash point, right after the commit
    n, statuses = _count(demo_store.url, sid)
    assert n == 1 and statuses and set(statuses) == {"pending"}  # committed, nothing sent
    assert smtp.messages() == [] and http.messages() == []

    worker = _worker(demo_store)
    try:
        assert wait_for(lambda: len(smtp.messages()) >= 1 and len(http.messages("sms")) >= 1, timeout=30)
        time.sleep(1.0)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        stop(worker)
    assert len(smtp.messages()) == 1 and len(http.messages("sms")) == 1
    n, statuses = _count(demo_store.url, sid)
    assert n == 1 and set(statuses) == {"sent"}


def test_worker_killed_after_the_gateway_accepted_sends_no_second_sms(demo_store: Demo, tmp_path: Path,
                                                                       peers) -> None:  # type: ignore[no-untyped-def]
    smtp, http = peers
    sid, name, uscc, grid = _target(demo_store.url)
    _configure(demo_store, tmp_path, smtp, http, grid)
    doomed = _worker(demo_store, fault="channel.sent:sms")
    try:
        _new_court_record(demo_store, tmp_path, name, uscc, "（2026）浙0127执9003号")
        doomed.wait(timeout=30)
    finally:
        stop(doomed)
    assert doomed.returncode == -signal.SIGKILL
    assert len(http.messages("sms")) == 1  # the gateway has it; the outbox never heard back
    with db.session_scope(demo_store.url) as s:
        sms_row = s.execute(select(Notification).where(Notification.channel == "sms",
                                                       Notification.subject_id == sid)).scalar_one()
        assert sms_row.status == "sending"

    worker = _worker(demo_store)
    try:
        assert wait_for(lambda: _count(demo_store.url, sid)[1] and set(_count(demo_store.url, sid)[1]) == {"sent"},
                        timeout=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        stop(worker)
    got = http.received()
    assert len([m for m in got["messages"] if m["kind"] == "sms"]) == 1
    assert got["duplicates"] == 1  # the retry carried the same idempotency key and was recognised
    ids = {m["Message-ID"] for m in smtp.messages()}
    assert len(ids) == 1  # however the e-mail thread fared, it is one message
