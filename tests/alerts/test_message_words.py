"""The inbox and an alert's page in words, in the reader's language (SQLite and
PostgreSQL): alerts the warning rules raise through the real scanners and outbox are
said in English on the English pages (the message, not the Chinese as stored); what set
an alert off is a record by its item and date, a list entry by its list, an evaluation
run by its model and date, each linked where the reader may open it; a subject and an
account are named, not numbered (a resident masked for a reader who masks people), in
the recipients and in the notes of who could not be reached; a note of a channel
missing for two recipients is said once; the export's first column is
"No."; the rule's basis is its citation in the reader's language."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts import outbox, rules, words
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts_service
from creditgov.alerts.models import Alert, AlertEvent, InboxMessage
from creditgov.alerts.recipients import say_note
from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.lists import service as lists_service
from creditgov.security import users
from creditgov.security.crypto import create_key_file, mask_name
from creditgov.subjects.models import Subject
from creditgov.web.i18n import LANG_COOKIE
from tests.alerts.helpers import (
    GRID,
    MICRO,
    add_record,
    add_run,
    make_regions,
    make_subject,
    write_yaml,
)

FIRM = '绿源"><b>纺织</b>有限公司'
RESIDENT = "张三丰"
HAN = re.compile(r"[\u3400-\u9fff]+")


def _text(html: str) -> str:
    """The visible text of a page's main part (tags dropped, entities kept escaped)."""
    main = html.split("<main", 1)[-1]
    main = re.sub(r"<(script|style|code)\b.*?</\1>", " ", main, flags=re.S)
    return re.sub(r"<[^>]+>", " ", main)


