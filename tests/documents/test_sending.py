"""Sending documents to their addressees (文书送达, issue 19): a draw's inspection
notices go to each firm through the alert channels — its inbox, and e-mail with the
PDF attached, delivered by the outbox to the real SMTP server process the alert tests
use — each under its own verifiable serial, with the outbox rows as the record and one
audit entry for the send; the inbox keeps each message's English beside the Chinese. A firm without an e-mail address is reported, not dropped.
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from creditgov.alerts import outbox
from creditgov.alerts.models import InboxMessage, Notification
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.documents import sending
from creditgov.reports import service as reports
from creditgov.reports.pdftext import printable
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import Forbidden
from creditgov.web import i18n
from tests.alerts.helpers import setup_alerting
from tests.alerts.peers.running import SmtpPeer
from tests.documents.test_inspection_notices import BASE, Drawn, _squash, drawn  # noqa: F401  # the fixture

__all__ = ["drawn"]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "maildir").start()
    yield peer
    peer.stop()


def test_a_draws_notices_are_sent_by_email_with_the_pdf_and_to_the_inbox(drawn: Drawn, smtp: SmtpPeer,
                                                                         tmp_path: Path) -> None:
    with_mail = sorted(drawn.names)[:2]                       # the third firm has no e-mail address
    with db.session_scope(drawn.url) as s:
        setup_alerting(s, tmp_path, smtp_port=smtp.port, contacts=[
            {"kind": "subject", "key": str(sid), "name": drawn.names[sid], "email": f"firm{n}@example.test"}
            for n, sid in enumerate(with_mail)])
        with pytest.raises(InvalidInput, match="channel"):
            sending.send(s, sending.batch_docs(s, kind="inspection", draw_id=drawn.draw_id), kind="inspection",
                         verify_base=BASE, channels=[], actor="office-a")
    with db.session_scope(drawn.url) as s:
        docs = sending.batch_docs(s, kind="inspection", draw_id=drawn.draw_id)
        sent = sending.send(s, docs, kind="inspection", verify_base=BASE, channels=["inbox", "email"],
                            actor="office-a").as_dict()
    assert [d["ref"] for d in sent["documents"]] == list(drawn.tasks)
    lacking = [sid for sid in drawn.names if sid not in with_mail]
    assert sent["unreached"] == [{"ref": t, "subject_id": sid, "channel": "email"}
                                 for t, sid in drawn.tasks.items() if sid in lacking]
    assert sent["notifications"] == len(drawn.tasks) + len(with_mail)
    d = outbox.drain(drawn.url)
    assert (d.sent, d.dead) == (sent["notifications"], 0)
    mails = {m["To"]: m for m in smtp.messages()}
    assert set(mails) == {f"firm{n}@example.test" for n in range(len(with_mail))}
    by_subject = {d["subject_id"]: d for d in sent["documents"]}
    for n, sid in enumerate(with_mail):
        m = mails[f"firm{n}@example.test"]
        serial = by_subject[sid]["serial"]
        assert "检查通知书" in m["Subject"] and serial in m["Subject"]
        [att] = list(m.iter_attachments())
        assert att.get_content_type() == "application/pdf" and serial in att.get_filename()
        pdf = att.get_content()
        text = _squash("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))
        assert serial in text and _squash(printable(drawn.names[sid])) in text and "检查事项" in text
    with db.session_scope(drawn.url) as s:
        for doc in sent["documents"]:
            assert reports.verify(s, doc["serial"])["genuine"]
            inbox = s.execute(select(Notification).where(Notification.channel == "inbox",
                                                         Notification.subject_id == doc["subject_id"])).scalar_one()
            assert inbox.recipient == f"subject:{doc['subject_id']}" and doc["serial"] in inbox.body
            assert inbox.status == "sent" and inbox.payload["document"]["serial"] == doc["serial"]
            assert "attachments" not in inbox.payload  # the PDF rides only with the e-mail
            # The firm's inbox keeps the message's English beside the Chinese, for its English pages.
            msg = s.execute(select(InboxMessage).where(InboxMessage.ref_kind == "notification",
                                                       InboxMessage.ref_id == inbox.id)).scalar_one()
            serial, unit = doc["serial"], "Market Supervision Administration"
            assert msg.body == f"{inbox.title}\n{inbox.body}" and msg.topic == "document.served"
            assert msg.body_en == (f"Inspection notice ({unit}, {serial})\n{unit} serves you (your unit) the document "
                                   f"“Inspection notice”, number {serial}. See the attachment; you can verify it at "
                                   f"{BASE}/{serial}.")
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "documents.send")).scalar_one()
        detail = json.loads(entry.detail)
        assert entry.actor == "office-a" and detail["serials"] == [x["serial"] for x in sent["documents"]]
        assert len(detail["unreached"]) == len(lacking)


def test_the_command_sends_with_json(drawn: Drawn, smtp: SmtpPeer, cli, tmp_path: Path) -> None:
    with db.session_scope(drawn.url) as s:
        setup_alerting(s, tmp_path, smtp_port=smtp.port, contacts=[])
    one = next(iter(drawn.tasks))
    res = cli("--db", drawn.url, "documents", "send", "--kind", "inspection", "--id", str(one), "--channel", "inbox",
              "--verify-base", BASE, "--actor", "office-a", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [d["ref"] for d in out["documents"]] == [one] and out["notifications"] == 1 and out["unreached"] == []
    with pytest.raises(InvalidInput, match="kind must be one of"):
        cli("--db", drawn.url, "documents", "send", "--kind", "nonsense", "--id", "1")


def test_the_page_sends_a_draw_in_both_languages(drawn: Drawn, smtp: SmtpPeer, tmp_path: Path) -> None:
    key = tmp_path / "page.key"
    create_key_file(key)
    heads = {}
    with db.session_scope(drawn.url) as s:
        setup_alerting(s, tmp_path, smtp_port=smtp.port, contacts=[])
        for name, role, dept in (("office", "credit_office", None), ("tourism", "department_officer", "tourism")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="test")
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(drawn.url, key), base_url="https://testserver")
    n = len(drawn.tasks)
    for lang, words in (("zh", f"已送达 {n} 份文书，排队发送 {n} 条消息。"),
                        ("en", f"{n} document(s) sent; {n} message(s) queued.")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        assert 'data-testid="inspection-send-form"' in c.get("/documents", headers=heads["office"]).text
        r = c.post("/documents/inspections/send", data={"draw": drawn.draw_id}, headers=heads["office"])
        assert r.status_code == 200 and words in r.text, r.text[-2000:]
        assert len(r.text.split('data-testid="unreached"')) == n + 1   # nobody has an e-mail address
    r = c.post("/documents/inspections/send", data={"draw": drawn.draw_id}, headers=heads["tourism"])
    said = i18n.refusal(Forbidden("x", code="documents.inspections.other_draw", params={
        "id": drawn.draw_id, "owner": "market", "department": "tourism"}), "en")
    assert r.status_code == 403 and html.escape(said, quote=False) in r.text, r.text[-1500:]  # another department's draw
    with db.session_scope(drawn.url) as s:
        sends = s.execute(select(AuditEntry).where(AuditEntry.action == "documents.send")).scalars().all()
        assert [e.actor for e in sends] == ["user:office", "user:office"]
