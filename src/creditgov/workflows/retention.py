"""Retention (Zhejiang's periods, `rules.yaml` → `retention`): adverse records are
archived 5 years after the behaviour ended; query logs are purged after 10 years.

Archiving is a status change (`records.service.change_status` → `archived`), so the
record leaves evaluation (only active records count), publication and the public file
(only active records are shown), and the credit file (which omits archived records),
while it stays in the store with its whole status history for authorised staff
(`creditgov subject show KEY --history`, `creditgov retention archived`), and the
places it went are told to withdraw it. Purging deletes the audit chain's reads and
the credit checks past their period; the chain keeps a checkpoint of each purged
segment and still verifies (`security.service.purge`).

The daily job (`jobs.retention`) runs both; each acts only on what is due, so running
it twice changes nothing more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.measures import service as measures_service
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.security import service as audit
from creditgov.workflows.eligibility import obligations_fulfilled
from creditgov.workflows.exchange import queue_exchange
from creditgov.workflows.rules import read_rules, rules
from creditgov.workflows.schemas import RetentionRules

# Statuses an adverse record can be archived from: a disputed record waits for its
# objection; a revoked one was never true and is not adverse information.
ARCHIVABLE = ("active", "expired", "repaired")


def retention_rules(session: Session) -> RetentionRules:
    """The rules in force; a loaded copy that predates retention falls back to the shipped periods."""
    r = rules(session).retention or read_rules().retention
    assert r is not None, "the shipped rules carry retention"
    return r


def behaviour_ended(session: Session, rec: CreditRecord, today: dt.date) -> dt.date:
    """The end of the behaviour: the day its obligations were recorded as fulfilled,
    when that is later than the day it occurred (arrears end when paid)."""
    paid = obligations_fulfilled(session, rec, today)
    return max(rec.occurred_on, paid) if paid else rec.occurred_on


def due_for_archive(session: Session, today: dt.date | None = None) -> list[tuple[CreditRecord, dt.date]]:
    """Adverse records whose retention ended, with the day the behaviour ended."""
    today = today or clock.today()
    years = retention_rules(session).adverse_years
    cutoff = clock.add_months(today, -12 * years)
    q = (select(CreditRecord).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CatalogItem.polarity == "negative", CreditRecord.status.in_(ARCHIVABLE),
                CreditRecord.occurred_on <= cutoff)
         .order_by(CreditRecord.id))
    out = []
    for rec in session.execute(q).scalars():
        ended = behaviour_ended(session, rec, today)
        if ended <= cutoff:
            out.append((rec, ended))
    return out


def archive_adverse(session: Session, *, actor: str | None = None) -> list[int]:
    actor = actor or "worker:retention"
    r = retention_rules(session)
    archived = []
    for rec, ended in due_for_archive(session):
        records_service.change_status(
            session, record_id=rec.id, to_status="archived", actor=actor,
            reason=f"retention: behaviour ended {ended}, kept {r.adverse_years} years ({r.adverse_citation.strip()})")
        if rec.is_current:
            queue_exchange(session, rec=rec, kind="record.archived", cause=f"retention:{clock.today()}",
                           payload={"behaviour_ended": ended.isoformat()})
        archived.append(rec.id)
    return archived


def purge_query_logs(session: Session, *, actor: str | None = None) -> dict[str, Any]:
    actor = actor or "worker:retention"
    r = retention_rules(session)
    today = clock.today()
    cutoff = clock.add_months(today, -12 * r.query_log_years)
    checks = measures_service.purge_checks(session, before=cutoff)
    chain = audit.purge(session, actions=r.query_log_actions, before=dt.datetime.combine(cutoff, dt.time()),
                        actor=actor, reason=f"query logs kept {r.query_log_years} years "
                                            f"({r.query_log_citation.strip()}); credit checks purged: {checks}")
    return {"before": cutoff.isoformat(), "credit_checks": checks, "audit": chain}


def run(session: Session, *, actor: str | None = None) -> dict[str, Any]:
    return {"archived": archive_adverse(session, actor=actor), "query_logs": purge_query_logs(session, actor=actor)}


def archived(session: Session, *, subject_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Archived records with when and why: the trace authorised staff read."""
    q = (select(CreditRecord, RecordStatusChange)
         .join(RecordStatusChange, RecordStatusChange.record_id == CreditRecord.id)
         .where(CreditRecord.status == "archived", RecordStatusChange.to_status == "archived")
         .order_by(RecordStatusChange.id.desc()).limit(limit))
    if subject_id is not None:
        q = q.where(CreditRecord.subject_id == subject_id)
    return [{"record_id": rec.id, "subject_id": rec.subject_id, "item": rec.item_code,
             "occurred_on": rec.occurred_on.isoformat(), "document_no": rec.document_no,
             "archived_at": ch.at.isoformat(timespec="seconds"), "actor": ch.actor, "reason": ch.reason}
            for rec, ch in session.execute(q)]