@pytest.fixture
def world(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A firm and a resident in one grid; the shipped rules raise on the firm's new
    dishonest-debtor record, its grade falling to D and its entry on the serious-dishonesty
    list; an alert about the resident goes to the resident and to a bank; all delivered."""
    from tests.lists.helpers import publish_manual_entry

    key = tmp_path / "words.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        regions = make_regions(s)
        firm = make_subject(s, region=regions[MICRO], name=FIRM)
        person = make_subject(s, region=regions[MICRO], kind="individual", name=RESIDENT)
        lists_service.load_lists(s, actor="test")
        alerts_service.load_rules(s, actor="test")
        fid, pid = firm.id, person.id
        heads = {}
        for name, role, shown, scope in (("office", "credit_office", "王主任", {}),
                                         ("grid", "grid_worker", "李网格", {"region_code": GRID}),
                                         ("bankdesk", "bank_officer", "赵信贷", {"organisation": "test-bank"})):
            u = users.create_user(s, username=name, password=None, role=role, display_name=shown, actor="test",
                                  **scope)
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}",
                           "accept": "text/html"}
    rules.evaluate(store)  # the cursors start here
    with db.session_scope(store) as s:
        f = s.get(Subject, fid)
        rec = add_record(s, f, "court.dishonest_debtor", on=clock.today() - dt.timedelta(days=3))
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 1), [(f, "90", "A", "green")])
    rules.evaluate(store)
    with db.session_scope(store) as s:
        add_run(s, "public-credit-enterprise", dt.date(2026, 10, 1), [(s.get(Subject, fid), "40", "D", "red")])
    entry = publish_manual_entry(store, monkeypatch, "serious-dishonesty", fid)
    rules.evaluate(store)
    with db.session_scope(store) as s:
        alerts_service.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=pid, title="测试：居民预警",
                                   body="测试用预警。", evidence_key="words:resident", actor="test",
                                   recipients=[{"who": "subject", "channels": ["inbox"]}, "bank:test-bank"])
        by_rule = {a.rule_code: a.id for a in s.execute(select(Alert).where(Alert.subject_id == fid)).scalars()}
    outbox.drain(store)
    client = TestClient(create_app(store, key), base_url="https://testserver")
    return {"client": client, "heads": heads, "firm": fid, "person": pid, "record": rec.id, "entry": entry,
            "alerts": by_rule}


def _get(w: dict[str, Any], who: str, path: str, lang: str) -> str:
    w["client"].cookies.set(LANG_COOKIE, lang)
    r = w["client"].get(path, headers=w["heads"][who])
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


def test_the_inbox_speaks_the_readers_language(world: dict[str, Any]) -> None:
    firm = str(escape(FIRM))
    zh = _get(world, "office", "/inbox", "zh")
    en = _get(world, "office", "/inbox", "en")
    # The heading: the account by its person's name, with the page's own colon.
    to_zh = re.search(r'data-testid="inbox-to">(.*?)</p>', zh, re.S)
    to_en = re.search(r'data-testid="inbox-to">(.*?)</p>', en, re.S)
    assert to_zh and to_en
    assert to_zh.group(1).startswith("收件人：王主任") and "用户" not in to_zh.group(1)
    assert to_en.group(1).startswith("To: 王主任") and "：" not in to_en.group(1) and "User" not in to_en.group(1)
    # The subject column names the firm and links its file; never its number alone.
    cells = re.findall(r'data-testid="message-subject-\d+">(.*?)</td>', en, re.S)
    assert cells and all(c == f'<a href="/subjects/{world["firm"]}">{firm}</a>' for c in cells if c), cells
    # The messages: Chinese as sent, English on the English page.
    bodies_zh = re.findall(r'data-testid="message-body-\d+">(.*?)</td>', zh, re.S)
    bodies_en = re.findall(r'data-testid="message-body-\d+">(.*?)</td>', en, re.S)
    assert len(bodies_zh) == len(bodies_en) == 2
    assert any("新增「失信被执行人」记录" in b for b in bodies_zh)
    grid = re.findall(r'data-testid="message-body-\d+">(.*?)</td>', _get(world, "grid", "/inbox", "en"), re.S)
    joined = "\n".join(bodies_en)
    assert "a new “Dishonest judgement debtor” record" in joined
    assert "is on the" in joined and "Basis: " in joined and "依据：" not in joined
    runs = "\n".join(grid)
    assert "the grade in the evaluation model" in runs and "changed from A to D" in runs
    assert "the score in the evaluation model" in runs and "fell from 90.00 to 40.00" in runs
    for b in bodies_en + grid:  # no Chinese but the data (the firm's name): the rules' basis in English too
        assert not HAN.search(b.replace(firm, "")), b


def test_a_bank_reads_a_residents_name_masked(world: dict[str, Any]) -> None:
    for lang in ("zh", "en"):
        page = _get(world, "bankdesk", "/inbox", lang)
        cells = re.findall(r'data-testid="message-subject-\d+">(.*?)</td>', page, re.S)
        assert cells == [mask_name(RESIDENT)]  # no file link: a bank opens consented files only
        assert RESIDENT not in _text(page)
        head = re.search(r'data-testid="inbox-to">(.*?)</p>', page, re.S)
        assert head and "赵信贷" in head.group(1)


def test_the_alert_page_says_its_evidence_and_recipients(world: dict[str, Any], tmp_path: Path) -> None:
    a = world["alerts"]
    record = _get(world, "office", f"/alerts/{a['court-dishonest-debtor']}", "en")
    assert "<h1>Alert #" in record and "Alerts #" not in record and "1 times" not in record
    assert re.search(r"<dd>[^<]*· once</dd>", record)
    ev = re.search(r'data-testid="alert-evidence">(.*?)</table>', record, re.S)
    assert ev, record[-3000:]
    assert (f'<a href="/subjects/{world["firm"]}#rec-{world["record"]}">Record: Dishonest judgement debtor ('
            in ev.group(1))
    message = re.search(r'data-testid="alert-message">(.*?)</p>', record, re.S)
    assert message and "a new “Dishonest judgement debtor” record" in message.group(1)
    # The rule reaches two recipients by SMS, which is not configured: said once.
    notes = re.search(r'data-testid="event-notes">(.*?)</div>', record, re.S)
    assert notes and notes.group(1).count("Channel “SMS” is not configured or not enabled") == 1
    listed = _get(world, "office", f"/alerts/{a['listed-serious-dishonesty']}", "en")
    assert re.search(rf'<a href="/lists/entries/{world["entry"]}">Entry on the [^<]+</a>', listed)
    run = _get(world, "office", f"/alerts/{a['grade-to-c-or-d']}", "zh")
    ev = re.search(r'data-testid="alert-evidence">(.*?)</table>', run, re.S)
    assert ev and '<a href="/runs">评价批次：' in ev.group(1) and "评价日 2026-10-01" in ev.group(1)
    assert "对比上一批次" in ev.group(1) and "评价日 2026-09-01" in ev.group(1)
    for page in (record, listed, run):
        shown = _text(page)
        for raw in ("list_entry:", "list_entry=", "run:", "run=", "record=", "item=", "previous_run"):
            assert raw not in shown, raw
    # The grid worker reads the firm's file too; a resident's alert names its recipients.
    with db.session_scope(world["client"].app.state.ctx.url) as s:
        rid = s.execute(select(Alert.id).where(Alert.subject_id == world["person"])).scalar_one()
    for lang, subject in (("zh", RESIDENT), ("en", RESIDENT)):
        page = _get(world, "office", f"/alerts/{rid}", lang)
        table = re.search(r'data-testid="notifications">(.*?)</table>', page, re.S)
        assert table and f"<td>{subject}</td>" in table.group(1)
        assert ("主体 " if lang == "zh" else "Subject ") + str(world["person"]) not in table.group(1)
    # A note about a subject's inbox names the subject as the reader sees it, not by number.
    pid, url = world["person"], world["client"].app.state.ctx.url
    with db.session_scope(url) as s:
        alert_contacts.load_channels(s, path=write_yaml(tmp_path / "channels.yaml", {"channels": [
            {"name": "email", "plugin": "smtp", "settings": {"host": "127.0.0.1", "port": 2525,
                                                             "sender": "alerts@anlan.gov.test"}}]}), actor="test")
        unmailed = alerts_service.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=pid, title="测试：无邮箱",
                                              evidence_key="words:no-mail", dedup_key="words:no-mail", actor="test",
                                              recipients=[{"who": "subject", "channels": ["email"]}]).alert.id
        masked = words.subject_names(s, [pid], masked=True)
    for lang, note in (("zh", f"{RESIDENT}没有登记“电子邮件”渠道的电子邮箱"),
                       ("en", f"{RESIDENT} has no e-mail address for channel “E-mail”")):
        notes = re.search(r'data-testid="event-notes">(.*?)</div>',
                          _get(world, "office", f"/alerts/{unmailed}", lang), re.S)
        assert notes and note in notes.group(1) and f"#{pid}" not in notes.group(1), lang
    # … masked for a reader who masks people.
    assert say_note(f"subject:{pid}: no email for channel 'email'", "en", subjects=masked) == \
        f"{mask_name(RESIDENT)} has no e-mail address for channel “E-mail”"


def test_repeats_and_the_english_export(world: dict[str, Any]) -> None:
    url = world["client"].app.state.ctx.url
    with db.session_scope(url) as s:
        for n in (1, 2):
            aid = alerts_service.raise_alert(s, rule_code="court-judgement-unperformed", subject_id=world["firm"],
                                             title="测试：重复", dedup_key="words:repeat", evidence_key=f"words:r{n}",
                                             actor="test").alert.id
    page = _get(world, "office", f"/alerts/{aid}", "en")
    assert re.search(r"<dd>[^<]*· 2 times</dd>", page)
    assert re.search(r"<dd>[^<]*· 共 2 次</dd>", _get(world, "office", f"/alerts/{aid}", "zh"))
    for lang, first in (("en", "No."), ("zh", "编号")):
        world["client"].cookies.set(LANG_COOKIE, lang)
        r = world["client"].get("/alerts/export.csv?status=all", headers=world["heads"]["office"])
        header = next(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert header[0] == first and header.count(header[0]) == 1


def test_an_escalation_carries_the_english_of_the_alert(world: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule's court alert escalates to market's desk after 24 hours: the escalation's
    notification keeps the English too, headed as an escalation; the market desk's English
    inbox says it in English."""
    from creditgov.alerts.models import Notification

    url = world["client"].app.state.ctx.url
    aid = world["alerts"]["court-dishonest-debtor"]
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")  # the day it was raised (the list moved the clock)
    with db.session_scope(url) as s:
        a = s.get(Alert, aid)
        assert a is not None and a.ack_due_at is not None
        a.raised_at -= dt.timedelta(hours=25)
        a.ack_due_at -= dt.timedelta(hours=25)
        s.flush()
        assert alerts_service.escalate_due(s) == [(aid, 1)]
        [n] = s.execute(select(Notification).where(Notification.alert_id == aid,
                                                   Notification.recipient == "department:market")).scalars()
        en = n.payload["en"]
        assert n.title.startswith("[升级1] ") and en["title"].startswith("[Escalation 1] New dishonest judgement debtor")
        assert en["body"].endswith("it was escalated as the rule says.") and "a new “Dishonest judgement" in en["body"]
    outbox.drain(url)
    from creditgov.alerts.access import inbox_view
    from creditgov.alerts.inbox import inbox_of
    from creditgov.security.scopes import Principal, Role, authorize

    desk = Principal(role=Role.DEPARTMENT, user_id=9, username="m", department_code="market")
    with db.session_scope(url) as s:
        view = inbox_view(s, authorize(desk, "inbox.read"), inbox_of(s, ["department:market"]), "en")
    said = [m["said"] for m in view["messages"] if m["said"].startswith("[Escalation 1]")]
    assert said and not HAN.search(said[0].replace(FIRM, ""))


def test_a_rules_basis_is_said_in_the_readers_language(world: dict[str, Any], tmp_path: Path) -> None:
    """An alert's "Basis:" line is its rule's citation in the reader's language: the
    rule's `citation_en` on the English alert page and inbox (no sentence of the
    product's in Chinese), its citation with full-width punctuation on the Chinese page.
    An alert sent before its rule had `citation_en` (its English kept the Chinese
    citation, then written with ASCII punctuation) is said in English too. A rules file
    without `citation_en` still loads, and the basis is then said as written."""
    url, firm = world["client"].app.state.ctx.url, str(escape(FIRM))
    aid = world["alerts"]["court-dishonest-debtor"]
    rule = next(r for r in alerts_service.WARNING_RULES.shipped().rules if r.code == "court-dishonest-debtor")
    assert rule.citation_en
    basis_en = f"Basis: {escape(rule.citation_en)}"

    def message(alert_id: int, lang: str) -> str:
        m = re.search(r'data-testid="alert-message">(.*?)</p>', _get(world, "office", f"/alerts/{alert_id}", lang),
                      re.S)
        assert m, alert_id
        return m.group(1)

    def inbox_said() -> str:
        bodies = re.findall(r'data-testid="message-body-\d+">(.*?)</td>', _get(world, "office", "/inbox", "en"), re.S)
        [said] = [b for b in bodies if "Dishonest judgement debtor" in b]
        return said

    en, zh = message(aid, "en"), message(aid, "zh")
    assert en.endswith(basis_en) and "Supreme People&#39;s Court" in en and "(Fashi [2017] No. 7)" in en
    assert not HAN.search(en.replace(firm, "")), en
    assert zh.endswith(f"依据：{escape(rule.citation)}") and "（法释〔2017〕7号）；国办发〔2019〕35号 二（五）" in zh
    assert inbox_said().endswith(basis_en)
    # Sent before the rule had its English: the Chinese citation as it was then written.
    before = "最高人民法院《关于公布失信被执行人名单信息的若干规定》(法释〔2017〕7号); 国办发〔2019〕35号 二(五)"
    with db.session_scope(url) as s:
        ev = s.execute(select(AlertEvent).where(AlertEvent.alert_id == aid, AlertEvent.action == "raised")).scalar_one()
        old_en = {**ev.detail["en"], "body": ev.detail["en"]["body"].replace(f"Basis: {rule.citation_en}",
                                                                             f"Basis: {before}")}
        ev.detail = {**ev.detail, "en": old_en}
        sent = s.execute(select(InboxMessage).where(InboxMessage.topic == f"alert.{rule.code}",
                                                    InboxMessage.recipient == "credit")).scalars().all()
        for m in sent:
            m.body_en = (m.body_en or "").replace(f"Basis: {rule.citation_en}", f"Basis: {before}")
        assert old_en["body"].endswith(before) and any((m.body_en or "").endswith(before) for m in sent)
    assert message(aid, "en").endswith(basis_en) and inbox_said().endswith(basis_en)
    # A rules file without `citation_en` loads; the basis is then said as written.
    doc = yaml.safe_load(alerts_service.WARNING_RULES.text())
    for r in doc["rules"]:
        r.pop("citation_en")
    with db.session_scope(url) as s:
        alerts_service.load_rules(s, path=write_yaml(tmp_path / "rules.yaml", doc), actor="test")
        assert alert_queries.citations(s)[rule.code] == (rule.citation, None)
        add_record(s, s.get(Subject, world["firm"]), "court.judgement", on=clock.today() - dt.timedelta(days=2))
    assert message(aid, "en").endswith(f"Basis: {escape(before)}")  # as its English was kept
    assert rules.evaluate(url).raised == 1
    with db.session_scope(url) as s:
        judged = s.execute(select(Alert).where(Alert.rule_code == "court-judgement-unperformed")).scalar_one()
        english = alerts_service.raised_english(s, judged.id)
    assert english and english["body"].endswith("\nBasis: 《民事诉讼法》第二百六十四条（执行）；衢江园区涉诉信息实时监控")
    assert message(judged.id, "en").endswith("Basis: 《民事诉讼法》第二百六十四条（执行）；衢江园区涉诉信息实时监控")


def test_a_rules_own_templates_and_their_english() -> None:
    """A rule with a Chinese template of its own has English only when it gives one; a
    value's English (`x_en`) fills the English template, the Chinese one the Chinese."""
    from creditgov.alerts.schemas import NewRecordRule

    base = {"code": "own", "kind": "new_record", "name_zh": "自定义", "name_en": "Own rule", "severity": "low",
            "citation": "本地规则", "recipients": [{"who": "grid_worker"}], "items": ["court.lawsuit"]}
    ctx = {"rule_name": "自定义", "rule_name_en": "Own rule", "subject_name": FIRM, "item_name": "诉讼",
           "item_name_en": "Lawsuit", "date": "2026-11-01", "document_no": "无文号", "document_no_en": "no document number"}
    assert rules.english(NewRecordRule.model_validate({**base, "body": "{subject_name} 有新记录"}), ctx) is None
    own = rules.english(NewRecordRule.model_validate({**base, "body": "{subject_name} 有新记录",
                                                      "body_en": "{subject_name} has a new {item_name} record"}), ctx)
    assert own == {"title": f"Own rule: {FIRM}", "body": f"{FIRM} has a new Lawsuit record\nBasis: 本地规则"}
    default = rules.english(NewRecordRule.model_validate(base), ctx)
    assert default is not None and default["body"].startswith(f"{FIRM}: a new “Lawsuit” record (2026-11-01, no document")
    with pytest.raises(ValueError, match="plain name"):
        NewRecordRule.model_validate({**base, "body_en": "{subject_name.__class__}"})
