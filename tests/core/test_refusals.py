"""Refusals in the reader's language: every error a service raises with a `code` is in
the label catalogue (kind "refusal") in Chinese and English, naming only params the
raise gives and label kinds the catalogue has; the catalogue names no code nothing
raises; a page says a coded refusal from the catalogue and an uncoded one in its
status's sentence with the service's own words after it."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from creditgov import bootstrap
from creditgov.core import labels
from creditgov.core.errors import Conflict, InvalidInput, NotFound, ServerFault
from creditgov.security.scopes import Forbidden
from creditgov.web import i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "creditgov"


def _raised() -> dict[str, list[tuple[str, set[str] | None]]]:
    """code -> [(where, the params' keys, or None when not a literal dict)] of every raise."""
    out: dict[str, list[tuple[str, set[str] | None]]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            kw = {k.arg: k.value for k in node.exc.keywords if k.arg}
            code = kw.get("code")
            if code is None:
                continue
            assert isinstance(code, ast.Constant) and isinstance(code.value, str), \
                f"{path}:{node.lineno}: a refusal's code is a literal, so the catalogue can be checked"
            params = kw.get("params")
            keys: set[str] | None = set()
            if isinstance(params, ast.Dict):
                keys = {k.value for k in params.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            elif params is not None:
                keys = None
            out.setdefault(code.value, []).append((f"{path.relative_to(SRC)}:{node.lineno}", keys))
    return out


def test_every_coded_refusal_is_in_the_catalogue_in_both_languages() -> None:
    bootstrap.wire()
    catalogue = labels.names(labels.REFUSAL)
    raised = _raised()
    assert len(raised) >= 50, sorted(raised)
    missing = sorted(set(raised) - set(catalogue))
    assert not missing, f"coded refusals without words in the catalogue: {missing}"
    unused = sorted(set(catalogue) - set(raised))
    assert not unused, f"words in the catalogue for codes nothing raises: {unused}"
    kinds = set(labels.known_codes()) | {"department"}
    for code, (zh, en) in catalogue.items():
        assert zh.strip() and en.strip() and zh != en, code
        for text in (zh, en):
            for _lit, name, spec, _conv in string.Formatter().parse(text):
                if name and spec:
                    assert spec in kinds, f"{code}: no label kind {spec!r}"
        for where, keys in raised[code]:
            if keys is not None:
                assert labels.placeholders(zh) | labels.placeholders(en) <= keys, \
                    f"{where}: {code} names {labels.placeholders(zh) | labels.placeholders(en)}, the raise gives {keys}"


def test_a_coded_refusal_is_said_from_the_catalogue() -> None:
    bootstrap.wire()
    markup = "<b>O'Brien</b> “引号” \u202e😀"
    exc = Conflict("complaint X was already answered", code="complaints.answered", params={"number": markup})
    assert i18n.refusal(exc, "zh") == f"投诉 {markup} 已经答复。"
    assert i18n.refusal(exc, "en") == f"Complaint {markup} was already answered."
    # a param that is a code is said by its label
    done = InvalidInput("record 7 is already repaired", code="workflows.repair.done",
                        params={"record": 7, "status": "repaired"})
    assert (i18n.refusal(done, "zh"), i18n.refusal(done, "en")) == ("记录 #7 已是“已修复”状态。",
                                                                   "Record #7 is already “Repaired”.")
    # the error page and the API's message take the same words
    assert i18n.error_text(409, str(exc), "zh", code=exc.code, params=exc.params) == ("与当前状态冲突",
                                                                                   f"投诉 {markup} 已经答复。", None)


def test_a_fault_or_a_forbidden_refusal_gets_its_own_sentence() -> None:
    bootstrap.wire()
    fault = ServerFault("the files folder /srv/creditgov/files on db1.county.internal is not writable")
    assert i18n.refusal(fault, "zh") == "系统出现内部错误，管理员可在服务器日志中查到原因。"
    assert "/srv" not in i18n.refusal(fault, "en") and "db1" not in i18n.refusal(fault, "zh")
    no = Forbidden("draw 3 is an inspection of department market")
    assert i18n.refusal(no, "zh").startswith("您的角色没有此项权限") and str(no) in i18n.refusal(no, "zh")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_uncoded_or_unfillable_refusal_keeps_the_services_words(lang: str) -> None:
    bootstrap.wire()
    plain = InvalidInput("a selection needs a title")
    short = NotFound("no current record 'X' in this subject's file", code="workflows.record.no_such")  # no params
    unknown = Conflict("something new", code="nobody.knows.this")
    if lang == "en":
        assert [i18n.refusal(e, "en") for e in (plain, short, unknown)] == [str(plain), str(short), str(unknown)]
    else:
        assert i18n.refusal(plain, "zh") == "提交的内容不符合要求，请检查后重试。（a selection needs a title）"
        assert i18n.refusal(short, "zh").startswith("您要找的内容不存在") and str(short) in i18n.refusal(short, "zh")
        assert i18n.refusal(unknown, "zh") == "该操作与对象当前的状态冲突，请刷新后重试。（something new）"
    assert labels.say("workflows.record.no_such", {}, lang) is None


def test_one_status_table_for_the_api_and_the_pages() -> None:
    """Each error class carries its status; the API's problem and a page's refusal both
    read it (`status_of`), so a refusal cannot be 409 in one and 422 in the other."""
    from fastapi.testclient import TestClient

    from creditgov.api.ratelimit import RateLimited
    from creditgov.core.errors import IntegrityError, status_of
    from creditgov.security.attempts import TooManyAttempts
    from creditgov.security.scopes import SignInIncomplete, Unauthenticated
    from creditgov.workflows.common import AlreadyDecided

    cases = [(NotFound("x"), 404), (InvalidInput("x"), 422), (Conflict("x"), 409), (IntegrityError("x"), 409),
             (AlreadyDecided("x"), 409), (Forbidden("x"), 403), (SignInIncomplete("code"), 403),
             (Unauthenticated("x"), 401), (TooManyAttempts("x", 5), 429), (RateLimited(5), 429),
             (ServerFault("x"), 500), (ValueError("x"), 500)]
    assert [status_of(e) for e, _ in cases] == [s for _, s in cases]
    # the API answers with that status, with the code and the reader's words
    from fastapi import FastAPI

    from creditgov.api import problems

    app = FastAPI()
    problems.install(app)
    raised: list[Exception] = []

    @app.get("/api/x")
    def _x() -> None:
        raise raised[-1]

    client = TestClient(app, raise_server_exceptions=False)
    for exc, status in cases[:8]:
        raised.append(exc)
        assert client.get("/api/x").status_code == status, exc
    raised.append(Conflict("not enough points", code="points.balance.short", params={"have": 20, "price": 50}))
    r = client.get("/api/x", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409 and r.json()["code"] == "points.balance.short"
    assert r.json()["message"] == i18n.refusal(raised[-1], "zh") == "积分不足：现有 20 分，需要 50 分。"
