"""The collector: what each channel owes its peer, turned into signed packages.

Sources: the change queue (repairs, revocations, corrections, …) for the channel's
recipient; and, from a cursor per channel, the catalogue-shared records (the item's
`data_class` in the channels file's `share_classes`), list entries and exits of this
installation's own lists, published evaluation runs and finished inspections. What
arrived by the exchange is never sent back (records with an `exchange:` source, lists
of origin 'upper'). One transaction numbers the packages, marks the queue and moves
the cursors, so a crash leaves either all of it or none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.codes import revocation as code_revocations
from creditgov.core import clock
from creditgov.exchange import queue
from creditgov.exchange.channels import channel, policy
from creditgov.exchange.models import (
    ExchangeCursor,
    ExchangePackage,
    ExchangePeer,
    PackageSubject,
    QueuedChange,
    SentResult,
)
from creditgov.exchange.signing import FORMAT, digest, identity, seal, sign
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.scoring.published import PUBLISHED, band_table
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from creditgov.supervision.models import InspectionTask

CHANGE_KINDS = ("record.repaired", "record.revoked", "record.corrected", "record.publication-ended", "record.archived")
SCAN = 2000  # rows read per source and run; the rest waits for the next run


@dataclass
class Item:
    body: dict[str, Any]
    subject_id: int | None
    record_id: int | None = None
    change_id: int | None = None


@dataclass
class Collected:
    items: list[Item] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)
    sent: list[tuple[str, int]] = field(default_factory=list)  # runs and inspections taken now


def _s(v: Any) -> str | None:
    """Every value travels as a string (dates ISO, amounts exact)."""
    if v is None:
        return None
    if isinstance(v, Decimal):
        return format(v, "f")
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def subject_ref(session: Session, keyring: KeyRing, subject_id: int) -> dict[str, Any]:
    """How the peer finds the subject: its credit code, else its ID number (the blind
    index is keyed per store, so the number itself travels, inside the signed package)."""
    s = session.get(Subject, subject_id)
    if s is None:
        return {}
    ref: dict[str, Any] = {"kind": s.kind, "name": s.name}
    if s.uscc:
        ref["uscc"] = s.uscc
    elif s.resident_id:
        ref["resident_id"] = keyring.decrypt(s.resident_id)
    return ref


def _cursor(session: Session, ch: str, source: str) -> ExchangeCursor:
    row = session.execute(select(ExchangeCursor).where(ExchangeCursor.channel == ch,
                                                       ExchangeCursor.source == source)).scalar_one_or_none()
    if row is None:
        row = ExchangeCursor(channel=ch, source=source, last_id=0)
        session.add(row)
        session.flush()
    return row


def _record_body(rec: CreditRecord) -> dict[str, Any]:
    return {"natural_key": rec.natural_key, "version": rec.version, "item": rec.item_code,
            "department": rec.department_code, "occurred_on": _s(rec.occurred_on),
            "decided_on": _s(rec.decided_on), "value": _s(rec.value), "grade": rec.grade, "text": rec.text,
            "document_no": rec.document_no, "status": rec.status, "published_from": _s(rec.published_from),
            "published_until": _s(rec.published_until)}


def _changes(session: Session, keyring: KeyRing, recipient: str, kinds: set[str], out: Collected) -> None:
    rows = session.execute(select(QueuedChange).where(
        QueuedChange.status == "queued", QueuedChange.recipient == recipient,
        QueuedChange.kind.in_(sorted(kinds))).order_by(QueuedChange.id).limit(SCAN)).scalars()
    for qc in rows:
        # The payload is JSON already (the queue's column); the local record id stays here.
        body = {"kind": qc.kind, "cause": qc.cause, **{k: v for k, v in qc.payload.items() if k != "record_id"},
                "subject": subject_ref(session, keyring, qc.subject_id)}
        out.items.append(Item(body, qc.subject_id, qc.record_id, qc.id))


def _records(session: Session, keyring: KeyRing, ch: str, kinds: set[str], out: Collected) -> None:
    cur = _cursor(session, ch, "records")
    rows = list(session.execute(
        select(CreditRecord).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
        .where(CreditRecord.id > cur.last_id, CreditRecord.is_current.is_(True),
               CatalogItem.data_class.in_(policy().share_classes), ~CreditRecord.source.startswith("exchange:"))
        .order_by(CreditRecord.id).limit(SCAN)).scalars())
    for rec in rows:
        kind = "record.new" if rec.version == 1 else "record.changed"
        if kind in kinds:
            out.items.append(Item({"kind": kind, **_record_body(rec),
                                   "subject": subject_ref(session, keyring, rec.subject_id)},
                                  rec.subject_id, rec.id))
    if rows:
        out.cursors["records"] = rows[-1].id


def _lists(session: Session, keyring: KeyRing, ch: str, kinds: set[str], node: str, out: Collected) -> None:
    cur = _cursor(session, ch, "lists")
    rows = list(session.execute(
        select(ListEntryEvent, ListEntry).join(ListEntry, ListEntry.id == ListEntryEvent.entry_id)
        .where(ListEntryEvent.id > cur.last_id).order_by(ListEntryEvent.id).limit(SCAN)).tuples())
    for ev, e in rows:
        kind = {"publish": "list.entered", "exit": "list.exited"}.get(ev.step)
        if kind is None or kind not in kinds or e.origin != "local":
            continue
        out.items.append(Item({
            "kind": kind, "list": e.list_code, "ref": f"{node}:{e.id}", "decision_no": e.decision_no,
            "basis": e.basis, "identifying_unit": e.identifying_unit, "published_on": _s(e.published_on),
            "expires_on": _s(e.expires_on), "exited_on": _s(e.exited_on) if kind == "list.exited" else None,
            "exit_reason": e.exit_reason if kind == "list.exited" else None,
            "subject": subject_ref(session, keyring, e.subject_id)}, e.subject_id))
    if rows:
        out.cursors["lists"] = rows[-1][0].id


def _unsent(ch: str, kind: str) -> Any:
    return select(SentResult.ref_id).where(SentResult.channel == ch, SentResult.kind == kind)


def _evaluations(session: Session, keyring: KeyRing, ch: str, out: Collected) -> None:
    """Published runs not yet sent on the channel, oldest first, five per collection: a
    run published after a later one was sent goes too. The cursor stays where the
    channel started (runs before the peer was bound are history, not resent)."""
    floor = _cursor(session, ch, "evaluations").last_id
    runs = list(session.execute(select(EvaluationRun).where(
        EvaluationRun.id > floor, PUBLISHED,
        EvaluationRun.id.not_in(_unsent(ch, "evaluation"))).order_by(EvaluationRun.id).limit(5)).scalars())
    table = band_table(session.connection()) if runs else {}
    for run in runs:
        grade_bands = table.get((run.model_name, run.model_version), {})
        for sc in session.execute(select(Score).where(Score.run_id == run.id).order_by(Score.subject_id)).scalars():
            out.items.append(Item({"kind": "evaluation.result", "model": run.model_name,
                                   "model_version": run.model_version, "as_of": _s(run.as_of),
                                   "score": _s(sc.score), "grade": sc.grade, "colour": sc.colour,
                                   "band": grade_bands.get(sc.grade) if sc.grade else None,
                                   "subject": subject_ref(session, keyring, sc.subject_id)}, sc.subject_id))
        out.sent.append(("evaluation", run.id))


def _inspections(session: Session, keyring: KeyRing, ch: str, out: Collected) -> None:
    """Finished inspections not yet sent, in id order. The cursor is a floor: every task
    at or below it is sent or cancelled; above it, a task still open no longer holds
    back the ones finished after it — they go, and are remembered as sent."""
    cur = _cursor(session, ch, "inspections")
    done = list(session.execute(select(InspectionTask).where(
        InspectionTask.id > cur.last_id, InspectionTask.status == "done",
        InspectionTask.id.not_in(_unsent(ch, "inspection"))).order_by(InspectionTask.id).limit(SCAN)).scalars())
    for t in done:
        out.items.append(Item({"kind": "inspection.result", "task_kind": t.kind, "department": t.department,
                               "outcome": t.outcome, "finding": t.finding, "decision_no": t.decision_no,
                               "penalty_amount": _s(t.penalty_amount), "score": _s(t.score),
                               "inspected_on": _s(t.inspected_on),
                               "subject": subject_ref(session, keyring, t.subject_id)}, t.subject_id))
        out.sent.append(("inspection", t.id))
    # The floor rises to just below the first task still open, and no further than the
    # last one taken now when more wait (SCAN).
    first_open = session.execute(select(InspectionTask.id).where(
        InspectionTask.id > cur.last_id, InspectionTask.status == "assigned").order_by(InspectionTask.id)
        .limit(1)).scalar()
    top = session.execute(select(InspectionTask.id).order_by(InspectionTask.id.desc()).limit(1)).scalar() or 0
    floor = min(first_open - 1 if first_open is not None else top, done[-1].id if len(done) == SCAN else top)
    if floor > cur.last_id:
        out.cursors["inspections"] = floor


def _revocations(session: Session, keyring: KeyRing, ch: str, out: Collected) -> None:
    """Signed code revocation lists: this region's own when it has revoked more codes
    since the last one sent on the channel, and every other region's list held here
    that is newer than the one passed on (so a county's revocations reach the city and,
    through it, the other counties). The receiver checks each signature against its
    own trust list; the list travels exactly as signed."""
    made = code_revocations.revocations_made(session)
    if made > _cursor(session, ch, "revocations").last_id:
        doc = code_revocations.own_list(session, keyring, actor="exchange")
        if doc is not None:
            out.items.append(Item({"kind": "code.revocations", "document": json.dumps(doc, ensure_ascii=False)}, None))
            out.cursors["revocations"] = made
    for row in code_revocations.imported(session):
        source = f"revocations:{row.issuer}"[:40]
        if row.issued_at > _cursor(session, ch, source).last_id:
            out.items.append(Item({"kind": "code.revocations", "document": row.document}, None))
            out.cursors[source] = row.issued_at


def gather(session: Session, keyring: KeyRing, peer: ExchangePeer) -> Collected:
    ch = channel(peer.channel)
    kinds: set[str] = set(ch.sends)
    out = Collected()
    node = identity(session).node
    if kinds & set(CHANGE_KINDS):
        _changes(session, keyring, ch.recipient, kinds, out)
    if kinds & {"record.new", "record.changed"}:
        _records(session, keyring, peer.channel, kinds, out)
    if kinds & {"list.entered", "list.exited"}:
        _lists(session, keyring, peer.channel, kinds, node, out)
    if "evaluation.result" in kinds:
        _evaluations(session, keyring, peer.channel, out)
    if "inspection.result" in kinds:
        _inspections(session, keyring, peer.channel, out)
    if "code.revocations" in kinds:
        _revocations(session, keyring, peer.channel, out)
    return out


def _chunks(items: list[Item], n: int) -> Iterator[list[Item]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def collect(session: Session, keyring: KeyRing, peer: ExchangePeer, *, actor: str) -> list[ExchangePackage]:
    """Package everything the channel owes its peer now (nothing: no package)."""
    session.refresh(peer, with_for_update=True)
    got = gather(session, keyring, peer)
    me = identity(session)
    recipient = channel(peer.channel).recipient
    made = []
    for chunk in _chunks(got.items, policy().package_items):
        seq = peer.next_seq
        peer.next_seq = seq + 1
        envelope = sign(session, keyring, {
            "format": FORMAT, "from": me.node, "to": peer.node, "seq": seq,
            "created_at": clock.now().isoformat(timespec="seconds"), "items": [i.body for i in chunk]})
        kinds = sorted({i.body["kind"] for i in chunk})
        pkg = ExchangePackage(channel=peer.channel, direction="out", peer=peer.node, seq=seq, kinds=kinds,
                              items=len(chunk), sealed=seal(keyring, envelope), digest=digest(envelope),
                              status="pending", attempts=0, next_attempt_at=clock.now(), created_at=clock.now())
        session.add(pkg)
        session.flush()
        for sid in sorted({i.subject_id for i in chunk if i.subject_id is not None}):
            session.add(PackageSubject(package_id=pkg.id, subject_id=sid))
        change_ids = [i.change_id for i in chunk if i.change_id is not None]
        for qc in session.execute(select(QueuedChange).where(QueuedChange.id.in_(change_ids))).scalars():
            qc.status, qc.package_id = "packaged", pkg.id
        queue.record_shares(session, record_ids=[i.record_id for i in chunk if i.record_id is not None and
                                                 i.body["kind"] in ("record.new", "record.changed")],
                            recipient=recipient, ref=f"{peer.channel}#{seq}")
        audit.append(session, action="exchange.package", actor=actor,
                     detail={"channel": peer.channel, "peer": peer.node, "seq": seq, "items": len(chunk),
                             "kinds": kinds})
        made.append(pkg)
    for source, last in got.cursors.items():
        _cursor(session, peer.channel, source).last_id = last
    if got.sent:
        last_seq = made[-1].seq if made else None
        floor = _cursor(session, peer.channel, "inspections").last_id
        for kind, ref in got.sent:
            if kind == "inspection" and ref <= floor:
                continue  # below the floor: the cursor already says it
            session.add(SentResult(channel=peer.channel, kind=kind, ref_id=ref, package_seq=last_seq, sent_at=clock.now()))
    # Inspections below the floor need no row of their own any more.
    session.flush()
    session.execute(delete(SentResult).where(SentResult.channel == peer.channel, SentResult.kind == "inspection",
                                             SentResult.ref_id <= _cursor(session, peer.channel, "inspections").last_id))
    session.flush()
    return made
