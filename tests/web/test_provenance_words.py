"""A credit file's provenance line names the source a record came from by the source's
name (its spec's title, else its department and the kind of data), not by the spec's
code, in the page's language; the batch, spec version and line are kept for those who
trace rows — the office (ingestion pages) and a department for its own records — and
left out for the others (SQLite and PostgreSQL, the mini county ingested for real)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import db, labels
from creditgov.ingest import service as ingest_service
from creditgov.records.models import CreditRecord
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web.i18n import LANG_COOKIE


def _lines(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", x) for x in re.findall(r'data-testid="provenance">(.*?)(?:<br>|</span>)', html, re.S)]


def test_the_provenance_line_names_the_source(store: str, mini: Path, tmp_path: Path) -> None:
    key = tmp_path / "prov.key"
    ring = create_key_file(key)
    ingest_service.ingest_paths(store, ring, [mini], actor="test")
    with db.session_scope(store) as s:
        firm, source = s.execute(select(CreditRecord.subject_id, CreditRecord.source)
                                 .where(CreditRecord.department_code == "market").limit(1)).one()
        heads = {}
        for name, role, scope in (("office", "credit_office", {}), ("mkt", "department_officer",
                                                                     {"department_code": "market"}),
                                  ("insp", "inspector", {"region_code": "CX-S01"})):
            u = users.create_user(s, username=name, password=None, role=role, actor="test", **scope)
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}",
                           "accept": "text/html"}
    client = TestClient(create_app(store, key), base_url="https://testserver")
    with labels.store(store):
        dept = {lang: labels.label("department", "market", lang) for lang in ("zh", "en")}
    for lang, word in (("zh", "批次"), ("en", "Batch")):
        client.cookies.set(LANG_COOKIE, lang)
        for who, traced in (("office", True), ("mkt", True), ("insp", False)):
            page = client.get(f"/subjects/{firm}", headers=heads[who])
            assert page.status_code == 200, (who, page.status_code)
            lines = _lines(page.text)
            assert lines, who
            for line in lines:
                assert source not in line and "<code>" not in line, line
                assert dept[lang] in line, line  # the source's name: its department and kind
                assert (word in line) is traced, (who, line)
