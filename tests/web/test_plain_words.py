"""Every page in plain words (issue 21), on a generated county built as `make demo`
builds its own, on SQLite and on PostgreSQL (one set of generated files for both):
every page each role reaches, in Chinese and in English, shows no raw code of the label
catalogue, no Chinese outside data values in English and no English UI words in Chinese;
one masking policy per viewer holds on every page; the menu highlights exactly one item;
the list page is paginated, filtered and sorted, and its decisions carry official
numbers of their identifying unit."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import clock, db, labels
from creditgov.finance.models import Bank, NeedConsent
from creditgov.lists.models import ListEntry
from creditgov.points.models import MerchantSelection, Offer, Redemption, Shop
from creditgov.security.accounts import AccessConsent
from creditgov.security.crypto import load_key_file, mask_name
from creditgov.security.demo import DEMO_BANK
from creditgov.security.scopes import PERMISSIONS, Role
from creditgov.subjects.models import Subject, SubjectLink
from creditgov.web.render import NAV
from tests import store_template
from tests.api import county as api_county
from tests.api.county import County, form_sign_in
from tests.web import walk as W
from tests.web.plain_county import MAKE_DEMO, Demo, build, generate_county, make_demo_steps

ROLES = ["admin", "credit_office", "department_officer", "grid_worker", "inspector", "bank_officer", "subject",
         "shop", "borrower", "public"]
# Two more subject accounts of the demo (security.demo): a merchant that runs a shop of the
# points supermarket (it confirms redemption codes) and a borrower of 信易贷 (its loan).
ROLE_OF = {"shop": "subject", "borrower": "subject"}
MASKED = {"bank_officer", "subject", "public"}  # security.scopes.Principal.masks_people
# Notifications leave the platform (SMS, e-mail), so their stored text names residents
# masked for every reader; the pages that show that text are not held to the reader's policy.
MESSAGE_PAGES = ("/alerts", "/inbox")


def test_the_build_follows_make_demo() -> None:
    """The walked county is the one `make demo` leaves: a command added to the
    Makefile's demo target is added to tests/web/plain_county.py too."""
    assert make_demo_steps((Path(__file__).parents[2] / "Makefile").read_text("utf-8")) == MAKE_DEMO


@pytest.fixture(scope="module")
def county_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated county's source files: generated once, loaded into both stores."""
    return generate_county(tmp_path_factory.mktemp("plain-words-files"), subjects=1000)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         county_files: Path) -> Iterator[Demo]:
    """The demo county on each store; on PostgreSQL in a schema of its own (a missing
    PostgreSQL fails the run under CI=true, as every store test does)."""
    folder = tmp_path_factory.mktemp(f"plain-words-{request.param}")
    if request.param == "sqlite":
        yield build(folder, county=county_files)
        return
    with store_template.pg_schema(request.getfixturevalue("pg_base"), "t_plain_") as url:
        yield build(folder, url=url, county=county_files)


