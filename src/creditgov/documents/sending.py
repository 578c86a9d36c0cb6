"""Sending documents to their addressees (文书送达) through the alert channels.

A document — a list notice or decision, an objection or repair decision, an inspection
notice — is addressed to its party, the subject. Sending a batch prints each document
on its own (`service.render`: its own serial, verifiable by its QR code, the print on
the audit chain) and queues it in the alerts' outbox to the subject, on the channels
asked for: the subject's inbox (the 我的信用 messages, with the serial and the
verification address), and e-mail to the subject's own contact with the PDF attached
(the SMTP channel attaches `payload.attachments`). The outbox delivers and retries as
for every alert; the queued rows are the record of what was sent to whom, and the send
is one audit entry naming documents, serials and notifications. A document whose
subject has no address on a channel is reported, not silently dropped. Sending the
same document again prints and queues it again, under a new serial: a second service.

Why here: documents sits above alerts (the outbox, the subject's contacts) and the
domains whose documents it lays out."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from creditgov.alerts import service as alerts
from creditgov.core.errors import InvalidInput
from creditgov.documents import casework, inspections
from creditgov.documents import service as list_service
from creditgov.documents.service import Doc, render
from creditgov.security import service as audit

CHANNELS = ("inbox", "email")
MAX_SEND = 500


@dataclass
class Sent:
    documents: list[dict[str, Any]] = field(default_factory=list)   # ref, subject, serial, notifications
    unreached: list[dict[str, Any]] = field(default_factory=list)   # ref, subject, channel: no address

    def as_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "unreached": self.unreached,
                "notifications": sum(len(d["notifications"]) for d in self.documents)}


def _delivers_files(session: Session, channel: str) -> bool:
    """A configured channel whose plugin sends to an e-mail address (SMTP: attachments)."""
    from creditgov.alerts.channels import plugins
    from creditgov.alerts.recipients import directory

    cfg = directory(session).channels.get(channel)
    return cfg is not None and getattr(plugins().get(cfg.plugin), "address_field", None) == "email"


def send(session: Session, docs: Sequence[Doc], *, kind: str, verify_base: str,
         channels: Sequence[str] = CHANNELS, actor: str | None = None) -> Sent:
    """Print each document alone and queue it to its subject on `channels`."""
    actor = actor or audit.default_actor()
    chans = list(dict.fromkeys(channels))
    if not chans:
        raise InvalidInput("name at least one channel")
    if not docs:
        raise InvalidInput("no documents to send")
    if len(docs) > MAX_SEND:
        raise InvalidInput(f"more than {MAX_SEND} documents in one send: name fewer", code="documents.send.too_many",
                           params={"max": MAX_SEND})
    with_files = [c for c in chans if _delivers_files(session, c)]
    without_files = [c for c in chans if c not in with_files]
    out = Sent()
    for doc in docs:
        printed = render(session, [doc], kind=kind, verify_base=verify_base, actor=actor, new_service=True)
        [(_ref, serial)] = printed.serials
        digest = hashlib.sha256(printed.pdf).hexdigest()
        url = f"{verify_base.rstrip('/')}/{serial}"
        unit_en = doc.unit_en or doc.unit
        title = f"{doc.title_zh}（{doc.unit}，{serial}）"
        body = f"{doc.unit}向你（单位）送达《{doc.title_zh}》，文书编号 {serial}。请查阅附件；可在 {url} 核验真伪。"
        # Its English beside the Chinese, from the same values (the inbox keeps it for
        # the English pages: `payload["en"]`).
        english = {"title": f"{doc.title_en} ({unit_en}, {serial})",
                   "body": f"{unit_en} serves you (your unit) the document “{doc.title_en}”, number {serial}. "
                           f"See the attachment; you can verify it at {url}."}
        meta = {"topic": "document.served", "en": english,
                "document": {"kind": kind, "ref": doc.ref, "serial": serial, "sha256": digest}}
        files = {"attachments": [{"filename": f"{doc.title_zh}-{serial}.pdf", "content_type": "application/pdf",
                                  "data_b64": base64.b64encode(printed.pdf).decode("ascii")}]}
        # The PDF rides only with the channels that deliver files (e-mail); the others carry
        # the number and where to verify it, so no copy of the document waits in their rows.
        queued = []
        for group, payload in ((with_files, {**meta, **files}), (without_files, meta)):
            if group:
                queued += alerts.notify(session, recipients=[{"who": "subject", "channels": group}], title=title,
                                        body=body, subject_id=doc.subject_id, key=f"document:{kind}:{serial}",
                                        payload=payload)
        got = {n.channel for n in queued}
        for ch in chans:
            if ch not in got:
                out.unreached.append({"ref": doc.ref, "subject_id": doc.subject_id, "channel": ch})
        out.documents.append({"ref": doc.ref, "subject_id": doc.subject_id, "serial": serial, "sha256": digest,
                              "notifications": [{"id": n.id, "channel": n.channel, "recipient": n.recipient}
                                                for n in queued]})
    audit.append(session, action="documents.send", actor=actor,
                 detail={"kind": kind, "channels": chans, "refs": [d["ref"] for d in out.documents],
                         "serials": [d["serial"] for d in out.documents],
                         "notifications": [n["id"] for d in out.documents for n in d["notifications"]],
                         "unreached": out.unreached})
    return out


def batch_docs(session: Session, *, kind: str, list_code: str | None = None, on: dt.date | None = None,
               ids: Sequence[int] = (), draw_id: int | None = None, department: str | None = None) -> list[Doc]:
    """The documents of one batch, chosen as printing chooses them: a list's notices or
    decisions (`list_code`, `on`, entry `ids`), objection or repair decisions (`on`, case
    `ids`), or inspection notices (`draw_id`, task `ids`; acting for `department`: its own)."""
    if kind in list_service.KINDS:
        if not list_code:
            raise InvalidInput("a list notice or decision names its list")
        return list_service.list_docs(session, list_service.entries(session, list_code=list_code, kind=kind, on=on,
                                                                    entry_ids=list(ids) or None), kind)
    if kind in ("objection", "repair"):
        return casework.docs(session, kind, on=on, ids=list(ids) or None)
    if kind == inspections.KIND:
        rows = inspections.tasks_for(session, draw_id=draw_id, task_ids=list(ids) or None, department=department)
        return inspections.docs(session, rows)
    raise InvalidInput(f"kind must be one of {', '.join([*list_service.KINDS, 'objection', 'repair', 'inspection'])}")
