"""Codes in words on the pages reviewers found raw or in the wrong language, on a real
county (SQLite and PostgreSQL), each in Chinese and in English: who did something
(`user:…`, `cli:…`, a warning rule) is said the same way on every page; supervision
bands and policies by their names; a batch's kind, a run's engine and its time rounded;
a quarantined row's reason by its category beside the stored text; an alert's delivery
notes and an objection's status change reasons in the page's language; a list notice
without the English list name. Hostile text stays escaped wherever it is echoed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from creditgov.alerts import service as alerts_service
from creditgov.core import db, labels
from creditgov.ingest import manual
from creditgov.ingest.models import QuarantinedRow
from creditgov.lists import service as lists_service
from creditgov.records.models import CreditRecord
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun
from creditgov.security.accounts import User
from creditgov.security.crypto import load_key_file
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision.schemas import InspectorsFile
from creditgov.workflows import objection
from tests.api.conftest import client_for
from tests.api.county import County, county_on, form_sign_in
from tests.web import walk as W

HOSTILE = "<b>科长</b> “引号” \u202e😀"
FIRM = "91330522MA2B00010N"
# Tourism inspectors in the firm's street (the homestay is in CX-S02: none is excluded).
TOURISM = {"inspectors": [{"code": f"WL-0{n}", "name": f"文旅检查员{n}号", "kind": "inspector",
                           "department": "tourism", "pool": "tourism", "region": "CX-S01"} for n in (1, 2, 3)]}


class Seeded:
    draw_id = 0
    objection_id = 0
    alert_id = 0
    run_id = 0


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    with county_on(request, tmp_path_factory.mktemp(f"words-{request.param}")) as c:
        yield c


@pytest.fixture(scope="module")
def seeded(county: County) -> Seeded:
    """What the reviewers' pages showed raw, made by the services as the commands and
    pages make it: a run whose time has three decimals, a homestay draw by the command
    line, a manual entry by an account with a hostile display name, an objection by an
    account the store does not know, an alert whose e-mail channel is not configured,
    a list notice sent from the command line."""
    out = Seeded()
    ring = load_key_file(county.key_file)
    r = scoring_service.evaluate(county.url, ref="public-credit-enterprise", actor="cli:root")
    out.run_id = r.run_id
    with db.session_scope(county.url) as s:
        s.execute(update(EvaluationRun).where(EvaluationRun.id == r.run_id).values(seconds=1.037))
        s.execute(update(User).where(User.username == "t-department_officer").values(display_name=HOSTILE))
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(TOURISM), actor="test")
    with db.session_scope(county.url) as s:
        # The homestay's band is drawn at 50 % with randomised rounding: a published seed that draws it.
        seed = next(str(n) for n in range(1, 100) if supervision_draws.draw(
            s, policy_name="changxing-homestay", seed=str(n), dry_run=True)["counts"]["drawn"])
        d = supervision_draws.draw(s, policy_name="changxing-homestay", seed=seed, actor="cli:root")
        out.draw_id = int(d["draw_id"])
        manual.propose(s, ring, kind="record", department="market", reason="补录处罚",
                       fields={"identifier": FIRM, "name": "长兴织造有限公司", "item": "market.penalty",
                               "occurred_on": "2026-05-03", "document_no": "长市监罚〔2026〕98号"},
                       actor="user:t-department_officer")
        rec = s.execute(select(CreditRecord.id).where(CreditRecord.subject_id == 1, CreditRecord.status == "active",
                                                      CreditRecord.is_current.is_(True))
                        .order_by(CreditRecord.id)).scalars().first()
        assert rec is not None
        out.objection_id = objection.file_objection(s, subject_id=1, record_ids=[rec], reason=HOSTILE,
                                                    actor="user:office")[0].id
        raised = alerts_service.raise_alert(
            s, rule_code="court-dishonest-debtor", subject_id=1, severity="high", title="测试预警：渠道未配置",
            recipients=[{"who": "department", "code": "credit", "channels": ["inbox", "email"]},
                        {"who": "bank", "channels": ["inbox"]}], evidence_key="test:words",
            actor="rule:court-dishonest-debtor")
        out.alert_id = raised.alert.id
        assert "channel 'email' is not configured" in raised.notes  # stored as written: the event's record
        lists_service.notify(s, entry_id=county.entry_id, actor="cli:root")
    return out


@pytest.fixture(scope="module")
def pages(county: County, seeded: Seeded) -> dict[str, dict[str, str]]:
    """lang -> path -> the page's HTML, as the credit office reads it."""
    client: TestClient = client_for(county)
    form_sign_in(client, county, "t-credit_office")
    paths = ["/supervision?tasks=all", f"/supervision/draws/{seeded.draw_id}", "/runs", "/ingest",
             "/ingest/quarantine?status=all", "/entries", f"/objections/{seeded.objection_id}",
             f"/alerts/{seeded.alert_id}", f"/lists/entries/{county.entry_id}", "/catalog", "/audit"]
    with db.session_scope(county.url) as s:
        from creditgov.supervision.models import InspectionTask

        task = s.execute(select(InspectionTask.id).where(InspectionTask.draw_id == seeded.draw_id)
                         .order_by(InspectionTask.id)).scalars().first()
    assert task is not None
    paths.append(f"/supervision/tasks/{task}")
    out: dict[str, dict[str, str]] = {}
    for lang in ("zh", "en"):
        client.cookies.set("cg_lang", lang)
        out[lang] = {}
        for p in paths:
            r = client.get(p)
            assert r.status_code == 200, (lang, p, r.status_code)
            out[lang][p] = r.text
    return out