@pytest.fixture(scope="module")
def app(demo: Demo) -> Iterator[Any]:
    """The application; the public pages' rate limit (per client address, and every
    walker is the test client) raised so ten walkers in two languages are not refused."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDITGOV_PUBLIC_RATE", "100000/60")
        yield create_app(demo.url, demo.key_file)


def _client(app: Any, demo: Demo, role: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    if role != "public":
        acc = demo.accounts[role]
        c = County(url=demo.url, key_file=demo.key_file, totp=demo.totp)
        old, api_county.PASSWORD = api_county.PASSWORD, acc["password"]
        try:
            form_sign_in(client, c, acc["username"])
        finally:
            api_county.PASSWORD = old
    return client


def _start(demo: Demo) -> list[str]:
    """The menu, the public pages and the pages of rows no menu links to: the
    credit-merchant selection's round, a shop's confirmation page and a need the demo
    bank may open (its borrower consented)."""
    with db.session_scope(demo.url) as s:
        # A consent in force today: the demo's loans were consented months ago and have run out.
        today = clock.today()
        need = s.execute(select(NeedConsent.need_id).join(Bank, Bank.id == NeedConsent.bank_id)
                         .join(AccessConsent, AccessConsent.id == NeedConsent.consent_id)
                         .where(Bank.code == DEMO_BANK, AccessConsent.revoked_on.is_(None),
                                AccessConsent.granted_on <= today,
                                AccessConsent.expires_on.is_(None) | (AccessConsent.expires_on >= today))
                         .order_by(NeedConsent.need_id).limit(1)).scalar()
        assert need is not None, "the demo keeps one need consented to its bank"
        rounds = list(s.execute(select(MerchantSelection.code).order_by(MerchantSelection.code)).scalars())
    return ["/", "/public", "/public/lists", "/public/boards", "/bigscreen", "/me/credit", *(n.href for n in NAV),
            "/points/confirm", *(f"/public/selections/{c}" for c in rounds),
            *(f"/points/selections/{c}" for c in rounds), *([f"/finance/bank/needs/{need}"] if need else [])]


def _redeem(app: Any, demo: Demo) -> None:
    """Redemptions made through the pages, beside the demo's own (`shop
    demo-redemptions`): on its own page the borrower redeems an offer of the shop's,
    which the shop confirms on its page, and one of the community market's, left
    reserved."""
    shop_subject = int(demo.accounts["shop"]["scope"].split("=")[1])
    with db.session_scope(demo.url) as s:
        offers = dict(s.execute(select(Offer.id, Shop.subject_id).join(Shop, Shop.id == Offer.shop_id)).tuples().all())
    borrower = _client(app, demo, "borrower")
    page = borrower.get("/me/points").text
    forms = re.findall(r'name="csrf_token" value="([^"]+)">\s*<input type="hidden" name="offer_id" value="(\d+)">'
                       r'<input type="hidden" name="key" value="([^"]+)">', page)
    own = next(f for f in forms if offers[int(f[1])] == shop_subject)
    other = next(f for f in forms if offers[int(f[1])] is None)
    for csrf, offer, key in (own, other):
        r = borrower.post("/me/points/redeem", data={"csrf_token": csrf, "offer_id": offer, "key": key})
        assert r.status_code == 303, r.text
    with db.session_scope(demo.url) as s:
        code = s.execute(select(Redemption.code).where(Redemption.offer_id == int(own[1]),
                                                       Redemption.idempotency_key == own[2])).scalar_one()
    shop = _client(app, demo, "shop")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', shop.get("/points/confirm").text)
    assert csrf is not None
    r = shop.post("/points/confirm", data={"csrf_token": csrf.group(1), "code": code})
    assert r.status_code == 200 and "data-testid=\"error\"" not in r.text, r.text


@pytest.fixture(scope="module")
def walks(app: Any, demo: Demo) -> Iterator[dict[tuple[str, str], W.Walk]]:
    _redeem(app, demo)
    start = _start(demo)
    out = {}
    for role in ROLES:
        client = _client(app, demo, role)
        for lang in ("zh", "en"):
            out[(role, lang)] = W.walk(client, role, lang, start=start)
    yield out


@pytest.fixture(scope="module")
def data(demo: Demo) -> tuple[set[str], set[str], set[str]]:
    han, words = W.data_values(demo.url, load_key_file(demo.key_file))
    return han, words, W.catalogue_codes(demo.url)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_speaks_plain_words(walks: Any, data: Any, role: str) -> None:
    han, words, codes = data
    found = []
    for lang in ("zh", "en"):
        w = walks[(role, lang)]
        assert w.pages, f"{role} reached no page"
        found += W.problems(w, codes=codes, han=han, words=words)
    assert not found, "\n".join(found[:40])


def test_the_walk_reaches_every_menu_page(walks: Any) -> None:
    """The walk is not vacuous: each role reaches the menu pages its permissions show."""
    for role in ROLES:
        seen = {p.split("?")[0] for p in walks[(role, "zh")].visited}
        shown = [n.href for n in NAV if ROLE_OF.get(role, role) in {r.value for r in PERMISSIONS.get(n.permission, {})}
                 and not n.href.startswith(W.NOT_WALKED)]
        missing = [h for h in shown if h not in seen and h != "/"]
        assert not missing, f"{role}: {missing}"
    assert len(walks[("admin", "en")].pages) >= 30


def _residents(demo: Demo) -> dict[int, str]:
    with db.session_scope(demo.url) as s:
        return {i: n for i, n in s.execute(select(Subject.id, Subject.name)
                                           .where(Subject.resident_id_index.is_not(None))) if len(n) >= 2}


def _named(text: str, name: str) -> bool:
    if name not in text:  # the common case, without a regular expression per resident and page
        return False
    return re.search(rf"(?<![\u3400-\u9fff]){re.escape(name)}(?![\u3400-\u9fff])", text) is not None


@pytest.mark.parametrize("role", ROLES)
def test_one_masking_policy_per_viewer(walks: Any, demo: Demo, role: str) -> None:
    """Masked viewers never see a resident's full name (a subject sees its own); the
    others never see a resident masked, except in notification text."""
    people = _residents(demo)
    own = demo.accounts.get(role, {}).get("scope", "")
    own_id = int(own.split("=")[1]) if own.startswith("subject_id=") else None
    masked_forms = {mask_name(n): n for n in people.values() if len(n) >= 3}  # 张*三: not a word of its own
    bad = []
    for lang in ("zh", "en"):
        for p in walks[(role, lang)].pages:
            if ROLE_OF.get(role, role) in MASKED:
                bad += [f"{p.path}: {n}" for i, n in people.items() if i != own_id and _named(p.text, n)]
            elif not p.path.startswith(MESSAGE_PAGES):
                bad += [f"{p.path}: {m}" for m in masked_forms if m in p.text]
    assert not bad, f"{role}: " + "; ".join(sorted(set(bad))[:20])


def test_staff_see_a_firms_people_named(app: Any, demo: Demo) -> None:
    """The linked people of a firm: whole names for the office, masked for a bank."""
    with db.session_scope(demo.url) as s:
        firm, person = s.execute(select(SubjectLink.firm_id, Subject.name)
                                 .join(Subject, Subject.id == SubjectLink.person_id).limit(1)).one()
    page = _client(app, demo, "credit_office").get(f"/subjects/{firm}")
    assert page.status_code == 200 and person in page.text


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_highlights_one_item(walks: Any, role: str) -> None:
    """On every page the menu marks at most one item, and on a menu page exactly its own."""
    hrefs = {n.href for n in NAV}
    for p in walks[(role, "zh")].pages:
        path = p.path.split("?")[0]
        assert len(p.highlighted) <= 1, (p.path, p.highlighted)
        if path in hrefs and p.highlighted:
            assert p.highlighted == [path], (p.path, p.highlighted)


def test_public_menu_highlights_exactly_one(app: Any, demo: Demo) -> None:
    client = _client(app, demo, "public")
    for path in ("/public", "/public/lists", "/public/boards"):
        html = client.get(path).text
        nav = html.split('<nav class="main">', 1)[1].split("</nav>", 1)[0]
        on = re.findall(r'<a href="([^"]+)" class="on"', nav)
        assert on == [path], (path, on)


def test_the_lists_page_is_paginated_filtered_and_sorted(app: Any, demo: Demo) -> None:
    client = _client(app, demo, "credit_office")
    with db.session_scope(demo.url) as s:
        total = s.execute(select(ListEntry.id)).all()
        red = [e for e in s.execute(select(ListEntry).where(ListEntry.list_code == "red")).scalars()]
    page = client.get("/lists")
    rows = re.findall(r'<a href="/lists/entries/(\d+)">', page.text)
    assert 0 < len(rows) <= 50
    assert f"{len(total)}" in re.sub(r"<[^>]+>", "", page.text.split('data-testid="pager"', 1)[1])[:200]
    if len(total) > 50:
        second = client.get("/lists?page=2")
        assert not set(re.findall(r'<a href="/lists/entries/(\d+)">', second.text)) & set(rows)
    only_red = client.get("/lists?list=red&sort=expires")
    shown = [int(i) for i in re.findall(r'<a href="/lists/entries/(\d+)">', only_red.text)]
    assert shown and set(shown) <= {e.id for e in red}
    by_expiry = sorted((e for e in red), key=lambda e: (e.expires_on is None, e.expires_on, e.id))
    assert shown == [e.id for e in by_expiry][:len(shown)] or len({e.expires_on for e in red}) > 1
    court = client.get("/lists?unit=court")
    assert court.status_code == 200


def test_decisions_carry_their_units_official_numbers(demo: Demo) -> None:
    """Bulk approvals numbered as each identifying unit numbers its documents: the
    unit's code, the year in 〔〕, its own serial from 1 (GB/T 9704-2012 7.2.4)."""
    with db.session_scope(demo.url) as s:
        rows = s.execute(select(ListEntry.identifying_unit, ListEntry.decision_no)
                         .where(ListEntry.decision_no.is_not(None))).all()
    assert rows
    serials: dict[str, list[int]] = {}
    for unit, no in rows:
        m = re.fullmatch(r"(\S+?)〔2026〕([1-9]\d*)号", no)
        assert m, no
        assert unit != "court" or m.group(1) == "县法失惩"
        serials.setdefault(m.group(1), []).append(int(m.group(2)))
    for prefix, got in serials.items():
        assert sorted(got) == list(range(1, len(got) + 1)), prefix
    court = [no for unit, no in rows if unit == "court"]
    assert all("credit" not in no for no in court)


def test_labels_are_drawn_from_the_data_files(demo: Demo) -> None:
    with labels.store(demo.url):
        assert labels.label("subject_kind", "enterprise", "en") == "Enterprise"
        assert labels.label("department", "utility", "zh") == "供水供电公司"
        assert labels.label("industry", "childrenswear", "en") == "Children's wear"
        assert labels.label("model", "public-credit-enterprise@1", "zh") == "企业公共信用综合评价（第1版）"
        assert labels.label("list", "serious-dishonesty", "zh") == "严重失信主体名单"
        assert labels.label("role", Role.GRID.value, "en") == "Grid worker"
        grid = demo.accounts["grid_worker"]["scope"].split("=")[1]
        assert labels.label("region", grid, "zh") != grid
        assert labels.label("item", "<b>unknown</b>", "en") == "<b>unknown</b>"  # unknown codes pass unchanged
        assert labels.labelled("record_status", "active") == {"code": "active", "label_zh": "有效",
                                                               "label_en": "In force"}


def test_command_tables_show_labels(demo: Demo) -> None:
    """`creditgov subject show` and `creditgov lists entries` name kinds, statuses,
    items and departments in words (Chinese, or English with CREDITGOV_LANG=en)."""
    with db.session_scope(demo.url) as s:
        firm = s.execute(select(ListEntry.subject_id).where(ListEntry.identifying_unit == "court").limit(1)).scalar()
        firm = firm or s.execute(select(Subject.id).where(Subject.kind == "enterprise").limit(1)).scalar_one()
    env = {**os.environ, "CREDITGOV_DB": demo.url, "CREDITGOV_KEY_FILE": str(demo.key_file), "COLUMNS": "250"}

    def cg(*args: str, lang: str = "zh") -> str:
        res = subprocess.run([sys.executable, "-m", "creditgov.cli", *args], env={**env, "CREDITGOV_LANG": lang},
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return res.stdout

    shown = cg("subject", "show", str(firm))
    assert "有效" in shown or "公示期满" in shown
    for raw in ("(enterprise, confirmed)", " active ", "negative/"):
        assert raw not in shown
    entries = cg("lists", "entries", "--limit", "20")
    assert "已公示" in entries and not re.search(r"│ (published|local) +│", entries)
    english = cg("lists", "entries", "--limit", "20", lang="en")
    assert "Published" in english and "已公示" not in english


# ----------------------------------------------------------------------------- what a reviewer found on the demo


def _visible(page: str) -> str:
    """What a person sees of a page's main part, `<code>` included."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", text.split("<main", 1)[-1]).split()))


def _in(client: TestClient, lang: str, path: str) -> str:
    client.cookies.set("cg_lang", lang)
    r = client.get(path)
    assert r.status_code == 200, (lang, path, r.status_code)
    return r.text


def test_public_search_and_lists_page_through_every_row(app: Any, demo: Demo) -> None:
    """The public search and the public lists say how many rows there are and page
    through all of them, 30 a page (the search used to say 1350 and list 30, the lists
    to stop at 200): every row once, the count with thousands separators."""
    public = _client(app, demo, "public")
    with db.session_scope(demo.url) as s:
        from creditgov.lists.queries import listed_on
        from creditgov.security.scopes import PUBLIC, authorize
        from creditgov.subjects import search as subject_search

        total = subject_search.search(s, load_key_file(demo.key_file), scope=authorize(PUBLIC, "public.query")
                                      .subject_clause(), q="有限公司", limit=1).total
        in_force = len(s.execute(select(ListEntry.id).where(listed_on(clock.today()),
                                                            ListEntry.status == "published")).all())
    assert total > 30 and in_force > 30, (total, in_force)
    seen: list[str] = []
    for page in range(1, -(-total // 30) + 1):
        text = _in(public, "zh", f"/public?q=有限公司&page={page}")
        rows = re.findall(r'<a href="/public/firms/(\d+)">', text)
        assert 0 < len(rows) <= 30 and f"共 {total:,} 个结果" in text
        assert f"第 {page} / {-(-total // 30)} 页" in _visible(text)
        seen += rows
    assert len(seen) == len(set(seen)) == total
    assert 'rel="next"' not in text and 'rel="prev"' in text  # the last page links back only
    assert re.findall(r'<a href="/public/firms/(\d+)">', _in(public, "zh", "/public?q=有限公司&page=9999")) == \
        re.findall(r'<a href="/public/firms/(\d+)">', text)  # past the last page: the last page
    shown = 0
    for page in range(1, -(-in_force // 30) + 1):
        text = _in(public, "en", f"/public/lists?page={page}")
        shown += len(re.findall(r"<tr><td>", text.split('data-testid="public-lists"', 1)[1].split("</table>", 1)[0]))
        assert f"{in_force:,} entries are in their publication period" in text
    assert shown == in_force


def test_colour_codes_count_subjects_and_each_chart_keeps_to_one_model(app: Any, demo: Demo) -> None:
    """The colour counters count subjects, each once by the colour codes' rule (they used
    to add the evaluations of every model: more than the subjects); the page says so.
    The big screen shows one model at a time, its grades in the page's language; every
    chart is an image with a summary and its figures beside it."""
    from creditgov.alerts import colours as colour_codes
    from creditgov.scoring.models import EvaluationRun, Score

    with db.session_scope(demo.url) as s:
        latest: dict[str, int] = {}
        for run_id, model in s.execute(select(EvaluationRun.id, EvaluationRun.model_name)
                                       .where(EvaluationRun.status == "done").order_by(EvaluationRun.id)):
            latest[model] = run_id
        rule = colour_codes.settings().precedence
        order = sorted(latest, key=lambda m: (rule.index(m) if m in rule else len(rule), m))
        colour_of: dict[int, str] = {}
        evaluations = 0
        for model in order:
            for sid, colour in s.execute(select(Score.subject_id, Score.colour).where(Score.run_id == latest[model])):
                evaluations += 1
                colour_of.setdefault(sid, colour)
        subjects = s.execute(select(Subject.id)).all()
    assert evaluations > len(colour_of)  # subjects two models score: adding evaluations counted them twice
    office = _client(app, demo, "credit_office")
    for lang in ("zh", "en"):
        page = _in(office, lang, "/")
        for c in ("green", "yellow", "red"):
            shown = re.search(rf'data-testid="stat-{c}">([\d,]+)<', page)
            assert shown and shown[1] == f"{sum(1 for v in colour_of.values() if v == c):,}", (lang, c)
        rule_text = _visible(page.split('data-testid="colour-rule"', 1)[1].split("</p>", 1)[0])
        assert labels.label("model", order[0], lang) in rule_text
        assert f"{len(subjects) - len(colour_of):,}" in rule_text
    bigscreen = _in(office, "en", "/bigscreen")
    tabs = re.findall(r'href="/bigscreen\?model=([a-z-]+)"', bigscreen)
    assert sorted(tabs) == sorted(latest) and bigscreen.count('aria-current="page"') == 1
    homestay = _in(office, "en", "/bigscreen?model=changxing-homestay")
    donut = json.loads(re.search(r'id="d-grades">(.*?)</script>', homestay, re.S)[1])  # type: ignore[index]
    trend = json.loads(re.search(r'id="d-trend">(.*?)</script>', homestay, re.S)[1])  # type: ignore[index]
    assert set(donut["grades"]) <= {"Excellent", "Good", "Poor"} and donut["grades"]
    assert trend["runs"] and {r["model"] for r in trend["runs"]} == {"changxing-homestay"}
    assert not W.HAN.search(json.dumps(donut, ensure_ascii=False) + json.dumps(trend["order"], ensure_ascii=False))
    with db.session_scope(demo.url) as s:  # a firm the public credit evaluation scored: its file has a waterfall
        firm = s.execute(select(Score.subject_id).where(Score.run_id == latest["public-credit-enterprise"])
                         .order_by(Score.subject_id).limit(1)).scalar_one()
    for path in ("/", "/bigscreen", "/analysis", "/quality", f"/subjects/{firm}"):
        page = _in(office, "en", path)
        charts = re.findall(r'<div class="chart[^>]*>', page)
        assert charts, path
        for tag in charts:
            label = re.search(r'aria-label="([^"]+)"', tag)
            assert 'role="img"' in tag and label and len(label[1]) > 20, (path, tag)
        assert 'class="figures"' in page, path


def test_the_pages_say_in_words_what_they_showed_in_codes(app: Any, demo: Demo) -> None:
    """A model's tree, the quality table, the statistics, a firm's measures, a draw's
    scope, a condition a tier does not require, the bank of a bank's account and the
    form fields a page labels by a placeholder only — as the reviewer found them."""
    office, admin, firm = (_client(app, demo, r) for r in ("credit_office", "admin", "subject"))
    # the model page: every item and veto in words, names in English where they exist
    en, zh = (_in(office, lang, "/models/changxing-homestay@2") for lang in ("en", "zh"))
    vetoes = _visible(en.split('data-testid="vetoes"', 1)[1].split("</ul>", 1)[0])
    assert "Dishonest judgement debtor veto" in vetoes and vetoes.count("grade at most Poor") == 2
    assert "Visitor complaints (−3 each)" in en and "Consumer complaint records (the last year)" in _visible(en)
    for raw in ("[]", '{"months"', "<code>records</code>", "<code>ratio</code>", "<code>assessment</code>",
                "cap_grade", "→ </li>", "→</li>"):
        assert raw not in html.unescape(en), raw
    assert "等级最高为 差" in _visible(zh) and "每条 −3 分" in _visible(zh)
    # quality: times in China Standard Time, counts with separators, the table scrolls on its own
    quality = _in(office, "zh", "/quality")
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", quality) and "北京时间" in quality
    assert '<div class="card scroll"><table data-testid="quality-rows">' in quality
    cells = re.findall(r"<td>([\d,]+)</td>", quality.split('data-testid="quality-rows"', 1)[1].split("</table>")[0])
    assert any("," in c for c in cells) and not [c for c in cells if re.fullmatch(r"\d{4,}", c)]
    stats = _in(office, "zh", "/statistics?period=2026-11")
    values = re.findall(r'data-col="\w+">([\d,]+)</td>', stats)
    assert any("," in v for v in values) and not [v for v in values if re.fullmatch(r"\d{4,}", v)]
    assert stats.count('<div class="scroll"><table') == stats.count("<table")
    # a listed firm's measures name their departments in English
    with db.session_scope(demo.url) as s:
        listed = list(s.execute(select(ListEntry.subject_id).join(Subject, Subject.id == ListEntry.subject_id)
                                .where(ListEntry.status == "published", ListEntry.list_code == "serious-dishonesty",
                                       Subject.kind == "enterprise")).scalars())
    cards = [_in(office, "en", f"/subjects/{sid}").split("Applicable joint measures", 1)[1].split('<div class="card">')[0]
             for sid in listed[:3]]
    assert any("<li>" in c for c in cards) and not any(W.HAN.search(_visible(c)) for c in cards)
    # a draw limited to merchants in e-commerce names its scope in words
    page = _in(office, "zh", "/supervision")
    form = page.split('data-testid="draw-form"', 1)[1]
    fields = dict(re.findall(r'name="(form_key|csrf_token)" value="([^"]+)"', form))
    r = office.post("/supervision/draws", data={**fields, "policy": "lindian-enterprise", "kind": "merchant",
                                                "industry": "ecommerce", "seed": "7"})
    assert r.status_code == 303, r.text
    scope = {lang: _visible(_in(office, lang, r.headers["location"])) for lang in ("zh", "en")}
    assert "主体类型: 个体工商户/商户；行业: 电子商务" in scope["zh"]
    assert "Subject kind: Individual business or merchant; Industry: E-commerce" in scope["en"]
    # a repair condition the tier does not require is not "not met"
    for lang, no in (("zh", "✗"), ("en", "Not met")):
        own = _in(firm, lang, "/me/credit")
        rows = re.findall(r'<tr data-testid="condition-training">(.*?)</tr>', own, re.S)
        assert rows and all(no not in r and "✗" not in r for r in rows), lang
    # a bank's account is scoped to its bank, by name; placeholders are labelled too
    users_page = _in(admin, "en", "/admin/users")
    with db.session_scope(demo.url) as s:
        bank_name = s.execute(select(Bank.name).where(Bank.code == DEMO_BANK)).scalar_one()
    row = next(r for r in users_page.split("<tr>") if f"<code>{demo.accounts['bank_officer']['username']}</code>" in r)
    assert bank_name in row and DEMO_BANK not in _visible(row)
    alerts = _in(office, "zh", "/alerts")
    for page, name in ((users_page, "name"), (alerts, "resolution")):
        ids = re.findall(rf'<input id="([^"]+)" name="{name}"', page)
        assert ids and all(f'<label class="visually-hidden" for="{i}">' in page for i in ids), name
        assert len(ids) == len(re.findall(rf'<input[^>]* name="{name}"', page))
