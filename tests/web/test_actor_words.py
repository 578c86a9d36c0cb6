"""Who did something, in words (`security.labels.actor_label`, the pages' `|actor`
filter): an account by its display name from the store (SQLite and PostgreSQL), else
"账户 <name>" / "account <name>"; the command line, the worker's jobs, the system's parts
and a warning rule by what they are; anything else as written."""

from __future__ import annotations

import pytest

from creditgov import bootstrap
from creditgov.core import db, labels
from creditgov.security import users as user_service
from creditgov.security.labels import actor_label
from creditgov.web import i18n, render

HOSTILE = "<b>王科长</b> “引号” \u202e😀 {name}"


@pytest.mark.parametrize(("actor", "zh", "en"), [
    ("cli:root", "命令行（root）", "command line (root)"),
    ("user:office", "账户 office", "account office"),
    ("worker:list-expiry", "定时任务（list-expiry）", "scheduled job (list-expiry)"),
    ("system:outbox", "系统（outbox）", "system (outbox)"),
    ("rule:court-dishonest-debtor", "预警规则（新增失信被执行人）", "warning rule (New dishonest judgement debtor)"),
    ("public", "公众", "the public"),
    ("exchange", "数据交换", "data exchange"),
    ("test", "test", "test"),
    ("nobody:knows", "nobody:knows", "nobody:knows"),
    ("user:", "user:", "user:"),
    ("", "", ""),
    (None, "", ""),
])
def test_actor_shapes_in_both_languages(actor: str | None, zh: str, en: str) -> None:
    bootstrap.wire()
    with labels.store(None):
        assert actor_label(actor, "zh") == zh
        assert actor_label(actor, "en") == en


def test_an_account_reads_as_its_display_name(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        user_service.create_user(s, username="office", password=None, role="credit_office", display_name=HOSTILE,
                                 actor="test")
    labels.clear()
    with labels.store(store):
        assert actor_label("user:office", "zh") == HOSTILE == actor_label("user:office", "en")
        assert actor_label("user:someone-else", "en") == "account someone-else"
        assert actor_label("cli:office", "zh") == "命令行（office）"  # a command's user is not the account
        # the pages' filter says it in the page's language, and the template escapes it
        token = i18n.current.set("en")
        try:
            assert render.actor("user:nobody") == "account nobody"
            assert render.templates.env.from_string("{{ a|actor }}").render(a="user:office") == (
                "&lt;b&gt;王科长&lt;/b&gt; “引号” \u202e😀 {name}")
        finally:
            i18n.current.reset(token)
