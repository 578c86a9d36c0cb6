"""Builders for the alerts and supervision tests: real rows in a real store."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts import service as alerts
from creditgov.core import clock
from creditgov.ingest.values import short_hash
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.subjects.models import Region, Subject, SubjectLink

_seq = itertools.count(1)
COUNTY, STREET, GRID, MICRO = "330127", "330127-S01", "330127-S01-G01", "330127-S01-G01-M01"


def make_regions(session: Session) -> dict[str, Region]:
    """county → street → two grids → a micro-grid each."""
    out: dict[str, Region] = {}
    spec = [(COUNTY, "安澜县", "county", None), (STREET, "城东街道", "street", COUNTY),
            (GRID, "城东第1网格", "grid", STREET), (MICRO, "城东第1网格第1微网格", "micro_grid", GRID),
            ("330127-S01-G02", "城东第2网格", "grid", STREET),
            ("330127-S01-G02-M01", "城东第2网格第1微网格", "micro_grid", "330127-S01-G02")]
    for depth, (code, name, level, parent) in enumerate(spec):
        p = out.get(parent) if parent else None
        r = Region(code=code, name=name, level=level, depth=min(depth, 3), parent_id=p.id if p else None,
                   path=(p.path if p else "/") + code + "/")
        session.add(r)
        session.flush()
        out[code] = r
    return out


def make_uscc(n: int) -> str:
    body = f"91330127MA{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def make_subject(session: Session, *, region: Region | None = None, kind: str = "enterprise",
                 name: str | None = None, industry: str | None = None) -> Subject:
    n = next(_seq)
    now = clock.now()
    s = Subject(kind=kind, name=name or f"测试企业{n}", status="confirmed", attributes={},
                uscc=make_uscc(n) if kind != "individual" else None, region_id=region.id if region else None,
                industry=industry, created_at=now, updated_at=now)
    if kind == "individual":
        s.resident_id_index = short_hash(f"rid{n}")
    session.add(s)
    session.flush()
    return s


def link(session: Session, firm: Subject, person: Subject, role: str = "principal") -> None:
    session.add(SubjectLink(firm_id=firm.id, person_id=person.id, role=role))
    session.flush()


def add_record(session: Session, subject: Subject, item: str, *, on: dt.date | None = None,
               department: str = "court", value: str | None = None) -> CreditRecord:
    n = next(_seq)
    on = on or clock.today()
    rec = CreditRecord(subject_id=subject.id, item_code=item, occurred_on=on, decided_on=on,
                       value=Decimal(value) if value else None, department_code=department,
                       document_no=f"T-{n}", status="active", published_from=on,
                       published_until=clock.add_months(on, 36), natural_key=short_hash(f"test|{n}"), version=1,
                       is_current=True, content_hash=short_hash(f"c|{n}"), source="test",
                       created_at=clock.now())
    session.add(rec)
    session.flush()
    return rec


def add_run(session: Session, model: str, as_of: dt.date, rows: list[tuple[Subject, str, str, str]],
            *, published: bool = True) -> EvaluationRun:
    """A finished run with (subject, score, grade, colour) rows."""
    run = EvaluationRun(model_name=model, model_version="1", model_hash="0" * 64, as_of=as_of, engine="test",
                        status="done", published=published, subjects=len(rows), grades={}, timings={},
                        started_at=clock.now(), finished_at=clock.now())
    session.add(run)
    session.flush()
    for s, score, grade, colour in rows:
        session.add(Score(run_id=run.id, subject_id=s.id, score=Decimal(score), grade=grade, colour=colour,
                          dimensions={}))
    session.flush()
    return run


def write_yaml(path: Path, doc: object) -> Path:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def channels_file(tmp: Path, *, smtp_port: int | None = None, http_url: str | None = None,
                  backoff: float = 0.05) -> Path:
    chans: list[dict] = []
    if smtp_port:
        chans.append({"name": "email", "plugin": "smtp", "backoff_seconds": backoff,
                      "settings": {"host": "127.0.0.1", "port": smtp_port, "sender": "alerts@anlan.gov.test",
                                   "timeout_seconds": 5}})
    if http_url:
        chans += [
            {"name": "sms", "plugin": "http_sms", "backoff_seconds": backoff, "max_attempts": 5,
             "settings": {"url": http_url + "/sms", "timeout_seconds": 5}},
            {"name": "cloud-sms", "plugin": "aliyun_sms", "backoff_seconds": backoff,
             "settings": {"endpoint": http_url + "/aliyun", "access_key_id": "LTAItest",
                          "access_key_secret_env": "TEST_ALIYUN_SECRET", "sign_name": "安澜信用",
                          "template_code": "SMS_0001", "timeout_seconds": 5}},
            {"name": "webhook", "plugin": "webhook", "backoff_seconds": backoff,
             "settings": {"secret_env": "TEST_HOOK_SECRET", "timeout_seconds": 5}},
        ]
    return write_yaml(tmp / "channels.yaml", {"channels": chans})


def setup_alerting(session: Session, tmp: Path, *, smtp_port: int | None = None, http_url: str | None = None,
                   contacts: list[dict] | None = None) -> None:
    """Rules, channels and contacts, as an operator would load them."""
    alerts.load_rules(session, actor="test")
    alert_contacts.load_channels(session, path=channels_file(tmp, smtp_port=smtp_port, http_url=http_url), actor="test")
    if contacts is not None:
        alert_contacts.load_contacts(session, path=write_yaml(tmp / "contacts.yaml", {"contacts": contacts}), actor="test")
