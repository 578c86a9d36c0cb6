"""Reading the app's pages in the lists, measures, exchange and workflows tests: a real
application over the test's store, a credit-office account, a page in one language as
a person sees it (visible text) and as sent (HTML, to find what is escaped)."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from markupsafe import escape

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web import i18n

_seq = itertools.count(1)
HAN = re.compile(r"[\u3400-\u9fff\u3001\u3002\u3008-\u3017\uff08\uff09\uff0c\uff1a\uff1b]+")  # Han and CJK punctuation


@dataclass
class Site:
    client: TestClient
    headers: dict[str, str]

    def get(self, path: str, lang: str) -> str:
        """The page's HTML in `lang`, asserting it was served."""
        self.client.cookies.set(i18n.LANG_COOKIE, lang)
        r = self.client.get(path, headers=self.headers)
        assert r.status_code == 200, (path, lang, r.status_code, r.text[:500])
        return r.text

    def post(self, path: str, lang: str, form: dict[str, str]) -> str:
        self.client.cookies.set(i18n.LANG_COOKIE, lang)
        r = self.client.post(path, data=form, headers=self.headers)
        assert r.status_code == 200, (path, lang, r.status_code, r.text[:500])
        return r.text


def site(url: str, folder: Path) -> Site:
    """The application over `url`, read as a credit-office account (a fresh one per call,
    so a module's shared store takes several)."""
    key = folder / f"pages-{next(_seq)}.key"
    create_key_file(key)
    name = f"office{next(_seq)}"
    with db.session_scope(url) as s:
        u = users.create_user(s, username=name, password=None, role="credit_office", actor="test")
        token = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
    return Site(TestClient(create_app(url, key), base_url="https://testserver"), {"Authorization": f"Bearer {token}"})


def seen(page: str) -> str:
    """What a person sees of the page's main part: its visible text, spaces folded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", text.split("<main", 1)[-1]).split()))


def part(page: str, testid: str) -> str:
    """The visible text of the element marked `data-testid=testid` (its first one)."""
    m = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>', page, re.S)
    assert m, f"no {testid!r} on the page"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", m.group(2)).split()))


def escaped(text: str) -> str:
    """`text` as a page carries it (Jinja's escaping)."""
    return str(escape(text))