def _seen(page: str) -> str:
    """What a person sees: the visible text, `<code>` included (a code in a code element
    is still shown)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", text.split("<main", 1)[-1]).split()))


def _page(pages: dict[str, dict[str, str]], lang: str, start: str) -> str:
    return next(v for k, v in pages[lang].items() if k.startswith(start))


WORDS = {  # lang -> what the pages say instead of the codes
    "zh": {"cli": "命令行（root）", "office": "账户 office", "rule": "预警规则（新增失信被执行人）",
           "band": "85 分以下", "policy": "民宿分级监管（长兴 85 分线）", "kind": "文件", "engine": "DuckDB 列式引擎",
           "email": "通知渠道“电子邮件”未配置或未启用", "bank": "没有可通知的银行",
           "received": "已受理（受理编号 YY-"},
    "en": {"cli": "command line (root)", "office": "account office", "rule": "warning rule (New dishonest judgement "
           "debtor)", "band": "below 85 points", "policy": "Graded supervision of homestays (Changxing 85-point line)",
           "kind": "File", "engine": "DuckDB (columnar)", "email": "Channel “E-mail” is not configured or not enabled",
           "bank": "No bank to notify", "received": "received (filing no. YY-"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_actors_read_as_words_on_every_page(pages: Any, lang: str) -> None:
    w = WORDS[lang]
    for path, page in pages[lang].items():
        seen = _seen(page)
        for raw in ("cli:root", "user:office", "user:t-department_officer", "rule:court-dishonest-debtor"):
            assert raw not in seen.replace(f'title="{raw}"', ""), (lang, path, raw)
    for start in ("/supervision?", "/supervision/d"):
        assert w["cli"] in _seen(_page(pages, lang, start)), start
    assert w["cli"] in _seen(_page(pages, lang, "/lists/entries/"))
    assert w["office"] in _seen(_page(pages, lang, "/objections/"))
    assert w["rule"] in _seen(_page(pages, lang, "/alerts/"))
    # An account by its display name, escaped as any echoed text.
    entries = _page(pages, lang, "/entries")
    assert html.escape(HOSTILE, quote=False) in entries and "<b>科长</b>" not in entries
    audit = _page(pages, lang, "/audit")
    assert w["cli"] in _seen(audit) and 'title="cli:root"' in audit  # the code kept for the record
    # each action in words, its code kept beside it
    actions = re.findall(r'<td>([^<]*)<br><code class="muted">([^<]+)</code></td>', audit)
    assert actions and all(said == html.escape(labels.label("audit_action", code, lang), quote=False)
                           and said != code for said, code in actions), actions[:5]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_supervision_names_its_bands_and_policies(pages: Any, lang: str) -> None:
    w = WORDS[lang]
    for start in ("/supervision?", "/supervision/d", "/supervision/t"):
        seen = _seen(_page(pages, lang, start))
        assert w["band"] in seen and w["policy"] in seen, (lang, start)
        assert not re.search(r"(?<![\w-])(below-85|at-least-85|changxing-homestay|lindian-enterprise)(?![\w-])",
                             seen), (lang, start)
    assert ("A 类（信用风险低）" if lang == "zh" else "Class A (low risk)") in _seen(_page(pages, lang, "/supervision?"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ingest_and_runs_say_kinds_engines_and_round_times(pages: Any, lang: str, seeded: Seeded) -> None:
    w = WORDS[lang]
    batches = _page(pages, lang, "/ingest")
    assert f"<td>{w['kind']}</td>" in batches and "<td><code>file</code></td>" not in batches
    runs = _page(pages, lang, "/runs")
    row = re.search(rf"<tr><td>{seeded.run_id}</td>.*?</tr>", runs, flags=re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), flags=re.S)
    assert w["engine"] in cells and "duckdb" not in cells
    assert "1.0" in cells and "1.037" not in row.group(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_quarantine_reasons_by_category_in_the_pages_language(pages: Any, county: County, lang: str) -> None:
    with db.session_scope(county.url) as s:
        rows = list(s.execute(select(QuarantinedRow.id, QuarantinedRow.reason)).all())
    assert rows, "the mini county quarantines rows"
    page = _page(pages, lang, "/ingest/quarantine")
    from creditgov.core import labels
    from creditgov.ingest.reasons import reason_code

    for rid, reason in rows[:20]:
        cell = re.search(rf'data-testid="quarantine-reason-{rid}">(.*?)</td>', page, flags=re.S)
        assert cell is not None, rid
        said = labels.label("quarantine_reason", reason_code(reason), lang)
        shown = html.unescape(cell.group(1))
        # the category in words, then the detail said in the page's language — or, for a
        # detail of no known shape, the stored text folded beside it
        detail = re.search(rf'data-testid="quarantine-detail-{rid}">(.*?)</span>', shown, flags=re.S)
        if detail is not None:
            assert shown.startswith(said + ("：" if lang == "zh" else ": ")), (shown, said)
            assert (re.search(r"[\u4e00-\u9fff]", detail.group(1)) is not None) == (lang == "zh") or \
                re.search(r"[\u4e00-\u9fff]", html.unescape(reason)) is not None, detail.group(1)
        else:
            assert shown.startswith(said), (shown, said)
            assert f"<code>{html.escape(reason, quote=False)}</code>" in cell.group(1)  # the stored text, folded
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", _seen(page).split("尝试次数", 1)[1])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_alert_notes_in_the_pages_language(pages: Any, lang: str) -> None:
    w = WORDS[lang]
    notes = re.search(r'data-testid="event-notes">(.*?)</div>', _page(pages, lang, "/alerts/"), flags=re.S)
    assert notes is not None
    said = html.unescape(notes.group(1))
    assert w["email"] in said and w["bank"] in said
    assert "is not configured" not in said or lang == "en"
    assert "channel 'email'" not in said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_objection_status_reason_in_the_pages_language(pages: Any, seeded: Seeded, lang: str) -> None:
    page = _page(pages, lang, "/objections/")
    seen = _seen(page)
    assert WORDS[lang]["received"] in seen
    assert f"objection {seeded.objection_id} received" not in seen
    assert HOSTILE not in page and html.escape(HOSTILE, quote=False) in page  # the reason echoed escaped


def test_the_chinese_notice_names_the_list_in_chinese_only(pages: Any) -> None:
    from creditgov.lists.documents import notice_text

    zh = _seen(_page(pages, "zh", "/lists/entries/"))
    assert "拟将您列入《重点关注对象名单》。" in zh and "Key-attention list" not in zh
    doc = {"party": {"name": "长兴织造有限公司", "code": FIRM, "legal_representative": None}, "list": "重点关注名单",
           "list_en": "Key attention list", "facts": "事实", "basis": "依据", "identifying_unit": "信用办",
           "identifying_unit_en": "Credit Office", "deadline": "2026-11-08",
           "window": {"days": 5, "counting": "working"}}
    assert "Key attention" not in notice_text(doc) and "《重点关注名单》" in notice_text(doc)
    en = notice_text(doc, "en")
    assert "placed on the Key attention list" in en and "重点关注名单" not in en and "Credit Office" in en


def test_no_page_cites_the_internal_digest(pages: Any) -> None:
    for lang in ("zh", "en"):
        for path, page in pages[lang].items():
            seen = _seen(page).lower()
            assert "digest" not in seen and "created by the" not in seen, (lang, path)


def test_the_walkers_plain_words_hold_on_these_pages(pages: Any, county: County) -> None:
    """The plain-words walker's checks (tests/web/walk.py) on these pages: no raw code of
    the label catalogue, no Chinese outside data in English, no English UI words in
    Chinese."""
    han, words = W.data_values(county.url, load_key_file(county.key_file))
    codes = W.catalogue_codes(county.url)
    found = []
    for lang in ("zh", "en"):
        w = W.Walk("credit_office", lang)
        for path, page in pages[lang].items():
            if path.startswith("/audit"):  # the audit log shows each entry's detail as recorded
                continue
            text, _links, on = W.parse(page)
            w.pages.append(W.Page(path, 200, text, on))
        found += W.problems(w, codes=codes, han=han, words=words)
    assert not found, "\n".join(found[:30])
